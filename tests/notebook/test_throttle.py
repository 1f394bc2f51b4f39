"""The refresh throttle on a clock the test advances: no sleeps, no counting after a guess."""

import threading

from hpwidgets.notebook.throttle import Throttle
from tests.support.clock import ManualClock
from tests.support.waiting import wait_for


def test_throttle_coalesces_pokes_waits_its_interval_and_stops_on_close():
    clock, calls, gate = ManualClock(), [], threading.Event()

    def refresh():
        calls.append(clock.monotonic())
        gate.wait(30)

    throttle = Throttle(refresh, interval=0.05, pause=clock.wait)
    throttle.poke()
    wait_for(lambda: calls, "the first refresh")
    for _ in range(100):
        throttle.poke()  # arrive while the first refresh runs: one more refresh, not a hundred
    gate.set()
    wait_for(lambda: clock.waiting == 1, "the pause after the first refresh")
    assert calls == [0.0]  # nothing more until the interval has passed
    clock.advance(0.04)
    assert calls == [0.0] and clock.waiting == 1
    clock.advance(0.01)
    wait_for(lambda: len(calls) == 2, "the second refresh, once the interval passed")
    wait_for(lambda: clock.waiting == 1, "the pause after the second refresh")
    throttle.close()  # ends the pause at once and joins the thread
    throttle.poke()
    assert calls == [0.0, 0.05] and clock.waiting == 0


def test_a_failing_refresh_does_not_end_the_thread(capsys):
    clock, calls = ManualClock(), []

    def refresh():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")

    throttle = Throttle(refresh, interval=0.0, pause=clock.wait)
    throttle.poke()
    wait_for(lambda: calls, "the first refresh")
    throttle.poke()
    wait_for(lambda: len(calls) == 2, "a refresh after the failing one")
    throttle.close()
    assert len(calls) == 2
    assert "RuntimeError: boom" in capsys.readouterr().err
