import os
import shutil
import signal
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(REPO, "examples")

# Python's bytecode cache, even where the environment turns it off (PYTHONDONTWRITEBYTECODE, set on
# some CI and sandbox machines): the tests start hundreds of interpreters (`hpw` calls, kernels,
# servers, the fresh venvs' jupyter commands), and each compiled every module it imported again,
# 40 ms of an `hpw runs`' 130. Set here, before any worker or subprocess starts: all inherit it.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False


# Run in parallel (bash tests/run.sh: pytest-xdist, one worker a CPU, --dist loadgroup), the tests
# that share a costly session resource keep to one worker, which makes it once: the built and
# installed dists, the browser with its JupyterLab, the Dask cluster, the throwaway user (two
# useradds at once fight over /etc/passwd's lock). Each group goes to a worker whole, every other
# test alone to the first idle worker; the two long groups go first, so no worker ends on one.
# The groups go by file: xdist's own `xdist_group` marks do not reach its scheduler under pytest 9.
GROUPS = {  # a group -> its files or folders, and the session fixtures whose tests must be there
    "browser": (("tests/e2e/",), {"lab"}),
    "install": (("tests/test_install.py",), {"dists", "installed"}),
    "dask": (("tests/test_dask.py",), {"cluster"}),
    "other-user": (("tests/test_stop_requests.py", "tests/test_store_safety.py"), {"other_user"}),
}
FIRST = ("browser", "install")


def _group(nodeid: str) -> str | None:
    path = nodeid.split("::", 1)[0]
    return next((group for group, (places, _) in GROUPS.items() if path.startswith(places)), None)


def pytest_collection_modifyitems(items):
    for item in items:
        for group, (places, fixtures) in GROUPS.items():
            used = fixtures & set(item.fixturenames)
            if used and _group(item.nodeid) != group:
                raise pytest.UsageError(f"{item.nodeid} uses {', '.join(sorted(used))}: its place is "
                                        f"{' or '.join(places)} (tests/conftest.py: GROUPS)")
    rank = {group: n for n, group in enumerate(FIRST)}
    items.sort(key=lambda item: rank.get(_group(item.nodeid), len(FIRST)))  # stable: files keep their order


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist, when it is there
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedResourceScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _group(nodeid) or nodeid

    config.option.loadscopereorder = False  # in the collection's order: the long groups first
    return SharedResourceScheduling(config, log)


@pytest.fixture(autouse=True, scope="session")
def sigint_delivered():
    """A suite started in the background (`cmd &` from a script, no job control) inherits SIGINT
    ignored, and so would every `hpw run` it starts. The Ctrl-C and kernel-interrupt tests need it
    delivered, as in a terminal; a Python handler also resets to the default in child processes."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh run store for each test."""
    path = tmp_path / "hpw-home"
    monkeypatch.setenv("HPWIDGETS_HOME", str(path))
    return path


@pytest.fixture
def train_py():
    return os.path.join(EXAMPLES, "train.py")


@pytest.fixture
def write_script(tmp_path):
    def write(text: str, name: str = "script.py") -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return write


@pytest.fixture(scope="session")
def other_user():
    """(uid, gid) of a local user created for this test session, removed afterwards."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create a throwaway local user (CI runs as root)")
    if shutil.which("useradd") is None:
        pytest.skip("useradd is not installed")
    name = f"hpwt{os.getpid() % 100000}"
    made = subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"useradd failed: {made.stderr.strip()}")
    import pwd

    entry = pwd.getpwnam(name)
    yield entry.pw_uid, entry.pw_gid
    subprocess.run(["userdel", name], capture_output=True)


FINISHED_SCRIPT = "x = 1\nprint(f'loss: {x}')\n"


@pytest.fixture
def finished(home, write_script):
    """(store, batch id, the completed run) of a grid over x=[1,2]: x=1 completed, x=2 pruned."""
    import uuid

    from hpwidgets.core.records import RunRecord, Status
    from hpwidgets.core.run.batch import prepare
    from hpwidgets.core.search.plan import RunOptions
    from hpwidgets.core.store.runstore import Store

    store = Store()
    batch = prepare(write_script(FINISHED_SCRIPT, name="train.py"), {"x": [1, 2]}, RunOptions(), store)
    batch.save_manifest()
    runs = []
    for trial, status in enumerate((Status.COMPLETED, Status.PRUNED)):
        x = trial + 1
        run = RunRecord(id=uuid.uuid4().hex, batch=batch.id, operation="train.py", flags={"x": x}, status=status,
                        started=100.0 + trial, stopped=101.0 + trial, exit_code=0 if x == 1 else None,
                        label=f"x={x}", scalars={"loss": float(x)}, step=1,
                        reason=None if x == 1 else "pruned at step 1", source_hash=batch.engine.source_hash,
                        searched=("x",), trial=trial)
        store.create(run)
        runs.append(run)
    return store, batch.id, runs[0]


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright, one per session: the e2e tests and the installed
    wheel's sidebar test share it (a second sync Playwright in one process cannot start)."""
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium fonts-liberation)")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
