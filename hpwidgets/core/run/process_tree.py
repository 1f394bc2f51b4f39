"""A trial's whole process tree, whatever sessions or process groups its processes made.

A trial's bootstrap (``bootstrap.py``) makes itself a child subreaper (Linux's
``PR_SET_CHILD_SUBREAPER``) and runs the script in a forked child: a process that leaves the
trial's process group (``setsid()``) or is orphaned by a double fork is re-parented to the
bootstrap rather than to init, so it stays in the bootstrap's tree, where ``descendants`` finds
it and ``kill_tree`` ends it. ``killpg`` alone cannot reach a new session.

Kept to the standard library, and to its cheapest parts: the bootstrap imports this file by its
path in every trial's subreaper, before anything of hpwidgets could be imported.
"""

import os

try:  # the C module under signal: the same calls and numbers without signal's enum (7 ms a trial)
    import _signal as signal
except ImportError:  # pragma: no cover - an interpreter without it
    import signal

_PR_SET_PDEATHSIG, _PR_SET_CHILD_SUBREAPER = 1, 36
# The pid of the process that starts a trial which must not outlive it (a Dask worker, which
# can die): the subreaper then ends the trial's tree when that process is gone.
END_WITH_PARENT = "HPWIDGETS_END_WITH_PARENT"
_ROUNDS = 20  # kill passes: a process forking while we kill it leaves a child for the next pass


def _prctl(option: int, value: int) -> bool:
    try:  # ctypes' C core alone: the same call (ints passed as C ints) without ctypes' 2 ms import
        import _ctypes

        prctl = _ctypes.dlsym(_ctypes.dlopen(None, os.RTLD_NOW), "prctl")
        return _ctypes.call_function(prctl, (option, value, 0, 0, 0)) == 0
    except (ImportError, OSError, AttributeError):  # an interpreter without them, or not Linux
        pass
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):  # not Linux
        return False


def become_subreaper(parent: int | None = None) -> bool:
    """Make this process adopt its orphaned descendants; False where the system cannot. With
    ``parent``, also have SIGHUP sent to it when that parent ends (``supervise`` then ends the
    tree), and SIGHUP at once if it already has."""
    if parent is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGHUP)
        if os.getppid() != parent:  # it died before we asked
            os.kill(os.getpid(), signal.SIGHUP)
    return _prctl(_PR_SET_CHILD_SUBREAPER, 1)


def children(pid: int) -> list[int]:
    """The live children of ``pid`` (every thread's), [] when it is gone or unreadable."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", "rb") as fh:
                found += [int(p) for p in fh.read().split()]
        except (OSError, ValueError):
            continue
    return found


def descendants(pid: int) -> list[int]:
    """Every process under ``pid``, parents before their children."""
    found, queue = [], children(pid)
    while queue:
        child = queue.pop(0)
        found.append(child)
        queue += children(child)
    return found


def signal_tree(pid: int, sig: int) -> bool:
    """Send ``sig`` to every descendant of ``pid`` (not to ``pid``); True if there were any."""
    found = descendants(pid)
    for child in found:
        try:
            os.kill(child, sig)
        except (ProcessLookupError, PermissionError):
            pass
    return bool(found)


def kill_tree(pid: int) -> None:
    """SIGKILL every descendant of ``pid``, again while new ones appear (``pid`` itself lives)."""
    for _ in range(_ROUNDS):
        if not signal_tree(pid, signal.SIGKILL):
            return


def _pass_on(sig: int, _frame: object) -> None:
    """Send ``sig`` to the descendants outside our process group: those in it had it from killpg."""
    group = os.getpgid(0)
    for pid in descendants(os.getpid()):
        try:
            if os.getpgid(pid) != group:
                os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def supervise(child: int) -> int:
    """In the subreaper: reap adopted orphans until ``child`` ends, then end every descendant.

    Returns ``child``'s wait status. SIGHUP (the parent that must not be outlived is gone)
    SIGKILLs the tree. SIGTERM (the trial's group is being stopped) is passed on
    to every descendant, those in other sessions too; the caller's SIGKILL, sent to the tree
    with ``kill_tree``, ends the rest.
    """
    signal.signal(signal.SIGTERM, _pass_on)
    signal.signal(signal.SIGHUP, lambda *_: signal_tree(os.getpid(), signal.SIGKILL))  # our parent is gone
    status = 0
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if pid == child:
            break
    while True:  # the trial is over: end the rest, reaping as they go
        signal_tree(os.getpid(), signal.SIGKILL)
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return status


def exit_as(status: int) -> None:
    """End this process the way a child with wait status ``status`` ended."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)
