"""Guild's column specs for compare: ``-c/--columns`` picks columns, ``--skip-core`` drops the
run attributes.

A spec is a comma-separated list of: a run attribute (``run``, ``operation``, ``started``,
``time``, ``status``, ``label``, ``step``), a flag or a scalar by name (``=NAME`` for the flag of
that name), or ``min NAME`` / ``max NAME`` / ``last NAME`` for a scalar over everything the run
printed. ``run`` always leads the row, as in Guild.
"""

from __future__ import annotations

from collections.abc import Sequence

from hpwidgets.core.errors import OptionError
from hpwidgets.core.records import RunRecord
from hpwidgets.core.results.formats import BASE_COLUMNS, columns_for
from hpwidgets.core.store.runstore import Store

SUMMARIES = ("min", "max", "last")
CORE = tuple(c for c in BASE_COLUMNS if c != "run")  # what --skip-core drops: all but the run


def skip_core(columns: list[str]) -> list[str]:
    return [c for c in columns if c not in CORE]


def parse_columns(spec: str, records: Sequence[RunRecord]) -> list[str]:
    """The columns a spec names, ``run`` first; an unknown name is an OptionError of ``columns``."""
    known = set(columns_for(records)) | {n for r in records for n in (*r.flags, *r.scalars)}
    scalars = sorted({n for r in records for n in r.scalars})
    out = ["run"]
    for raw in spec.split(","):
        name = " ".join(raw.split())
        words = name.split(" ", 1)
        ok = name in known or name.startswith("=") and name[1:] in known
        if len(words) == 2 and words[0] in SUMMARIES:
            ok = words[1] in scalars
        if not name or not ok:
            accepted = ", ".join([*BASE_COLUMNS, "step", *sorted({n for r in records for n in r.flags}),
                                  *scalars, *(f"{s} {n}" for s in SUMMARIES for n in scalars[:1])])
            raise OptionError("columns", name, f"{accepted}, ...", reason="no such column")
        if name not in out:
            out.append(name)
    return out


def with_summaries(store: Store, records: Sequence[RunRecord], columns: Sequence[str]) -> list[RunRecord]:
    """Records whose scalars also hold the ``min NAME``/``max NAME``/``last NAME`` columns asked
    for, read from each run's series (only when such a column is asked: it reads one file a run)."""
    wanted = [c.split(" ", 1) for c in columns if " " in c and c.split(" ", 1)[0] in SUMMARIES]
    if not wanted:
        return list(records)
    out = []
    for r in records:
        series = store.series(r.id)
        extra = {}
        for how, name in wanted:
            values = [v for _, v in series.get(name, [])] or ([r.scalars[name]] if name in r.scalars else [])
            if values:
                extra[f"{how} {name}"] = {"min": min, "max": max, "last": lambda v: v[-1]}[how](values)
        out.append(r.evolve(scalars={**r.scalars, **extra}))
    return out
