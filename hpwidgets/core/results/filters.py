"""Run filters shared by ``runs``, ``compare`` and ``runs rm``: operation, label, tag, status,
batch and Guild's ``--started`` ranges.

``--started`` accepts (case does not matter)::

    last N minutes|hours|days|weeks      a rolling window ending now ("last hour" is N = 1)
    today | yesterday
    this week|month|year                 the calendar unit so far (weeks start on Monday)
    last week|month|year                 the previous calendar unit
    after DATETIME | before DATETIME | between DATETIME and DATETIME
    DATE                                 that whole day

DATETIME is ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM[:SS]`` or ``HH:MM[:SS]`` (today), local time.

``--filter`` compares a flag (or a scalar's last value) with a value; given several times,
every one must hold::

    expr   := ["flag:" | "scalar:"] NAME OP VALUE        (a bare NAME is a flag)
    OP     := "=" | "==" | "!=" | "<" | "<=" | ">" | ">="
    VALUE  := number | "true" | "false"                  compared with numbers only (true is 1)
            | "'" text "'" | '"' text '"' | bare-text     compared with text only
    bare-text := no spaces or quotes, not starting with = ! < >

A run without the flag or scalar (or whose value is missing) never matches; a flag that is a
list is compared as its JSON text. The index answers it (query.ValueTest).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from hpwidgets.core.records import RunRecord, Status
from hpwidgets.core.store.query import RunQuery, ValueTest

STARTED_ACCEPTED = ("'last N minutes|hours|days|weeks', 'last hour', 'today', 'yesterday', "
                    "'this week|month|year', 'last week|month|year', 'after DATETIME', 'before DATETIME', "
                    "'between DATETIME and DATETIME' or a date YYYY-MM-DD")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}
_ROLLING = re.compile(r"^last\s+(?:(\d+)\s+)?(minute|hour|day|week)s?$")
FILTER_ACCEPTED = ("NAME OP VALUE: NAME a flag (or scalar:NAME, a scalar's last value), OP one of "
                   "= != < <= > >=, VALUE a number, true, false or text, such as 'x > 0.5' or 'optimizer = adam'")
_EXPR = re.compile(r"^\s*(flag:|scalar:)?([^\s=!<>:'\"]+)\s*(==|=|!=|<=|>=|<|>)\s*(\S(?:.*\S)?)\s*$", re.DOTALL)
_BARE = re.compile(r"^[^\s'\"=!<>][^\s'\"]*$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class TimeRange:
    start: float | None  # seconds since the epoch, inclusive
    end: float | None  # exclusive
    text: str = ""

    def __contains__(self, ts: float | None) -> bool:
        if ts is None:
            return False
        return (self.start is None or ts >= self.start) and (self.end is None or ts < self.end)


def _day_start(d: dt.date) -> dt.datetime:
    return dt.datetime.combine(d, dt.time())


def _parse_datetime(text: str, now: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
    """The moment ``text`` names and the end of the span it covers (a date covers its day)."""
    text = text.strip()
    try:
        day = dt.date.fromisoformat(text)
        return _day_start(day), _day_start(day) + dt.timedelta(days=1)
    except ValueError:
        pass
    for form in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%H:%M:%S", "%H:%M"):
        try:
            moment = dt.datetime.strptime(text, form)
        except ValueError:
            continue
        if not form.startswith("%Y"):
            moment = dt.datetime.combine(now.date(), moment.time())
        return moment, moment
    return None


def parse_started(text: str, now: dt.datetime | None = None) -> TimeRange:
    """A ``--started`` range in Guild's words; ValueError names the accepted forms."""
    now = now or dt.datetime.now()
    spec = " ".join(text.lower().split())
    start, end = _calendar(spec, now) or _relative(spec, now) or (None, None)
    if start is None and end is None:
        raise ValueError(f"{text!r} (accepted: {STARTED_ACCEPTED})")
    return TimeRange(start.timestamp() if start else None, end.timestamp() if end else None, text)


def _calendar(spec: str, now: dt.datetime) -> tuple[dt.datetime | None, dt.datetime | None] | None:
    today = _day_start(now.date())
    if spec == "today":
        return today, None
    if spec == "yesterday":
        return today - dt.timedelta(days=1), today
    week = today - dt.timedelta(days=today.weekday())
    month = today.replace(day=1)
    year = today.replace(month=1, day=1)
    if spec == "this week":
        return week, None
    if spec == "this month":
        return month, None
    if spec == "this year":
        return year, None
    if spec == "last week":
        return week - dt.timedelta(days=7), week
    if spec == "last month":
        return (month - dt.timedelta(days=1)).replace(day=1), month
    if spec == "last year":
        return year.replace(year=year.year - 1), year
    return None


def _relative(spec: str, now: dt.datetime) -> tuple[dt.datetime | None, dt.datetime | None] | None:
    m = _ROLLING.match(spec)
    if m:
        count = int(m.group(1) or 1)
        return now - dt.timedelta(seconds=count * _UNITS[m.group(2)]), None
    if spec.startswith("after "):
        span = _parse_datetime(spec[len("after "):], now)
        return (span[0], None) if span else None
    if spec.startswith("before "):
        span = _parse_datetime(spec[len("before "):], now)
        return (None, span[0]) if span else None
    if spec.startswith("between ") and " and " in spec:
        first, _, second = spec[len("between "):].partition(" and ")
        a, b = _parse_datetime(first, now), _parse_datetime(second, now)
        return (a[0], b[1]) if a and b else None  # a date as the end covers its whole day
    span = _parse_datetime(spec, now)
    if span and span[0] != span[1]:
        return span
    return None


def parse_filter(text: str) -> ValueTest:
    """A ``--filter`` expression (see the grammar above); ValueError names the accepted form."""
    m = _EXPR.match(text)
    if not m:
        raise ValueError(f"{text!r} (accepted: {FILTER_ACCEPTED})")
    kind, name, op, raw = m.groups()
    return ValueTest(name, "=" if op == "==" else op, _filter_value(text, raw), scalar=kind == "scalar:")


def _filter_value(text: str, raw: str) -> int | float | str:
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    if not _BARE.match(raw):  # a typo ('x =< 1', an unclosed quote) is no text to compare with
        raise ValueError(f"{text!r}: {raw!r} is not a value (quote text with spaces or quotes, or that starts "
                         f"with =, !, < or >) (accepted: {FILTER_ACCEPTED})")
    if raw in ("true", "false"):
        return int(raw == "true")
    if _NUMBER.match(raw):
        if re.fullmatch(r"[+-]?\d+", raw) and -(1 << 63) <= int(raw) < 1 << 63:  # what SQLite holds as one
            return int(raw)
        if float(raw) in (float("inf"), float("-inf")):
            raise ValueError(f"{text!r}: {raw} is too large for a number (accepted: {FILTER_ACCEPTED})")
        return float(raw)
    return raw


@dataclass(frozen=True)
class RunFilter:
    operations: tuple[str, ...] = ()  # a run matches when its operation contains one of them
    labels: tuple[str, ...] = ()  # ... its label contains one of them
    unlabeled: bool = False
    tags: tuple[str, ...] = ()  # ... it has one of these tags
    statuses: frozenset[Status] = frozenset()
    batch: str | None = None  # the start of a batch id
    started: TimeRange | None = None
    values: tuple[ValueTest, ...] = ()  # --filter: every one holds

    def __bool__(self) -> bool:
        return bool(self.operations or self.labels or self.unlabeled or self.tags or self.statuses
                    or self.batch or self.started or self.values)

    def matches(self, r: RunRecord) -> bool:
        return (
            (not self.operations or any(o in r.operation for o in self.operations))
            and (not self.labels or any(text in r.label for text in self.labels))
            and (not self.unlabeled or not r.label)
            and (not self.tags or any(t in r.tags for t in self.tags))
            and (not self.statuses or r.status in self.statuses)
            and (not self.batch or r.batch.startswith(self.batch.lower()))
            and (self.started is None or r.started in self.started)
            and all(test.holds(r) for test in self.values)
        )

    def query(self, batch: str | None = None) -> RunQuery:
        """The store's query for this filter; ``batch``: the whole id the batch prefix names."""
        started = self.started or TimeRange(None, None)
        return RunQuery(batch=batch, batch_prefix=None if batch else self.batch, operations=self.operations,
                        labels=self.labels, unlabeled=self.unlabeled, tags=self.tags, statuses=self.statuses,
                        started_from=started.start, started_before=started.end, values=self.values)

    def apply(self, records: Sequence[RunRecord]) -> list[RunRecord]:
        return [r for r in records if self.matches(r)] if self else list(records)
