import os
import shutil
import signal
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(REPO, "examples")


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
