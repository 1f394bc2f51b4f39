"""The run options, declared once: each one's Python keyword, command-line name and panel field.

``RunOptions`` (plan.py) holds their values; ``hp.run``'s keywords and docstring, the parser of
``hpw run`` and ``%hprun`` (arguments.py), ``hp.panel``'s form and a batch's manifest are checked
against this tuple (tests/test_run_options.py), so an option added to one and forgotten in
another fails a test that names it. The core raises with ``name``; the adapters say ``cli``.

A batch's manifest keeps every option (``manifest_options``); ``--resume`` reads them back with
``from_manifest``, so a resumed batch runs as the interrupted one did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hpwidgets.core.search.plan import RunOptions


@dataclass(frozen=True)
class RunOption:
    name: str  # the Python keyword: RunOptions' field, hp.run's parameter, the manifest's key
    cli: str  # how `hpw run` and `%hprun` spell it, in their errors as on the command line
    panel: str | None = None  # the label of hp.panel's field for it; None: the form has none


RUN_OPTIONS: tuple[RunOption, ...] = (
    RunOption("optimizer", "--optimizer", panel="optimizer"),
    RunOption("max_trials", "--max-trials", panel="max trials"),
    RunOption("random_seed", "--random-seed", panel="seed"),
    RunOption("minimize", "--minimize"),
    RunOption("maximize", "--maximize"),
    RunOption("opt_flags", "-Fo"),
    RunOption("label", "--label"),
    RunOption("tags", "--tag"),
    RunOption("timeout", "--timeout"),
    RunOption("fail_fast", "--fail-fast"),
    RunOption("workers", "--workers"),
    RunOption("retries", "--retries"),
    RunOption("dask", "--dask"),
    RunOption("dask_files_max", "--dask-files-max"),
    RunOption("prune", "--prune"),
    RunOption("prune_flags", "-Fp"),
    RunOption("output_scalars", "--output-scalars"),
    RunOption("builtin_scalars", "--no-output-scalars"),
)


def cli_names() -> dict[str, str]:
    """``max_trials`` -> ``--max-trials``: how the command line names each run option."""
    return {o.name: o.cli for o in RUN_OPTIONS}


def panel_labels() -> dict[str, str]:
    """``random_seed`` -> ``seed``: the options hp.panel's form has, by their fields' labels."""
    return {o.name: o.panel for o in RUN_OPTIONS if o.panel}


def manifest_options(options: RunOptions) -> dict[str, Any]:
    """Every option as a batch's manifest keeps it (JSON): a Dask Client as its scheduler's address."""
    data = {o.name: getattr(options, o.name) for o in RUN_OPTIONS}  # asdict would deep-copy a Client
    data["opt_flags"], data["prune_flags"], data["tags"] = dict(options.opt_flags), dict(options.prune_flags), list(options.tags)
    data["output_scalars"] = list(options.output_scalars)
    if data["dask"] is not None and not isinstance(data["dask"], str):
        data["dask"] = getattr(data["dask"], "scheduler", None) and data["dask"].scheduler.address
    return data


def from_manifest(data: dict[str, Any]) -> RunOptions:
    """The options a manifest kept; one written before an option existed takes its default."""
    return RunOptions(**{o.name: data[o.name] for o in RUN_OPTIONS if o.name in data})
