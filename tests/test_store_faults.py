"""Store faults (issue 16): a full disk, and many processes opening a fresh store at once."""

import os
import shutil
import subprocess
import sys

import pytest

from hpwidgets.core.processes import locks
from hpwidgets.core.records import Status
from hpwidgets.core.store.runstore import Store
from tests.helpers import hpw
from tests.support.waiting import wait_for


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB tmpfs mounted for this test (needs root: CI runs as root)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs that can fill up")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _fill(folder) -> str:
    """Write a file until the disk refuses one more byte."""
    path = os.path.join(folder, "filler")
    with open(path, "wb", buffering=0) as fh:
        chunk = b"\0" * 65536
        try:
            while True:
                fh.write(chunk)
        except OSError:
            pass
    with open(path, "ab", buffering=0) as fh:  # the last partial chunk too
        try:
            while True:
                fh.write(b"\0")
        except OSError:
            pass
    return path


def test_full_disk_run_fails_in_one_line_and_rm_frees_space(small_disk, write_script):
    env = {**os.environ, "HPWIDGETS_HOME": str(small_disk / "store")}
    path = write_script("x = 0\nprint('loss:', x)\n")
    assert hpw("run", path, "x=[1,2]", "-y", env=env).returncode == 0
    filler = _fill(small_disk)
    out = hpw("run", path, "x=[3,4]", "-y", env=env)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    last = out.stderr.splitlines()[-1]
    assert last.startswith("hpw run: error: no space left on ") and str(small_disk) in last
    listing = hpw("runs", env=env)
    assert listing.returncode == 0 and "Traceback" not in listing.stderr, listing.stderr
    assert " running " not in listing.stdout
    assert len([ln for ln in listing.stdout.splitlines() if "completed" in ln]) == 2
    table = hpw("compare", "--min", "loss", "--table", env=env)
    assert table.returncode == 0 and "Traceback" not in table.stderr, table.stderr
    oldest = str(len(listing.stdout.splitlines()))  # its list index
    trashed = hpw("runs", "rm", oldest, "-y", env=env)  # a rename: it needs no room
    assert trashed.returncode == 0 and "Traceback" not in trashed.stderr, trashed.stderr
    assert hpw("runs", "restore", "1", "-y", env=env).returncode == 0
    removed = hpw("runs", "rm", "--permanent", oldest, "-y", env=env)  # the trash would free nothing
    assert removed.returncode == 0 and removed.stdout == "Permanently deleted 1 run(s)\n", removed.stderr
    os.remove(filler)
    assert hpw("run", path, "x=[5]", "-y", env=env).returncode == 0
    statuses = [r.status for r in Store(env["HPWIDGETS_HOME"]).runs()]
    assert Status.RUNNING not in statuses and statuses.count(Status.COMPLETED) == 2



def test_detach_on_a_full_disk_fails_in_hpw_runs_one_line_unless_its_first_trial_is_recorded(small_disk, write_script):
    env = {**os.environ, "HPWIDGETS_HOME": str(small_disk / "store")}
    path = write_script("x = 0\nprint('loss:', x)\n")
    refused = 0
    for pages in (8, 12, 16, 24, 48):  # room left: the manifest, the index, the first record, its output
        assert hpw("run", path, "x=[1]", "-y", env=env).returncode == 0
        filler = _fill(small_disk)
        os.truncate(filler, os.path.getsize(filler) - 4096 * pages)
        out = hpw("run", path, "x=[3,4]", "-y", "--detach", env=env)
        if out.returncode == 0:  # it ran: its first trial is recorded, a watcher finds it
            batch_id = Store(env["HPWIDGETS_HOME"]).resolve_batch(out.stdout.split()[1])
            wait_for(lambda b=batch_id: not locks.is_running(str(small_disk / "store" / "batches"), b), "the supervisor to end")
            assert [r.flags["x"] for r in Store(env["HPWIDGETS_HOME"]).runs(batch=batch_id)][-1:] == [3]
        else:
            refused += 1
            assert (out.returncode, out.stdout, len(out.stderr.splitlines())) == (1, "", 1), out.stderr
            assert out.stderr.startswith(f"hpw run: error: no space left on {small_disk}/store/")
            assert out.stderr.endswith(": free some space (hpw runs rm --permanent RUN..., or hpw runs purge) "
                                       "and try again\n")
        os.remove(filler)
        listing = hpw("runs", env=env)  # space is back: a run the supervisor left is reaped
        assert " running " not in listing.stdout and listing.stderr == "", (pages, listing.stdout, listing.stderr)
        shutil.rmtree(small_disk / "store")
    assert refused >= 2

def test_read_only_commands_write_nothing(home, write_script):
    path = write_script("x = 0\nprint('loss:', x)\n")
    assert hpw("run", path, "x=[1,2]", "-y").returncode == 0
    Store().close()

    def snapshot():
        out = {}
        for folder, _, files in os.walk(home):
            for name in files:
                st = os.stat(os.path.join(folder, name))
                out[os.path.join(folder, name)] = (st.st_size, st.st_mtime_ns)
        return out

    before = snapshot()
    for args in (["runs"], ["compare", "--table"], ["runs", "--all"]):
        assert hpw(*args).returncode == 0
    assert snapshot() == before


# 80 processes forked from one that imported the store already (an import each would cost the
# test most of its time); each blocks on a shared pipe, and all read its end at once when the
# parent closes it. Prints each failure's traceback and exits with the number of failures.
OPENERS = """
import os, sys, traceback
from hpwidgets.core.store.runstore import Store

root, count = sys.argv[1], int(sys.argv[2])
go_read, go_write = os.pipe()
children = []
for _ in range(count):
    pid = os.fork()
    if pid == 0:
        os.close(go_write)
        os.read(go_read, 1)  # returns when the parent closes its end
        try:
            Store(root).runs()
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    children.append(pid)
os.close(go_write)
failed = sum(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0 for pid in children)
sys.exit(failed)
"""


def test_many_processes_open_a_fresh_store_at_once(tmp_path):
    for attempt in range(3):
        root = tmp_path / f"store{attempt}"
        proc = subprocess.run([sys.executable, "-c", OPENERS, str(root), "80"], capture_output=True, text=True,
                              timeout=300)
        assert (proc.returncode, proc.stderr) == (0, "")
        shutil.rmtree(root)


def test_compare_csv_to_a_device_or_a_full_disk_is_one_line(home, write_script, small_disk):
    assert hpw("run", write_script("x = 1.0\nprint('loss:', x)\n"), "x=[1,2]", "-y").returncode == 0
    accepted = "(accepted: a file path in an existing folder, or - for standard output)"
    _fill(small_disk)
    full = os.path.join(small_disk, "runs.csv")
    for path, why in [("/dev/full", "No space left on device"), ("/proc/self/mem", "Input/output error"),
                      (full, "No space left on device")]:
        out = hpw("compare", "--csv", path)
        assert (out.returncode, out.stdout, out.stderr) == (
            1, "", f"hpw compare: error: Invalid value for --csv: '{path}': it could not be written ({why}) "
                   f"{accepted}\n")
