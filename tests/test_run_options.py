"""The run options are declared once (core/search/run_options.py); RunOptions, hp.run's keywords
and docstring, the parser of `hpw run` and `%hprun`, hp.panel's form and a batch's manifest
each have exactly the declared ones, and a missing one is named."""

from __future__ import annotations

import inspect
import json
from dataclasses import fields

import pytest

import hpwidgets as hp
from hpwidgets.arguments import option_names, run_options, run_parser
from hpwidgets.core.search.plan import RunOptions
from hpwidgets.core.search.run_options import RUN_OPTIONS, RunOption, from_manifest, manifest_options
from hpwidgets.notebook.panel import Panel

API_ONLY = {"store", "show", "background", "truth", "top", "detach"}  # hp.run's keywords that are not run options
COMMAND_ONLY = {"help", "resume", "preview", "detach", "help_flags", "truth", "wait", "top", "yes"}  # parser dests

# Each option with a value other than its default, in Python and on a command line (with what it needs).
SAMPLES: dict[str, tuple[dict, list[str]]] = {
    "optimizer": ({"optimizer": "gp"}, ["--optimizer", "gp"]),
    "max_trials": ({"max_trials": 7}, ["--max-trials", "7"]),
    "random_seed": ({"random_seed": 3}, ["--random-seed", "3"]),
    "minimize": ({"minimize": "err"}, ["--minimize", "err"]),
    "maximize": ({"maximize": "acc"}, ["--maximize", "acc"]),
    "opt_flags": ({"opt_flags": {"kappa": "2.5"}}, ["-Fo", "kappa=2.5"]),
    "label": ({"label": "first try"}, ["--label", "first try"]),
    "tags": ({"tags": ("a", "b")}, ["--tag", "a", "--tag", "b"]),
    "timeout": ({"timeout": 2.5}, ["--timeout", "2.5"]),
    "fail_fast": ({"fail_fast": True}, ["--fail-fast"]),
    "workers": ({"workers": 3}, ["--workers", "3"]),
    "retries": ({"retries": 2}, ["--retries", "2"]),
    "dask": ({"dask": "tcp://127.0.0.1:8786"}, ["--dask", "tcp://127.0.0.1:8786"]),
    "dask_files_max": ({"dask_files_max": 2 * 1024 * 1024}, ["--dask-files-max", "2"]),
    "prune": ({"prune": "asha"}, ["--prune", "asha"]),
    "prune_flags": ({"prune": "median", "prune_flags": {"warmup-steps": "5"}}, ["--prune", "median", "-Fp", "warmup-steps=5"]),
    "output_scalars": ({"output_scalars": (r"acc=(\value)",)}, ["--output-scalars", r"acc=(\value)"]),
    "builtin_scalars": ({"builtin_scalars": False}, ["--no-output-scalars"]),
}

PANEL_SAMPLES = {"optimizer": ("gp", "gp"), "max_trials": ("7", 7), "random_seed": ("3", 3)}  # text -> value


def unmatched(declared: tuple[RunOption, ...], found: list[str], where: str) -> list[str]:
    """What differs between the declared names and the names an interface has, one line each."""
    names = [o.name for o in declared]
    return ([f"{n}: declared, missing from {where}" for n in names if n not in found]
            + [f"{n}: in {where}, not declared" for n in found if n not in names])


def _keywords() -> dict[str, inspect.Parameter]:
    params = inspect.signature(hp.run).parameters.values()
    return {p.name: p for p in params if p.kind is p.KEYWORD_ONLY and p.name not in API_ONLY}


def _parser_names(declared: tuple[RunOption, ...]) -> list[str]:
    """The run parser's options by declared name; one that no declared option spells, by its flags."""
    found = []
    for action in run_parser(notebook=True)._actions:
        if not action.option_strings or action.dest in COMMAND_ONLY:
            continue
        named = [o.name for o in declared if o.cli in action.option_strings]
        found += named or ["/".join(action.option_strings)]
    return found


def interfaces(declared: tuple[RunOption, ...], train_py: str) -> dict[str, list[str]]:
    doc = hp.run.__doc__ or ""
    return {
        "RunOptions": [f.name for f in fields(RunOptions)],
        "hp.run's keywords": list(_keywords()),
        "hp.run's docstring": [n for n in _keywords() if f"``{n}``" in doc],
        "the run parser": _parser_names(declared),
        "hp.panel's form": list(Panel(train_py).option_fields),
        "a batch's manifest": list(manifest_options(RunOptions())),
    }


def _declared_for(where: str, declared: tuple[RunOption, ...]) -> tuple[RunOption, ...]:
    return tuple(o for o in declared if o.panel) if where == "hp.panel's form" else declared


def test_every_interface_has_exactly_the_declared_options(train_py):
    found = interfaces(RUN_OPTIONS, train_py)
    assert {where: unmatched(_declared_for(where, RUN_OPTIONS), names, where) for where, names in found.items()} == {
        where: [] for where in found
    }


@pytest.mark.parametrize("option", RUN_OPTIONS, ids=lambda o: o.name)
def test_an_option_left_out_of_the_declaration_is_named_by_each_interface(option, train_py):
    declared = tuple(o for o in RUN_OPTIONS if o is not option)
    flags = next("/".join(a.option_strings) for a in run_parser()._actions if option.cli in a.option_strings)
    expected = {
        "RunOptions": [f"{option.name}: in RunOptions, not declared"],
        "hp.run's keywords": [f"{option.name}: in hp.run's keywords, not declared"],
        "hp.run's docstring": [f"{option.name}: in hp.run's docstring, not declared"],
        "the run parser": [f"{flags}: in the run parser, not declared"],
        "hp.panel's form": [f"{option.name}: in hp.panel's form, not declared"] if option.panel else [],
        "a batch's manifest": [f"{option.name}: in a batch's manifest, not declared"],
    }
    found = interfaces(declared, train_py)
    assert {where: unmatched(_declared_for(where, declared), names, where) for where, names in found.items()} == expected


@pytest.mark.parametrize("option", RUN_OPTIONS, ids=lambda o: o.name)
def test_an_interface_without_a_declared_option_is_named(option, train_py):
    for where, names in interfaces(RUN_OPTIONS, train_py).items():
        if option.name in names:
            without = [n for n in names if n != option.name]
            assert unmatched(_declared_for(where, RUN_OPTIONS), without, where) == [
                f"{option.name}: declared, missing from {where}"
            ]


def test_every_option_has_a_sample_value():
    assert list(SAMPLES) == [o.name for o in RUN_OPTIONS]
    assert list(PANEL_SAMPLES) == [o.name for o in RUN_OPTIONS if o.panel]


@pytest.mark.parametrize("option", RUN_OPTIONS, ids=lambda o: o.name)
def test_the_command_line_sets_each_option(option):
    given, argv = SAMPLES[option.name]
    assert run_options(run_parser().parse_args(["train.py", *argv])) == RunOptions(**given)
    assert option_names()[option.name] == option.cli  # what the CLI's and the magics' errors say


@pytest.mark.parametrize("option", RUN_OPTIONS, ids=lambda o: o.name)
def test_hp_run_defaults_each_option_as_run_options_does(option):
    default = _keywords()[option.name].default
    assert RunOptions(**{option.name: default}) == RunOptions()


@pytest.mark.parametrize("option", RUN_OPTIONS, ids=lambda o: o.name)
def test_a_manifest_keeps_each_option(option):
    options = RunOptions(**SAMPLES[option.name][0])
    kept = json.loads(json.dumps(manifest_options(options)))
    assert from_manifest(kept) == options
    assert getattr(from_manifest(kept), option.name) != getattr(RunOptions(), option.name)


def test_a_manifest_written_before_an_option_existed_reads_with_its_default():
    kept = manifest_options(RunOptions(max_trials=4))
    del kept["prune_flags"], kept["dask_files_max"]
    assert from_manifest(kept) == RunOptions(max_trials=4)


@pytest.mark.parametrize("option", [o for o in RUN_OPTIONS if o.panel], ids=lambda o: o.name)
def test_the_panel_sets_each_of_its_options(option, train_py):
    panel = Panel(train_py)
    text, value = PANEL_SAMPLES[option.name]
    field = panel.option_fields[option.name]
    assert field.description == option.panel
    field.value = text
    assert getattr(panel.options(), option.name) == value
    assert panel.options() == RunOptions(**{option.name: value})
