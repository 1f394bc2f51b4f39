"""A store on a shared server trusts nothing it did not write (issue 16, multi-user safety).

A throwaway local user plays the other user: the test creates it with useradd (CI runs as root)
and plants real files and real processes owned by it. Without root these tests are skipped.
"""

import ast
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time

import pytest

import hpwidgets as hp
from hpwidgets.core.errors import StoreError
from hpwidgets.core.processes import owners
from hpwidgets.core.records import RunRecord, Status
from hpwidgets.core.run import batch as batch_mod
from hpwidgets.core.store.runstore import Store
from tests.helpers import group_alive, hpw

ID = "0123456789abcdef0123456789abcdef"


def _mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _rec(run_id: str = ID, **kw) -> RunRecord:
    base = dict(id=run_id, batch="b" * 32, operation="train.py", flags={"x": 1.0},
                status=Status.COMPLETED, started=1000.0, stopped=1001.0, scalars={"loss": 0.5})
    base.update(kw)
    return RunRecord(**base)


def _plant_run(root, run_id: str, data: dict, dirname: str | None = None) -> str:
    """A run directory written by hand, the way another user (or a crash) could leave it."""
    path = os.path.join(root, "runs", dirname or run_id)
    os.makedirs(path, mode=0o700, exist_ok=True)
    with open(os.path.join(path, "run.json"), "w") as fh:
        json.dump({**_rec(run_id).to_json(), **data}, fh)
    os.chmod(os.path.join(path, "run.json"), 0o600)
    return path


# -- the store directory itself ----------------------------------------------------------------


def test_store_owned_by_another_user_is_refused_untouched(tmp_path, other_user):
    root = tmp_path / "store"
    root.mkdir(mode=0o755)
    os.chmod(root, 0o755)
    os.chown(root, *other_user)
    with pytest.raises(StoreError) as err:
        Store(str(root))
    assert str(err.value) == (
        f"Refusing {root}: it is owned by uid {other_user[0]}, not by you (uid 0) "
        "(fix: use a store of your own, e.g. set HPWIDGETS_HOME, or have its owner remove it)")
    assert _mode(root) == 0o755 and os.listdir(root) == []  # not chmodded, nothing created
    out = hpw("runs", env={**os.environ, "HPWIDGETS_HOME": str(root)})
    assert out.returncode == 1
    assert out.stderr == f"hpw runs: error: {err.value}\n"


def test_group_writable_store_is_refused_not_chmodded(tmp_path):
    root = tmp_path / "store"
    root.mkdir()
    os.chmod(root, 0o777)
    with pytest.raises(StoreError, match=r"it is writable by group or others \(mode 0777\)"):
        Store(str(root))
    assert _mode(root) == 0o777 and os.listdir(root) == []


def test_store_that_is_a_symlink_is_refused_and_its_target_untouched(tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    os.chmod(target, 0o755)
    (tmp_path / "store").symlink_to(target)
    with pytest.raises(StoreError, match=r"it is a symlink \(fix: remove it"):
        Store(str(tmp_path / "store"))
    assert _mode(target) == 0o755 and os.listdir(target) == []


@pytest.mark.parametrize("name", ["runs", "batches", "index.db", "index.db-wal", "index.db-shm"])
def test_a_symlink_inside_the_store_is_refused(tmp_path, name):
    root = tmp_path / "store"
    Store(str(root)).close()
    shutil.rmtree(root / name, ignore_errors=True)
    if os.path.exists(root / name):
        os.remove(root / name)
    target = tmp_path / "outside"
    target.mkdir()
    os.chmod(target, 0o755)
    (root / name).symlink_to(target)
    with pytest.raises(StoreError, match=rf"^Refusing {root / name}: it is a symlink"):
        Store(str(root)).runs()
    assert _mode(target) == 0o755 and os.listdir(target) == []


@pytest.mark.parametrize("name", ["runs", "index.db", "index.db-wal"])
def test_a_part_owned_by_another_user_is_refused(tmp_path, other_user, name):
    root = tmp_path / "store"
    Store(str(root)).close()
    part = root / name
    if not part.exists():
        part.write_bytes(b"")
    os.chown(part, *other_user)
    before = _mode(part)
    with pytest.raises(StoreError, match=rf"^Refusing {part}: it is owned by uid {other_user[0]}"):
        Store(str(root)).runs()
    assert _mode(part) == before and os.stat(part).st_uid == other_user[0]


# -- runs inside a good store -------------------------------------------------------------------


def test_a_run_whose_id_escapes_the_store_is_skipped_and_never_written_or_deleted(tmp_path, capfd):
    root = tmp_path / "store"
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("mine")
    store = Store(str(root))
    store.create(_rec())
    gone = socket.gethostname() + ":999999:1"  # a dead owner: today the reaper rewrites run.json
    _plant_run(root, "../../victim", {"status": "running", "owner": gone}, dirname="f" * 32)
    _plant_run(root, str(victim), {"status": "running", "owner": gone}, dirname="e" * 32)
    store.rebuild_index()
    assert store.reap_orphans() == []  # today's reaper would write run.json into the victim
    assert [r.id for r in store.runs()] == [ID]
    err = capfd.readouterr().err
    assert f"hpwidgets: skipped {root}/runs/{'f' * 32}/run.json: its id '../../victim' does not match its directory" in err
    assert f"hpwidgets: skipped {root}/runs/{'e' * 32}/run.json: its id '{victim}' does not match its directory" in err
    with pytest.raises(StoreError, match="No run matches"):
        store.delete(["../"])
    with pytest.raises(StoreError, match="No run matches"):
        store.delete([str(victim)])
    assert os.listdir(victim) == ["keep.txt"]
    with pytest.raises(StoreError, match="not a run id"):
        store.run_dir("../../victim")


def test_a_run_directory_or_record_of_another_user_is_skipped(tmp_path, other_user, capfd):
    root = tmp_path / "store"
    store = Store(str(root))
    store.create(_rec())
    theirs = _plant_run(root, "a" * 32, {})
    os.chown(theirs, *other_user)
    link_target = _plant_run(tmp_path / "elsewhere", "c" * 32, {})
    os.symlink(link_target, root / "runs" / ("c" * 32))
    record = _plant_run(root, "d" * 32, {})
    os.chown(os.path.join(record, "run.json"), *other_user)
    store.rebuild_index()
    assert [r.id for r in store.runs()] == [ID]
    err = capfd.readouterr().err
    assert f"hpwidgets: skipped {theirs}: Refusing {theirs}: it is owned by uid {other_user[0]}" in err
    assert f"hpwidgets: skipped {root}/runs/{'c' * 32}: Refusing {root}/runs/{'c' * 32}: it is a symlink" in err
    assert f"hpwidgets: skipped {record}/run.json: Refusing {record}/run.json: it is owned by uid" in err


def test_trial_pid_of_another_users_process_is_never_killed(tmp_path, other_user):
    store = Store(str(tmp_path / "store"))
    victim = subprocess.Popen(["sleep", "60"], user=other_user[0], start_new_session=True)
    try:
        rec = _rec(status=Status.RUNNING, owner=socket.gethostname() + ":999999:1")
        store.create(rec)
        owners.write_trial_pid(store.run_dir(rec.id), victim.pid)  # its real pid and start time
        assert [r.status for r in store.reap_orphans()] == [Status.TERMINATED]
        with pytest.raises(subprocess.TimeoutExpired):  # a SIGKILL would end it at once
            victim.wait(timeout=1)
        assert group_alive(victim.pid)
    finally:
        victim.kill()
        victim.wait()


@pytest.mark.parametrize("plant", ["owned by the other user", "a symlink"])
def test_a_planted_trial_pid_is_refused(tmp_path, other_user, capfd, plant):
    store = Store(str(tmp_path / "store"))
    victim = subprocess.Popen(["sleep", "60"], start_new_session=True)  # a group of ours
    try:
        rec = _rec(status=Status.RUNNING, owner=socket.gethostname() + ":999999:1")
        store.create(rec)
        pid_file = os.path.join(store.run_dir(rec.id), "trial.pid")
        if plant == "a symlink":
            owners.write_trial_pid(str(tmp_path), victim.pid)
            os.symlink(tmp_path / "trial.pid", pid_file)
        else:
            owners.write_trial_pid(store.run_dir(rec.id), victim.pid)
            os.chown(pid_file, *other_user)
        assert [r.status for r in store.reap_orphans()] == [Status.TERMINATED]
        with pytest.raises(subprocess.TimeoutExpired):
            victim.wait(timeout=1)
        why = "it is a symlink" if plant == "a symlink" else f"it is owned by uid {other_user[0]}"
        assert f"hpwidgets: skipped {pid_file}: Refusing {pid_file}: {why}" in capfd.readouterr().err
    finally:
        victim.kill()
        victim.wait()


def test_an_unreadable_trial_pid_of_another_user_is_named_in_one_line(other_user, capfd):
    """Read by a user who cannot open it (root reads everything): the promised line, nothing killed."""
    run_dir = tempfile.mkdtemp(prefix="hpw-run-")
    try:
        owners.write_trial_pid(run_dir, os.getpid())  # root's, 0600: unreadable to the other user
        os.chown(run_dir, *other_user)
        pid_file = os.path.join(run_dir, "trial.pid")
        child = os.fork()
        if child == 0:  # as the other user, the one whose run directory holds root's file
            code = 1
            try:
                os.setgid(other_user[1])
                os.setuid(other_user[0])
                code = 0 if owners.kill_orphan_trial(run_dir) is False else 3
            finally:
                sys.stderr.flush()
                os._exit(code)
        assert os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) == 0
        assert capfd.readouterr().err == (
            f"hpwidgets: skipped {pid_file}: Refusing {pid_file}: it is owned by uid 0, not by you (uid "
            f"{other_user[0]}) (fix: use a store of your own, e.g. set HPWIDGETS_HOME, or have its owner remove "
            "it)\n")
    finally:
        shutil.rmtree(run_dir)


# -- --resume and the local index --------------------------------------------------------------


def test_resume_refuses_a_script_changed_since_the_batch_started(home, write_script, tmp_path):
    path = write_script("x = 0\nprint('loss:', x)\n")
    batch = hp.run(path, flags={"x": [1, 2, 3]})
    store = Store()
    store.delete([batch.runs[2].id])
    marker = tmp_path / "pwned"
    with open(path, "w") as fh:
        fh.write(f"x = 0\nopen({str(marker)!r}, 'w').close()\nprint('loss:', x)\n")
    out = hpw("run", "--resume", batch.id[:8], "-y")
    assert out.returncode == 1 and not marker.exists()
    assert out.stderr == (
        f"hpw run: error: Invalid value for --resume: '{batch.id[:8]}' (accepted: a batch whose script is "
        f"unchanged; {path} changed since the batch started: start a new batch)\n")
    with open(path, "w") as fh:  # the original again: resuming works
        fh.write("x = 0\nprint('loss:', x)\n")
    assert hpw("run", "--resume", batch.id[:8], "-y").returncode == 0


def test_resume_refuses_a_manifest_of_another_user(home, write_script, other_user):
    path = write_script("x = 0\nprint('loss:', x)\n")
    batch = hp.run(path, flags={"x": [1, 2]})
    manifest = os.path.join(str(home), "batches", f"{batch.id}.json")
    os.chown(manifest, *other_user)
    with pytest.raises(StoreError, match=rf"^Refusing {manifest}: it is owned by uid {other_user[0]}"):
        batch_mod.resume(batch.id[:8])



# -- %%hprun cell files ----------------------------------------------------------------------------

CELL = "x = 0\nprint('loss:', x + offset)\n"


class _Planted:
    """A value whose unpickling writes a marker: what a planted names file would run as us."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _planted_names(marker) -> bytes:
    import pickle

    return pickle.dumps({"modules": {}, "values": {"offset": pickle.dumps(_Planted(str(marker)))}})


def _plant(path: str, data: bytes, how: str, other_user, elsewhere) -> str:
    """Put ``data`` at ``path`` as another user's file, a world-readable one, or a symlink; the
    line that refuses it starts with the returned text."""
    if os.path.lexists(path):
        os.remove(path)
    if how == "symlink":
        elsewhere.write_bytes(data)
        os.chmod(elsewhere, 0o600)
        os.symlink(elsewhere, path)
        return f"Refusing {path}: it is a symlink"
    with open(path, "wb") as fh:
        fh.write(data)
    if how == "another user's":
        os.chmod(path, 0o600)
        os.chown(path, *other_user)
        return f"Refusing {path}: it is owned by uid {other_user[0]}, not by you"
    os.chmod(path, 0o644)
    return f"Refusing {path}: it is readable by group or others (mode 0644)"


def _cell_batch() -> tuple[str, str]:
    """A %%hprun cell's batch over x=[1,2,3] whose last run was deleted: (its cell script, its id)."""
    from hpwidgets.core.run.cell_scripts import write_cell

    path = write_cell(Store(), CELL, {"offset": 10.0})
    batch = hp.run(path, flags={"x": [1, 2, 3]})
    assert sorted(r.scalars["loss"] for r in batch.runs) == [11.0, 12.0, 13.0]
    Store().delete([batch.runs[2].id])
    return path, batch.id


@pytest.mark.parametrize("how", ["another user's", "world-readable", "symlink"])
def test_a_planted_names_file_is_refused_on_resume_and_never_unpickled(home, tmp_path, other_user, how):
    from hpwidgets.core.run.cell_scripts import names_file

    path, batch_id = _cell_batch()
    marker = tmp_path / "pwned"
    refusal = _plant(names_file(path), _planted_names(marker), how, other_user, tmp_path / "elsewhere.pkl")
    out = hpw("run", "--resume", batch_id[:8], "-y")
    assert (out.returncode, out.stderr.count("\n")) == (1, 1), out.stderr
    assert out.stderr.startswith(f"hpw run: error: {refusal}") and not marker.exists()
    assert len(Store().runs(batch=batch_id)) == 2


def test_resume_refuses_a_names_file_that_changed_since_the_batch_started(home, tmp_path):
    from hpwidgets.core.run.cell_scripts import names_file, write_cell

    path, batch_id = _cell_batch()
    marker = tmp_path / "pwned"
    names = names_file(path)
    with open(names, "wb") as fh:  # ours and private, but not what the batch's trials took
        fh.write(_planted_names(marker))
    out = hpw("run", "--resume", batch_id[:8], "-y")
    assert out.returncode == 1 and not marker.exists()
    assert out.stderr == (
        f"hpw run: error: Invalid value for --resume: '{batch_id[:8]}' (accepted: a batch whose cell takes the "
        f"notebook values it started with; {names} holds others (the cell ran again since): run the cell again "
        "to start a new batch)\n")
    assert write_cell(Store(), CELL, {"offset": 10.0}) == path  # the cell run again with its values
    done = hpw("run", "--resume", batch_id[:8], "-y")
    assert done.returncode == 0, done.stderr
    assert sorted(r.scalars["loss"] for r in Store().runs(batch=batch_id)) == [11.0, 12.0, 13.0]


@pytest.mark.parametrize("how", ["another user's", "world-readable", "symlink"])
def test_a_planted_cell_script_is_refused_and_nothing_runs(home, tmp_path, other_user, how):
    import hashlib

    from hpwidgets.core.run.cell_scripts import HEADER, cells_dir, write_cell

    store = Store()
    os.makedirs(cells_dir(store), mode=0o700, exist_ok=True)
    marker = tmp_path / "pwned"
    path = os.path.join(cells_dir(store), f"cell-{hashlib.sha256((HEADER + CELL).encode()).hexdigest()[:12]}.py")
    planted = f"x = 0\nopen({str(marker)!r}, 'w').close()\nprint('loss:', x)\n".encode()
    refusal = _plant(path, planted, how, other_user, tmp_path / "elsewhere.py")
    with pytest.raises(StoreError) as info:  # the magic's one line
        write_cell(store, CELL, {"offset": 10.0})
    assert str(info.value).startswith(refusal)
    with pytest.raises(StoreError) as info:  # nor is it run by its path
        hp.run(path, flags={"x": [1]})
    assert str(info.value).startswith(refusal)
    assert not marker.exists() and store.runs() == []

def test_network_store_index_dir_planted_in_shared_tmp_is_refused(tmp_path, monkeypatch, other_user):
    from hpwidgets.core.store import paths as paths_mod

    mounts = tmp_path / "mounts"
    mounts.write_text(f"/dev/vda / ext4 rw 0 0\nserver:/export {tmp_path / 'nfs'} nfs4 rw 0 0\n")
    monkeypatch.setattr(paths_mod, "MOUNTS", str(mounts))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    planted = shared / f"hpwidgets-{os.getuid()}"
    planted.mkdir()
    os.chown(planted, *other_user)  # another user made the predictable name first
    with pytest.raises(StoreError, match=rf"^Refusing {planted}: it is owned by uid {other_user[0]}"):
        Store(str(tmp_path / "nfs" / "store"))
    assert os.listdir(planted) == []
    os.rmdir(planted)
    planted.symlink_to(tmp_path)  # or a symlink to a place of their choosing
    with pytest.raises(StoreError, match=rf"^Refusing {planted}: it is a symlink"):
        Store(str(tmp_path / "nfs" / "store"))
    os.remove(planted)
    store = Store(str(tmp_path / "nfs" / "store"))  # made by us: private, used
    assert store.index_path.startswith(str(planted) + os.sep)
    assert _mode(planted) == 0o700 and os.stat(planted).st_uid == os.getuid()


def test_trial_pid_is_never_seen_half_written(tmp_path):
    # The orphan reaper and Stop read trial.pid while a trial may be starting: a reader in
    # another process sees the whole "pid:start" line or no file, never an empty one.
    path = tmp_path / "trial.pid"
    reader = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys, time\nseen = set()\nend = time.monotonic() + 1.5\n"
            "while time.monotonic() < end:\n"
            "    try:\n        seen.add(open(sys.argv[1]).read())\n"
            "    except FileNotFoundError:\n        pass\n"
            "print(repr(sorted(seen)))\n"
        ), str(path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        owners.write_trial_pid(str(tmp_path), os.getpid())
    out, _ = reader.communicate(timeout=30)
    assert ast.literal_eval(out) == [path.read_text()]
