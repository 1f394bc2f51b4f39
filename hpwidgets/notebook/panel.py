"""``hp.panel("train.py")``: a form over a script's flags that runs a batch with its dashboard.

Each flag gets a text box in the flag syntax (``0.1``, ``[-2,0,2]``, ``[-2.0:2.0]``), prefilled
with its default; only the boxes that differ from their default become flags of the batch.
"""

from __future__ import annotations

import html
from typing import Any

from ipywidgets import HTML, Button, Dropdown, HBox, Layout, Text, VBox

from hpwidgets.core.errors import HpwError, OptionError
from hpwidgets.core.run.batch import Batch, prepare
from hpwidgets.core.run.scripts import inspect_script
from hpwidgets.core.search.flags import format_value
from hpwidgets.core.search.plan import RunOptions
from hpwidgets.core.search.run_options import panel_labels
from hpwidgets.core.store.runstore import Store
from hpwidgets.notebook.dashboard import Dashboard

__all__ = ["Panel", "panel"]

OPTIMIZERS = [("auto (grid, or random for ranges)", ""), ("grid", "grid"), ("random", "random"),
              ("gp (Bayesian)", "gp"), ("forest", "forest"), ("gbrt", "gbrt")]
_WIDE = {"description_width": "110px"}


class Panel:
    def __init__(self, script: str, store: Store | None = None) -> None:
        self.info = inspect_script(script)
        self.store = store
        self.batch: Batch | None = None
        self.dashboard: Dashboard | None = None
        self.defaults = {n: "" if f.default is None else format_value(f.default) for n, f in self.info.flags.items()}
        self.fields = {n: _field(n, v, self.info.flags[n].choices) for n, v in self.defaults.items()}
        label = panel_labels()  # the run options the form has, by their fields' labels
        self.optimizer = Dropdown(options=OPTIMIZERS, value="", description=label["optimizer"], style=_WIDE,
                                  layout=Layout(width="max-content"))  # the default width cuts "auto (...)"
        self.max_trials = Text(value="", placeholder="default", description=label["max_trials"], style=_WIDE)
        self.seed = Text(value="", placeholder="random", description=label["random_seed"], style=_WIDE)
        self.option_fields = {"optimizer": self.optimizer, "max_trials": self.max_trials, "random_seed": self.seed}
        self.run_button = Button(description="Run", icon="play", button_style="primary").add_class("hpw-run")
        self.run_button.on_click(self._on_run)
        self.error = HTML().add_class("hpw-error")
        self.output = VBox()
        title = HTML(f"<b>{html.escape(self.info.name)}</b>")
        self.widget = VBox([title, *self.fields.values(), *self.option_fields.values(),
                            HBox([self.run_button]), self.error, self.output],
                           layout=Layout(width="100%")).add_class("hpw-panel")

    def flags(self) -> dict[str, str]:
        """The boxes that differ from the script's defaults (an empty box keeps the default)."""
        out = {}
        for name, box in self.fields.items():
            text = box.value.strip()
            if text and text != self.defaults[name]:
                out[name] = text
        return out

    def options(self) -> RunOptions:
        """The options the form has (``option_fields``); the others keep their defaults."""
        return RunOptions(optimizer=self.optimizer.value or None,
                          max_trials=_whole("max_trials", self.max_trials.value),
                          random_seed=_whole("random_seed", self.seed.value))

    def _on_run(self, _button: Any = None) -> None:
        self.error.value = ""
        try:
            batch = prepare(self.info.path, self.flags(), self.options(), self.store or Store(), want_model=True)
            dashboard = Dashboard(batch)
        except HpwError as exc:
            if isinstance(exc, OptionError):
                exc = exc.renamed(panel_labels())  # the panel's own words for its fields
            self.error.value = f'<span style="color:#b00020">{html.escape(str(exc))}</span>'
            return
        self.batch, self.dashboard = batch, dashboard
        dashboard.when_drawn(self._on_drawn)  # called on the dashboard's drawing thread
        self.output.children = (dashboard.widget,)
        self.run_button.disabled = True
        batch.start(background=True)

    @property
    def stop_button(self) -> Button | None:
        """The running batch's Stop: the dashboard's own, so there is one Stop, not two."""
        return None if self.dashboard is None else self.dashboard.stop_button

    def _on_drawn(self) -> None:
        self.run_button.disabled = False

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """The form where widgets run; a line naming the script and its flags elsewhere."""
        text = f"hpwidgets panel for {self.info.name} (flags: {', '.join(self.fields) or 'none'})"
        data = dict(self.widget._repr_mimebundle_() or {})
        data.update({"text/plain": text, "text/html": f"<p class=\"hpw-panel\">{html.escape(text)}</p>"})
        return data


def _field(name: str, default: str, choices: tuple[Any, ...]) -> Text | Dropdown:
    """A text box in the flag syntax; a dropdown for a flag with choices (each one, or all of
    them as a grid)."""
    if not choices:
        return Text(value=default, description=name, placeholder="0.1, [-2,0,2] or [-2.0:2.0]", style=_WIDE)
    texts = [format_value(c) for c in choices]
    options = [(t, t) for t in texts] + [(f"all: [{','.join(texts)}]", f"[{','.join(texts)}]")]
    value = default if default in texts else texts[0]
    return Dropdown(options=options, value=value, description=name, style=_WIDE, layout=Layout(width="max-content"))


def _whole(label: str, text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise OptionError(label, text, "a whole number, or empty for the default") from None


def panel(script: str, store: Store | None = None) -> Panel:
    """A control panel for ``script``: its flags, an optimizer, max trials, seed, Run and Stop."""
    return Panel(script, store)
