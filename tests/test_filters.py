"""Labels, tags and the run filters shared by runs, compare and runs rm: runs planted in a real
store, the real CLI called in this process; one real `hpw run` keeps its label and tags."""

import datetime as dt
import math
import os
import time

import pytest

from hpwidgets.core.records import Status
from hpwidgets.core.results.filters import RunFilter, parse_filter, parse_started
from hpwidgets.core.store import runstore
from hpwidgets.core.store.runstore import Store
from tests.helpers import hpw
from tests.support.cli import hpw_here
from tests.support.records import record, run_id


@pytest.fixture
def runs(home):
    """train.py x=1 (label 'base line', tags a b), train.py x=2 (tag b), a failed other.py, started
    a minute ago in that order, each in a batch of its own."""
    store, now = Store(str(home)), time.time()
    planted = [
        record(1, -0.25, flags={"noise": 0.1, "x": 1.0}, label="base line", tags=("a", "b")),
        record(2, 0.5, flags={"noise": 0.1, "x": 2.0}, label="noise=0.1 x=2", tags=("b",)),
        record(3, None, Status.FAILED, flags={"x": 1}, operation="other.py", label="x=1", exit_code=1,
               reason="exit code 1"),
    ]
    for i, r in enumerate(planted):
        store.create(r.evolve(batch=f"{i + 1:x}" * 32, started=now - 60 + i, stopped=now - 59 + i))
    return {r.operation + str(r.flags["x"]): r for r in store.runs()}


def _listed(*args):
    proc = hpw_here("runs", *args)
    assert proc.returncode == 0, proc.stderr
    return [line.split()[1] for line in proc.stdout.splitlines()]


def test_run_label_and_tags_are_kept(home, train_py):
    assert hpw("run", train_py, "x=1", "--label", "base line", "--tag", "a", "--tag", "b", "-y").returncode == 0
    assert hpw("run", train_py, "x=2", "--tag", "b", "-y").returncode == 0
    runs = {r.flags["x"]: r for r in Store().runs()}
    assert runs[1.0].label == "base line" and runs[1.0].tags == ("a", "b")
    assert runs[2.0].label == "noise=0.1 x=2" and runs[2.0].tags == ("b",)
    assert hpw("runs", "info", runs[1.0].id).stdout.splitlines()[7:9] == ["label: base line", "tags: a b"]


def test_filters_select_by_operation_label_tag_status(runs):
    short = {k: r.short_id for k, r in runs.items()}
    assert _listed("-o", "other") == [short["other.py1"]]
    assert _listed("--label", "base") == [short["train.py1.0"]]
    assert _listed("--tag", "b") == [short["train.py2.0"], short["train.py1.0"]]
    assert _listed("--tag", "a", "--tag", "zz") == [short["train.py1.0"]]
    assert _listed("--failed") == [short["other.py1"]]
    assert _listed("--completed", "--tag", "a") == [short["train.py1.0"]]
    assert _listed("-C", "-E") == [short["other.py1"], short["train.py2.0"], short["train.py1.0"]]
    assert _listed("--running") == [] and _listed("--terminated") == []
    assert _listed("--batch", runs["train.py2.0"].batch[:6]) == [short["train.py2.0"]]
    assert _listed("--started", "last hour") == _listed()
    assert _listed("--started", "before 2000-01-01") == []
    # indexes count within the filtered listing
    assert hpw_here("runs", "info", "2", "--tag", "b").stdout.startswith(f"id: {runs['train.py1.0'].id}")


def test_filters_on_flag_values(runs):
    short = {k: r.short_id for k, r in runs.items()}
    assert _listed("--filter", "x > 1") == [short["train.py2.0"]]
    assert _listed("--filter", "x = 1") == [short["other.py1"], short["train.py1.0"]]  # 1 and 1.0 alike
    assert _listed("--filter", "flag:x>=1", "--filter", "noise == 0.1") == [short["train.py2.0"], short["train.py1.0"]]
    assert _listed("--filter", "scalar:loss < 0") == [short["train.py1.0"]]
    assert _listed("--filter", "noise != 0.1") == []  # other.py has no noise: never selected
    assert _listed("--filter", "x = '1'") == []  # text is compared with text only
    assert _listed("--filter", "x < 2", "--failed") == [short["other.py1"]]
    proc = hpw_here("compare", "-t", "--min", "loss", "--filter", "x <= 1.5")
    assert [line.split()[0] for line in proc.stdout.splitlines()[1:]] == [short["train.py1.0"], short["other.py1"]]


PLANTED_FLAGS = {"optimizer": "adam", "layers": [1, 2], "on": True, "lr": 1e-3, "nan": math.nan}


@pytest.mark.parametrize("expr,selected", [
    ("optimizer = adam", True), ("optimizer = 'adam'", True), ('optimizer = "sgd"', False),
    ("optimizer > a", True), ("optimizer < 1", False), ("layers = '[1, 2]'", True), ("on = true", True),
    ("on != false", True), ("lr <= 0.001", True), ("lr > 1e-3", False), ("nan != 1", False),
    ("missing != 1", False), ("scalar:loss = 0.5", True), ("scalar:loss = adam", False),
])
@pytest.mark.parametrize("few", [1000, 0], ids=["gathered-first", "run-by-run"])
def test_a_flag_filter_is_answered_alike_by_the_index_and_the_records(home, monkeypatch, expr, selected, few):
    monkeypatch.setattr(runstore, "FEW", few)  # 0: never few, each run looked up as the listing meets it
    store = Store(str(home))
    store.create(record(1, 0.5, flags=PLANTED_FLAGS, started=1000.0))
    store.create(record(2, 0.25, flags={"optimizer": 3}, started=1001.0))
    query = RunFilter(values=(parse_filter(expr),)).query()
    assert [r.id for r in store.select(query)] == ([run_id(1)] if selected else [])
    assert [r.id for r in store.runs() if query.matches(r)] == [r.id for r in store.select(query)]
    assert store.count(query) == int(selected) and [t.few for t in store._planned(query).values] == [few > 0]


def test_compare_filters(runs):
    proc = hpw_here("compare", "-t", "--tag", "b", "--min", "loss")
    assert proc.returncode == 0
    assert sorted(line.split()[0] for line in proc.stdout.splitlines()[1:]) == sorted(
        [runs["train.py1.0"].short_id, runs["train.py2.0"].short_id])
    assert hpw_here("compare", "-t", "--failed").stdout.splitlines()[1].startswith(runs["other.py1"].short_id)


def test_runs_rm_with_a_filter(home, runs):
    rm = hpw_here("runs", "rm", "--failed", "-y")
    assert rm.stdout == "Deleted 1 run(s) (into the trash)\n"
    assert sorted(os.listdir(home / "runs")) == sorted([runs["train.py1.0"].id, runs["train.py2.0"].id])
    assert hpw_here("runs", "rm", "--tag", "nothing", "-y").stdout == "No runs selected\n"


def test_label_and_tag_commands(runs):
    assert hpw_here("label", "1", "2", "tuned").stdout == "Labeled 2 run(s)\n"
    assert [r.label for r in Store().runs()][:2] == ["tuned", "tuned"]
    assert hpw_here("label", "--clear", "1").stdout == "Cleared label of 1 run(s)\n"
    assert Store().runs()[0].label == ""
    assert hpw_here("tag", runs["train.py1.0"].id, "--add", "c", "--delete", "a", "--add", "b").stdout == \
        "Modified tags of 1 run(s)\n"
    assert Store().get(runs["train.py1.0"].id).tags == ("b", "c")
    assert hpw_here("runs", "tag", "3", "-d", "b").returncode == 0
    assert Store().get(runs["train.py1.0"].id).tags == ("c",)


TAG_ERRORS = [
    (["tag", "1"], "hpw tag: error: give --add TAG or --delete TAG\n"),
    (["tag", "1", "--add", "two words"], "hpw tag: error: argument --add: invalid tag: 'two words' (accepted: a "
                                         "word without spaces, such as baseline)\n"),
    (["label", "tuned"], "hpw label: error: name the runs and then the label: RUN... TEXT (or RUN... --clear)\n"),
    (["runs", "--started", "next week"], "hpw runs: error: argument --started: invalid RANGE: 'next week' (accepted: "
     "'last N minutes|hours|days|weeks', 'last hour', 'today', 'yesterday', 'this week|month|year', "
     "'last week|month|year', 'after DATETIME', 'before DATETIME', 'between DATETIME and DATETIME' or a date "
     "YYYY-MM-DD)\n"),
    (["runs", "--filter", "x >"], "hpw runs: error: argument --filter: invalid EXPR: 'x >' (accepted: NAME OP VALUE: "
     "NAME a flag (or scalar:NAME, a scalar's last value), OP one of = != < <= > >=, VALUE a number, true, false "
     "or text, such as 'x > 0.5' or 'optimizer = adam')\n"),
    (["compare", "--filter", "x =< 1"], "hpw compare: error: argument --filter: invalid EXPR: 'x =< 1': '< 1' is not "
     "a value (quote text with spaces or quotes, or that starts with =, !, < or >) (accepted: NAME OP VALUE: NAME a "
     "flag (or scalar:NAME, a scalar's last value), OP one of = != < <= > >=, VALUE a number, true, false or text, "
     "such as 'x > 0.5' or 'optimizer = adam')\n"),
    (["runs", "rm", "--filter", "x > 1e400"], "hpw runs rm: error: argument --filter: invalid EXPR: 'x > 1e400': 1e400 "
     "is too large for a number (accepted: NAME OP VALUE: NAME a flag (or scalar:NAME, a scalar's last value), OP one "
     "of = != < <= > >=, VALUE a number, true, false or text, such as 'x > 0.5' or 'optimizer = adam')\n"),
]


@pytest.mark.parametrize("args,message", TAG_ERRORS)
def test_label_tag_filter_errors(runs, args, message):
    before = [r.to_json() for r in Store().runs()]
    proc = hpw_here(*args)
    assert proc.returncode == 2 and proc.stderr.endswith(message)
    assert [r.to_json() for r in Store().runs()] == before


def test_run_rejects_a_tag_with_spaces(home, train_py):
    proc = hpw_here("run", train_py, "--tag", "two words", "-y")
    assert proc.returncode == 1
    assert proc.stderr == "hpw run: error: Invalid value for --tag: 'two words' (accepted: a word without spaces, " \
                          "such as baseline)\n"


NOW = dt.datetime(2026, 11, 30, 12, 30)  # a Monday


@pytest.mark.parametrize("spec,start,end", [
    ("last hour", dt.datetime(2026, 11, 30, 11, 30), None),
    ("last 2 days", dt.datetime(2026, 11, 28, 12, 30), None),
    ("Last 30 minutes", dt.datetime(2026, 11, 30, 12, 0), None),
    ("today", dt.datetime(2026, 11, 30), None),
    ("yesterday", dt.datetime(2026, 11, 29), dt.datetime(2026, 11, 30)),
    ("this week", dt.datetime(2026, 11, 30), None),
    ("last week", dt.datetime(2026, 11, 23), dt.datetime(2026, 11, 30)),
    ("this month", dt.datetime(2026, 11, 1), None),
    ("last month", dt.datetime(2026, 10, 1), dt.datetime(2026, 11, 1)),
    ("last year", dt.datetime(2025, 1, 1), dt.datetime(2026, 1, 1)),
    ("after 2026-11-02 10:00", dt.datetime(2026, 11, 2, 10), None),
    ("before 09:15", None, dt.datetime(2026, 11, 30, 9, 15)),
    ("between 2026-11-01 and 2026-11-03", dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 4)),
    ("2026-11-05", dt.datetime(2026, 11, 5), dt.datetime(2026, 11, 6)),
])
def test_started_ranges_in_guilds_words(spec, start, end):
    got = parse_started(spec, now=NOW)
    assert (got.start, got.end) == (start and start.timestamp(), end and end.timestamp())


def test_started_range_bounds():
    r = parse_started("yesterday", now=NOW)
    assert dt.datetime(2026, 11, 29, 23, 59).timestamp() in r
    assert dt.datetime(2026, 11, 30).timestamp() not in r and None not in r


def test_filter_on_batch_prefix_and_unlabeled(home):
    store = Store(str(home))
    for i, (label, batch) in enumerate([("", "ab" * 16), ("x", "cd" * 16)]):
        store.create(record(i, batch=batch, operation="t.py", started=10.0 + i, stopped=11.0 + i, label=label))
    assert _listed("-U") == [run_id(0)[:8]]
    assert _listed("-B", "cdc") == [run_id(1)[:8]]


def test_api_run_takes_label_and_tags(home):
    import hpwidgets as hp

    def objective(x=0.5):
        return {"loss": x * x}

    batch = hp.run(objective, flags={"x": [1.0, 2.0]}, label="sq", tags=["api", "square"], store=str(home))
    assert sorted((r.label, r.tags) for r in batch.runs) == [("sq", ("api", "square"))] * 2
