"""``python -m hpwidgets.supervise STORE BATCH_ID [ANSWER_FD]``: run a detached batch.

Started by detach.py as ``python -m hpwidgets.supervise - ANSWER_FD``: the store and the batch
then come from ``HPWIDGETS_HOME`` and ``HPWIDGETS_SUPERVISE_BATCH`` (a process's environment is
its user's to read; its command line is everyone's).

Started by core/processes/detach.py in a session of its own. It prepares the batch from its manifest as
``--resume`` does (a new batch has no finished trials yet), runs it as ``hpw run -y`` does
(SIGTERM stops it as Ctrl-C does), appends every event to ``batches/<id>.events`` and says
``ok`` (or one error line) on ANSWER_FD once its first trial is recorded (or it has none to run). Its own output goes to
``batches/<id>.log``.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any


def main(argv: list[str]) -> int:
    from hpwidgets.cli import Signalled, stop_on_hangup
    from hpwidgets.console import echo_to
    from hpwidgets.core.errors import HpwError, StoreError
    from hpwidgets.core.processes import detach
    from hpwidgets.core.processes.event_log import EventLog
    from hpwidgets.core.run.batch import resume
    from hpwidgets.core.run.events import BatchStarted, TrialStarted
    from hpwidgets.core.store.runstore import Store

    if argv[:1] == ["-"]:
        root, batch_id = os.environ["HPWIDGETS_HOME"], os.environ.pop(detach.BATCH_ENV)  # not the trials'
        argv = [root, batch_id, *argv[1:]]
    root, batch_id = argv[0], argv[1]
    answer = os.fdopen(int(argv[2]), "w") if len(argv) > 2 else sys.stderr
    said: list[str] = []

    def say(text: str) -> None:  # once: the launcher reads one line
        if not said:
            said.append(text)
            print(text, file=answer, flush=True)
            if answer is not sys.stderr:
                answer.close()

    stop_on_hangup()
    try:
        store = Store(root)
        batch = resume(batch_id, store, want_model=True)
        log = EventLog(store.batches_dir, batch.id)
    except HpwError as exc:
        say(f"error: {exc}")
        return 1
    except Signalled as exc:
        return 128 + exc.signum
    # critical, as the store is: a batch whose record cannot be written stops, and before the
    # answer, so a full disk is the launcher's one error line, never a detached batch that ran nothing
    batch.events.subscribe(log, critical=True)

    def ready(event: Any) -> None:
        if isinstance(event, BatchStarted):
            detach.write_owner(store, batch.id)  # the lock is held now: `hpw stop` may signal us
        if isinstance(event, TrialStarted):  # its first trial recorded, in the store and the log
            say("ok")

    batch.events.subscribe(ready, critical=True)
    echo_to(batch, sys.stdout)
    try:
        batch.start()
        say("ok")  # it had no trial left to run
    except Signalled as exc:
        print(f"hpw supervise: stopped; {batch.snapshot().counts().done} finished runs kept, "
              "the running ones terminated", file=sys.stderr)
        return 128 + exc.signum
    except (HpwError, OSError) as exc:  # an OSError: its own output (the log) could not be written
        error = exc if isinstance(exc, HpwError) else StoreError.writing(exc, detach.log_path(store, batch.id))
        say(f"error: {error}")
        try:
            print(f"hpw supervise: error: {error}", file=sys.stderr)
        except OSError:
            pass
        return 1
    finally:
        log.close()
        say("error: the batch ended before it started")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main(sys.argv[1:]))
