"""Trials cannot hang a batch, and their flag values stay off the command line.

Real subprocess trials (children left in the group, a double-forked daemon holding stdout,
scripts that ignore SIGTERM), a real `hpw run` sent real signals, a real store on disk.
"""

import json
import os
import signal
import subprocess
import sys

import pytest

import hpwidgets as hp
from hpwidgets.core.run.cancel import CancelToken
from hpwidgets.core.run.executors.subprocess_group import run_group
from hpwidgets.core.run.scripts import SPEC_FILE
from hpwidgets.core.store.runstore import Store
from tests.helpers import group_alive, pid_alive
from tests.support.waiting import wait_for

# The trial exits at once, leaving `sleep 50` in its process group with its stdout.
LEAVES_A_CHILD = (
    "import subprocess\n"
    "x = 0\n"
    "child = subprocess.Popen(['sleep', '50'])\n"
    "open('child-%d' % x, 'w').write(str(child.pid))\n"
    "print('loss:', x)\n"
)

# The trial double-forks a daemon (its own session) that keeps the trial's stdout open.
DAEMON = (
    "import os, time\n"
    "x = 0\n"
    "if os.fork() == 0:\n"
    "    os.setsid()\n"
    "    if os.fork() == 0:\n"
    "        open('daemon-%d' % x, 'w').write(str(os.getpid()))\n"
    "        time.sleep(50)\n"
    "    os._exit(0)\n"
    "os.wait()\n"
    "print('loss:', x)\n"
)

# Ignores SIGTERM and leaves a child in its group: only SIGKILL of the group ends it.
STUBBORN = (
    "import os, signal, subprocess, time\n"
    "x = 0\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "subprocess.Popen(['sleep', '50'])\n"
    "open('pgid-%d' % x, 'w').write(str(os.getpgid(0)))\n"
    "time.sleep(50)\n"
)


def _finish_or_stop(batch, seconds: float) -> bool:
    """Wait for a background batch; stop it when it overruns so the test fails fast."""
    batch.wait(seconds)
    done = batch.done
    if not done:
        batch.stop()
        batch.wait(120)
    return done


def test_a_child_left_in_the_group_is_killed_when_the_trial_exits(home, write_script):
    path = write_script(LEAVES_A_CHILD)
    batch = hp.run(path, flags={"x": [1, 2]}, timeout=3, background=True)
    assert _finish_or_stop(batch, 10)  # each child sleeps 50 s
    assert [(r.status.value, r.scalars["loss"]) for r in batch.runs] == [("completed", 1.0), ("completed", 2.0)]
    for r in batch.runs:
        pid = int(open(os.path.join(Store().run_dir(r.id), f"child-{r.flags['x']}")).read())
        wait_for(lambda pid=pid: not pid_alive(pid), "the trial's child exiting", 5)


def test_a_daemon_holding_stdout_does_not_block_the_batch_and_ends_with_its_trial(home, write_script):
    path = write_script(DAEMON.replace("os.wait()\n", "os.wait()\nwhile not os.path.exists('daemon-%d' % x): pass\n"))
    batch = hp.run(path, flags={"x": [1, 2]}, background=True)
    assert _finish_or_stop(batch, 10)  # each daemon sleeps 50 s
    assert [(r.status.value, r.scalars["loss"]) for r in batch.runs] == [("completed", 1.0), ("completed", 2.0)]
    for r in batch.runs:
        pid = int(open(os.path.join(Store().run_dir(r.id), f"daemon-{r.flags['x']}")).read() or 0)
        assert wait_for(lambda pid=pid: not pid_alive(pid), "the daemon ending with its trial", 5)


@pytest.mark.parametrize("closes_output", [False, True])
def test_timeout_ends_a_trial_that_ignores_sigterm(home, write_script, closes_output):
    path = write_script(STUBBORN.replace("time.sleep(50)", "os.close(1); os.close(2); time.sleep(50)")
                        if closes_output else STUBBORN)
    batch = hp.run(path, flags={"x": [1, 2]}, timeout=1, background=True)
    assert _finish_or_stop(batch, 10)
    assert [(r.status.value, r.reason) for r in batch.runs] == [("failed", "timed out after 1 s")] * 2
    for r in batch.runs:
        pgid = int(open(os.path.join(Store().run_dir(r.id), f"pgid-{r.flags['x']}")).read())
        wait_for(lambda pgid=pgid: not group_alive(pgid), "the timed-out trial's process group ending", 5)


# A grandchild in a session of its own and a double-forked daemon, each writing its pid file
# (in the run directory) before the trial goes on; trials with x > 1 then hang at each step.
ESCAPES = """
import os, sys, time
x = 1

def escape(name, double):
    ready, tell = os.pipe()
    if os.fork() == 0:
        os.setsid()  # killpg of the trial's group cannot reach it
        if double and os.fork() != 0:
            os._exit(0)  # the daemon is orphaned
        with open(name, "w") as fh:
            fh.write(str(os.getpid()))
        os.write(tell, b".")
        time.sleep(300)
        os._exit(0)
    os.read(ready, 1)

escape("grandchild-%d" % x, False)
escape("daemon-%d" % x, True)
for step in range(1, 4):
    print(f"loss: {x} (step {step})", flush=True)
    if x > 1:
        time.sleep(300)
"""


def _escaped(run_dir: str, x: int) -> list[int]:
    return [int(open(os.path.join(run_dir, f"{kind}-{x}")).read()) for kind in ("grandchild", "daemon")]


@pytest.mark.parametrize("end", ["exit", "timeout", "stop", "prune"])
def test_a_setsid_grandchild_and_a_double_forked_daemon_end_with_their_trial(home, write_script, end):
    path = write_script(ESCAPES)
    options = {"exit": {"flags": {"x": 1}}, "timeout": {"flags": {"x": 5}, "timeout": 2},
               "stop": {"flags": {"x": 5}}, "prune": {"flags": {"x": [1, 5]}, "prune": "median",
                                                       "prune_flags": {"min-trials": 1}}}[end]
    batch = hp.run(path, background=True, **options)
    escaped: list[int] = []
    try:
        if end == "stop":
            wait_for(lambda: batch.runs and os.path.exists(
                os.path.join(Store().run_dir(batch.runs[0].id), "daemon-5")), "the trial's daemon writing its pid", 30)
            batch.stop()
        assert _finish_or_stop(batch, 20)
        run = batch.runs[-1]
        escaped = _escaped(Store().run_dir(run.id), run.flags["x"])
        assert (run.status.value, run.reason) == {
            "exit": ("completed", None), "timeout": ("failed", "timed out after 2 s"),
            "stop": ("terminated", "stopped before it finished"), "prune": ("pruned", "pruned at step 1")}[end]
        wait_for(lambda: all(not pid_alive(pid) for pid in escaped), "every descendant ending with its trial", 5)
    finally:
        for pid in escaped:
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_to_hpw_run_act_as_ctrl_c(home, write_script, sig, code):
    path = write_script(STUBBORN.replace("x = 0\n", "x = 0\nif x == 0: print('loss: 0'); raise SystemExit\n"))
    proc = subprocess.Popen([sys.executable, "-m", "hpwidgets.cli", "run", path, "x=[0,1,2,3]", "-y",
                             "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    runs = home / "runs"

    def pgid_files():
        return sorted(runs.glob("*/pgid-*")) if runs.exists() else []

    wait_for(lambda: len(pgid_files()) == 2 and all(p.stat().st_size for p in pgid_files()),
             "both trials writing their process group", 30)
    pgids = [int(p.read_text()) for p in pgid_files()]
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=10)  # the trials ignore SIGTERM and sleep 50 s
        wait_for(lambda: not any(group_alive(pgid) for pgid in pgids),
                 "every trial's process group ending", 5)
    finally:
        if proc.poll() is None:
            proc.kill()
        for pgid in pgids:
            if group_alive(pgid):
                os.killpg(pgid, signal.SIGKILL)
    assert proc.returncode == code
    assert err.splitlines()[-1] == "hpw run: stopped; 1 finished runs kept, the running ones terminated"
    # what the run directories say, before any command reads (and reaps) the store
    records = [json.loads(p.read_text()) for p in runs.glob("*/run.json")]
    assert sorted((r["flags"]["x"], r["status"]) for r in records) == [
        (0, "completed"), (1, "terminated"), (2, "terminated")]


SECRET = "sk-live-5b1e0c9d"


@pytest.mark.parametrize("source", [
    "api_key = ''\n",
    "import argparse\np = argparse.ArgumentParser()\np.add_argument('--api-key', default='')\n"
    "api_key = p.parse_args().api_key\n",
])
def test_flag_values_never_reach_the_command_line(home, write_script, source):
    path = write_script(source + "cmd = open('/proc/self/cmdline', 'rb').read()\n"
                        f"open('cmdline', 'wb').write(cmd)\nprint('loss: 1' if api_key == {SECRET!r} else 'wrong')\n")
    batch = hp.run(path, flags={"api_key": SECRET})
    assert batch.runs[0].status.value == "completed"
    run_dir = Store().run_dir(batch.runs[0].id)
    argv = open(os.path.join(run_dir, "cmdline"), "rb").read().split(b"\0")
    # `ps` reads as the script it runs: python .../hpwidgets/core/run/bootstrap.py /path/script.py SPEC
    assert argv[1].endswith(b"/hpwidgets/core/run/bootstrap.py") and argv[2] == path.encode()
    assert not any(SECRET.encode() in arg for arg in argv)
    assert SPEC_FILE not in os.listdir(run_dir)  # the private file that carried them is gone


def test_a_giant_line_is_kept_in_pieces_and_never_held_whole(tmp_path):
    from hpwidgets.core.run.executors.subprocess_group import MAX_LINE

    script = tmp_path / "giant.py"
    script.write_text("import sys\nfor _ in range(64):\n    sys.stdout.write('a' * 65536)\n"
                      "print()\nprint('loss: 1')\n")
    lines: list[str] = []
    code, killed = run_group([sys.executable, str(script)], str(tmp_path), dict(os.environ), lines.append,
                             CancelToken(), None)
    assert (code, killed) == (0, None)
    assert max(len(line) for line in lines) == MAX_LINE
    assert "".join(lines[:-1]) == "a" * 64 * 65536
    assert lines[-1] == "loss: 1"


def test_a_100_mb_line_stays_out_of_memory(home, write_script):
    path = write_script("import sys\nx = 1\nfor _ in range(100):\n    sys.stdout.write('a' * 1000000)\n"
                        "print()\nprint('loss:', x)\n")
    # `hpw run`, reporting its own peak memory (VmHWM: this process only, counted from its exec)
    peak = ("import sys\nfrom hpwidgets.cli import main\ncode = main(sys.argv[1:])\n"
            "print(open('/proc/self/status').read().split('VmHWM:')[1].split()[0], file=sys.stderr)\n"
            "sys.exit(code)\n")
    proc = subprocess.run([sys.executable, "-c", peak, "run", path, "-y"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stderr.split()[-1]) < 100_000  # kB (29 MB now); 508 MB when the line was read whole
    run = Store().runs()[0]
    assert (run.status.value, run.scalars) == ("completed", {"loss": 1.0})
    with open(os.path.join(Store().run_dir(run.id), "output.log")) as fh:
        assert sum(line.count("a") for line in fh) == 100_000_000


def test_escaped_descendants_end_when_a_detached_batch_with_two_workers_is_stopped(home, write_script):
    from tests.helpers import hpw

    path = write_script(ESCAPES)
    started = hpw("run", path, "x=[5,6]", "--workers", "2", "--detach", "-y")
    assert started.returncode == 0, started.stderr
    store = Store()

    def pid_files() -> list[str]:
        return [os.path.join(store.run_dir(r.id), f"{kind}-{r.flags['x']}") for r in store.runs()
                for kind in ("grandchild", "daemon")]

    escaped: list[int] = []
    try:
        assert wait_for(lambda: len(pid_files()) == 4 and all(os.path.exists(p) and os.path.getsize(p) for p in pid_files()),
                        "four pid files written", 30)
        escaped = [int(open(p).read()) for p in pid_files()]
        stopped = hpw("stop", store.runs()[0].batch[:8])
        assert (stopped.returncode, stopped.stderr) == (0, "")
        assert sorted(r.status.value for r in store.runs()) == ["terminated", "terminated"]
        assert wait_for(lambda: all(not pid_alive(pid) for pid in escaped), "every escaped descendant ending", 5), "a descendant outlived its trial"
    finally:
        for pid in escaped:
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
