import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(REPO, "examples")


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
