"""`hpw runs info|rm|restore|purge`, `hpw cat`, run references: the real command (in this
process, or a process of its own where stdin matters) against a real store holding real runs."""

import os
import re

import pytest

from hpwidgets.core.records import Status
from hpwidgets.core.store.runstore import Store
from tests.helpers import hpw
from tests.support.cli import hpw_here
from tests.support.records import record, stored


@pytest.fixture
def env(home):
    return dict(os.environ)


@pytest.fixture
def grid(env, home, write_script):
    """Three real subprocess runs of a script that prints a scalar several times, newest first."""
    path = write_script("x = 1\nfor i in range(3):\n    print(f'step: {i}')\n    print(f'loss: {x * 10 - i}')\n"
                        "print('done', x)\n", name="steps.py")
    proc = hpw("run", path, "x=[1,2,3]", "-y", env=env)
    assert proc.returncode == 0, proc.stderr
    return [r.id for r in Store().runs()]


def _ids(env, *args):
    out = hpw_here("runs", *args).stdout
    return [line.split()[1] for line in out.splitlines()]


def test_info_shows_flags_status_times_scalars_batch_dir(env, home, grid):
    proc = hpw_here("runs", "info", "2")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    rec = Store().runs()[1]
    assert lines[0] == f"id: {rec.id}"
    assert lines[1:3] == ["operation: steps.py", "status: completed"]
    assert re.fullmatch(r"time: \d+\.\d{1,2}s", lines[5]) and lines[6] == "exit_code: 0"
    assert lines[7:9] == ["label: x=2", "tags: "]
    assert lines[9] == f"batch: {rec.batch} (trial 2)"
    assert lines[11] == f"run_dir: {home}/runs/{rec.id}"
    assert lines[12:] == ["flags:", "  x: 2", "scalars:", "  loss: 18.0 (step 2) min 18.0 max 20.0 (3 values)"]
    assert hpw_here("runs", "info").stdout.splitlines()[0] == f"id: {grid[0]}"  # default: newest


def test_info_of_a_failed_run_gives_its_reason_and_exit_code(env, home, write_script):
    path = write_script("x = 1\nprint('about to fail')\nraise SystemExit(3)\n")
    hpw("run", path, "-y", env=env)
    lines = hpw_here("runs", "info", "1").stdout.splitlines()
    assert lines[2:4] == ["status: failed", "reason: exit code 3"]
    assert "exit_code: 3" in lines


def test_cat_and_tail(env, home, grid):
    full = hpw_here("cat", "1")
    assert full.returncode == 0
    assert full.stdout == "step: 0\nloss: 30\nstep: 1\nloss: 29\nstep: 2\nloss: 28\ndone 3\n"
    assert hpw_here("cat", "--tail", "2").stdout == "loss: 28\ndone 3\n"
    assert hpw_here("cat", grid[2][:8], "--tail", "1").stdout == "done 1\n"
    assert hpw_here("cat", "1", "--tail", "0").stdout == ""
    bad = hpw_here("cat", "1", "--tail", "-1")
    assert bad.returncode == 2
    assert bad.stderr == "hpw cat: error: argument --tail: invalid value: -1 (accepted: 0 or a positive number of lines)\n"


def test_indexes_and_ranges_name_runs_as_the_listing_numbers_them(env, home, grid):
    assert _ids(env) == [i[:8] for i in grid]
    rm = hpw_here("runs", "rm", "-y", "2:3")  # options anywhere on the line
    assert rm.returncode == 0 and rm.stdout == "Deleted 2 run(s) (into the trash)\n"
    assert _ids(env) == [grid[0][:8]]
    assert _ids(env, "--deleted") == [grid[1][:8], grid[2][:8]]


REF_ERRORS = [
    (["runs", "info", "7"], "hpw runs: error: Run index '7' is out of range (1-3) (accepted: a list index such as 1, "
                            "a range such as 2:5, or the first characters of a run id)\n"),
    (["runs", "info", "2:9"], "hpw runs: error: Run index '2:9' is out of range (1-3) (accepted: a list index such "
                              "as 1, a range such as 2:5, or the first characters of a run id)\n"),
    (["runs", "rm", "zzzz", "-y"], "hpw runs: error: No run matches 'zzzz' (accepted: a list index such as 1, a range "
                                   "such as 2:5, or the first characters of a run id)\n"),
    (["cat", "qq"], "hpw cat: error: No run matches 'qq' (accepted: a list index such as 1, a range such as 2:5, "
                    "or the first characters of a run id)\n"),
]


@pytest.mark.parametrize("args,message", REF_ERRORS)
def test_bad_references_one_line_exit_2_nothing_changed(env, home, args, message):
    _planted(home, ["c" * 32, "d" * 32, "e" * 32])  # ids without digits: an index is only an index
    proc = hpw(*args, env=env)
    assert (proc.returncode, proc.stderr, proc.stdout) == (2, message, "")
    assert len(Store().runs()) == 3


def _planted(home, ids):
    """Finished runs with chosen ids (the ambiguity needs ids that start with digits)."""
    store = Store(str(home))
    for i, run_id in enumerate(ids):
        store.create(stored(i, id=run_id, flags={"x": i}, exit_code=0, scalars={"loss": float(i)}))
    return store


def test_a_destructive_command_never_acts_on_an_ambiguous_reference(env, home):
    store = _planted(home, ["99" + "a" * 30, "1" + "b" * 31, "c" * 32])
    # newest first: [1] ccc.., [2] 1bbb.., [3] 99aa..
    out_of_range = hpw_here("runs", "rm", "99", "-y")
    assert out_of_range.returncode == 2
    assert out_of_range.stderr == ("hpw runs: error: Run reference '99' is ambiguous: list index 99 is out of range "
                                   "(1-3), and it is also the start of run id 99aaaaaa; give the id up to a letter "
                                   "(or whole) to name that run\n")
    assert hpw_here("runs", "purge", "99", "-y").returncode == 2
    assert len(store.runs()) == 3
    # reading commands follow Guild: the index when in range, else the id
    assert hpw_here("runs", "info", "1").stdout.startswith("id: " + "c" * 32)
    assert hpw_here("runs", "info", "99").stdout.startswith("id: 99")
    assert hpw_here("runs", "rm", "99a", "-y").returncode == 0  # the id, up to a letter
    assert hpw_here("runs", "rm", "1", "-y").returncode == 0  # in range: the index, by the rule
    assert [r.id[0] for r in store.runs()] == ["1"]
    assert hpw_here("runs", "rm", "-y", "1" + "b" * 31).returncode == 0  # a whole id is an id
    assert store.runs() == []


def test_ambiguous_id_prefix(env, home):
    _planted(home, ["ab" + "1" * 30, "ab" + "2" * 30])
    proc = hpw_here("runs", "info", "ab")
    assert proc.returncode == 2
    assert proc.stderr == ("hpw runs: error: Run id 'ab' is ambiguous: it starts 2 runs (ab222222, ab111111); "
                           "give more characters\n")


def test_prompts_no_answer_and_closed_stdin(env, home, grid):
    no = hpw("runs", "rm", "1", env=env, input="n\n")
    assert no.returncode == 0 and no.stdout == ""
    assert no.stderr.startswith("You are about to delete the following runs (they go to the trash; "
                                "`runs restore` brings them back):\n  [1] ")
    assert no.stderr.endswith("Continue? (y/N) ")
    assert hpw("runs", "rm", "1", env=env, input="\n").stdout == ""  # the default is no
    closed = hpw("runs", "rm", "1", env=env, input="")
    assert closed.returncode == 1
    assert closed.stderr.endswith("\nhpw runs: error: no answer on standard input (it is closed): pass -y to go on "
                                  "without asking\n")
    assert len(Store().runs()) == 3
    yes = hpw("runs", "rm", "1", env=env, input="y\n")
    assert yes.stdout == "Deleted 1 run(s) (into the trash)\n" and len(Store().runs()) == 2


def test_run_prompt_on_closed_stdin_is_an_error(env, home, train_py):
    proc = hpw("run", train_py, "x=0.1", env=env, input="")
    assert proc.returncode == 1
    assert proc.stderr.endswith("hpw run: error: no answer on standard input (it is closed): pass -y to go on "
                                "without asking\n")
    assert not (home / "runs").exists() or os.listdir(home / "runs") == []


def test_trash_restore_purge_permanent(env, home, grid):
    assert hpw_here("runs", "rm", "1", "2", "-y").returncode == 0
    assert sorted(os.listdir(home / "trash" / "runs")) == sorted(grid[:2])
    assert os.listdir(home / "runs") == [grid[2]]
    assert hpw_here("runs", "info", "--deleted", "2").stdout.splitlines()[11] == \
        f"run_dir: {home}/trash/runs/{grid[1]}"
    assert hpw_here("cat", "-d", "1", "--tail", "1").stdout == "done 3\n"
    restored = hpw_here("runs", "restore", grid[1][:8], "-y")
    assert restored.stdout == "Restored 1 run(s)\n"
    assert _ids(env) == [grid[1][:8], grid[2][:8]]
    # rebuilding the index from the directories never brings back a trashed run
    assert Store().rebuild_index() == 2
    not_there = hpw_here("runs", "restore", grid[2], "-y")
    assert not_there.returncode == 2
    assert not_there.stderr.startswith(f"hpw runs: error: No run matches '{grid[2]}'")
    purge = hpw_here("runs", "purge", "1", "-y")
    assert purge.stdout == "Purged 1 run(s)\n" and os.listdir(home / "trash" / "runs") == []
    perm = hpw_here("runs", "rm", "--permanent", "-y", "2")
    assert perm.stdout == "Permanently deleted 1 run(s)\n"
    assert os.listdir(home / "runs") == [grid[1]] and os.listdir(home / "trash" / "runs") == []


def test_rm_needs_a_reference_or_a_filter(env, home, grid):
    proc = hpw_here("runs", "rm", "-y")
    assert proc.returncode == 2
    assert proc.stderr == ("hpw runs rm: error: name the runs (accepted: a list index such as 1, a range such as "
                           "2:5, or the first characters of a run id) or give a filter\n")
    assert len(Store().runs()) == 3


def test_a_running_run_is_not_deleted(env, home):
    store = Store(str(home))
    store.create(record(id="d" * 32, operation="t.py", status=Status.RUNNING, started=1.0, owner=_me()))
    proc = hpw_here("runs", "rm", "dd", "-y")
    assert proc.returncode == 1
    assert proc.stderr == "hpw runs: error: Run dddddddd is running: stop it before deleting it\n"
    assert os.listdir(home / "runs") == ["d" * 32]


def _me():
    from hpwidgets.core.processes import owners

    return owners.current_token()


def test_open_ranges(env, home):
    store = _planted(home, ["c" * 32, "d" * 32, "e" * 32, "f" * 32])  # newest first: f, e, d, c
    assert hpw_here("runs", "rm", ":2", "-y").stdout == "Deleted 2 run(s) (into the trash)\n"
    assert [r.id[0] for r in store.runs()] == ["d", "c"]
    assert hpw_here("runs", "rm", "2:", "-y").returncode == 0
    assert [r.id[0] for r in store.runs()] == ["d"]
    assert hpw_here("runs", "restore", "1:2", "-y").stdout == "Restored 2 run(s)\n"
    assert [r.id[0] for r in store.runs()] == ["f", "e", "d"]  # the trash's own order: f, e, c


def test_a_planted_trash_link_is_refused(env, home, tmp_path):
    _planted(home, ["c" * 32])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, home / "trash")
    proc = hpw_here("runs", "rm", "1", "-y")
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"hpw runs: error: Refusing {home}/trash: it is a symlink")
    assert os.listdir(home / "runs") == ["c" * 32] and os.listdir(elsewhere) == []
