"""The static record of a batch in its cell: what a saved, reopened or exported notebook shows.

A dashboard takes two outputs: this record, then the live widget view. While the widget view
is connected to its kernel, a style rule in the record hides the record; when the view is
missing (a reopened notebook: "model not found"), disconnected (its kernel restarted) or gone
(the batch ended and the view was cleared), the same rule hides the view's output and shows
the record. It is plain HTML plus a PNG: JupyterLab 4, Notebook 7 and nbconvert show it with
default settings, and its CSV link (a data: URL) needs no kernel.
"""

from __future__ import annotations

import base64
import html
import time
from collections.abc import Sequence
from typing import Any

from hpwidgets.core.records import RANKING_RULE, mixes_statuses

MAX_EMBEDDED_CSV = 2_000_000  # bytes: beyond this a notebook would carry too much

CSS = """
.hpw-record, .hpw-table {{ max-width: 100%; }}
.hpw-scroll {{ max-width: 100%; overflow-x: auto; }}
.hpw-rows {{ border-collapse: collapse; font: 12px/1.4 var(--jp-code-font-family, monospace); }}
.hpw-rows th, .hpw-rows td {{ padding: 2px 10px; text-align: right; white-space: nowrap; }}
.hpw-rows th {{ border-bottom: 1px solid #999; }}
.hpw-rows details {{ text-align: left; }}
.hpw-rows details pre {{ white-space: pre-wrap; max-width: 640px; font-size: 11px; margin: 2px 0; }}
.hpw-caption {{ font-size: 12px; margin: 4px 0; }}
.hpw-note {{ font-size: 12px; color: #8a4b00; }}
/* one of the two outputs shows: the live view while its kernel answers, else this record */
.jp-OutputArea-child:has(.hpw-record-{key}):has(+ .jp-OutputArea-child .hpw-live-{key}:not(.jupyter-widgets-disconnected)) {{ display: none; }}
.jp-OutputArea-child:has(.hpw-record-{key}) + .jp-OutputArea-child:not(:has(.hpw-live-{key}:not(.jupyter-widgets-disconnected))) {{ display: none; }}
"""


def csv_link(text: str, name: str) -> str:
    """A download link that carries the CSV itself, or a line saying how to get a big one."""
    data = text.encode("utf-8")
    if len(data) > MAX_EMBEDDED_CSV:
        return (f'<div class="hpw-note">The CSV ({len(data):,} bytes) is too large to keep in the notebook: '
                f'%hpcompare --csv FILE writes it.</div>')
    href = "data:text/csv;charset=utf-8;base64," + base64.b64encode(data).decode("ascii")
    return f'<a class="hpw-csv-link" download="{html.escape(name)}" href="{href}">Download CSV</a>'


def shown_runs(snap: Any, top: int) -> tuple[list[Any], str]:
    """The runs a batch's table shows (the top ``top``, then the running ones with their latest
    step and value) and its caption: the dashboard's and the Runs sidebar's."""
    best = snap.top(top)
    running = [r for r in snap.running() if r not in best]
    if snap.missing_objective():  # the note above the table says why, once
        return best + running, f"Runs in trial order: none printed {snap.objective.name}."
    tail = f", then {len(running)} running" if running else ""
    objective = snap.objective
    rule = f"; {RANKING_RULE}" if mixes_statuses(best, objective.last) else ""
    return best + running, (f"Top {len(best)} of {len(snap.runs)} runs by {objective.name} "
                            f"({objective.order}{rule}){tail}")


def table_html(columns: Sequence[str], rows: Sequence[Sequence[str]], caption: str = "",
               details: Sequence[str] = ()) -> str:
    """The runs table, every value escaped; a row's ``details`` (a failure's reason and output
    tail) open from its status cell with one click."""
    esc = html.escape
    status = list(columns).index("status") if "status" in columns else -1
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = []
    for i, row in enumerate(rows):
        note = details[i] if i < len(details) else ""
        tds = []
        for j, value in enumerate(row):
            if j == status and note:
                tds.append(f"<td><details><summary>{esc(value)}</summary><pre>{esc(note)}</pre></details></td>")
            else:
                tds.append(f"<td>{esc(value)}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    title = f'<div class="hpw-caption">{esc(caption)}</div>' if caption else ""
    return (f'{title}<div class="hpw-scroll"><table class="hpw-rows"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def record_html(key: str, plan_text: str, progress: str, png: bytes, table: str, csv: str, csv_name: str,
                note: str = "", picture_classes: str = "hpw-plot", curves: bytes = b"", curves_note: str = "",
                curves_width: int | None = None) -> str:
    picture = base64.b64encode(png).decode("ascii")
    img = (f'<img class="{picture_classes}" alt="hpwidgets plot" src="data:image/png;base64,{picture}">'
           if png else "")
    if curves:  # the learning curves, when trials reported steps
        data = base64.b64encode(curves).decode("ascii")
        width = f' width="{curves_width}"' if curves_width else ""  # drawn at twice this: sharp, not upscaled
        img += (f'<div class="hpw-curves"><img alt="learning curves"{width} src="data:image/png;base64,{data}">'
                f'<div class="hpw-curves-caption" style="font-size:12px">{html.escape(curves_note)}</div></div>')
    extra = f'<div class="hpw-note">{html.escape(note)}</div>' if note else ""
    return (f'<style>{CSS.format(key=key)}</style>'
            f'<div class="hpw-record hpw-record-{key}">'
            f'<pre class="hpw-plan" style="margin:0">{html.escape(plan_text)}</pre>'
            f'<div class="hpw-progress" style="font-family:monospace">{html.escape(progress)}</div>{extra}'
            f'{img}<div class="hpw-table">{table}{csv_link(csv, csv_name)}</div></div>')


def snapshot_note(finished: bool, batch_id: str, now: float | None = None, elsewhere: bool = False) -> str:
    """What a record written while the batch runs says, so that it never pretends to run. A batch
    that runs in a process of its own (``--detach``, or one this cell watches) outlives the
    kernel: the note says how to follow it, never that it ended."""
    if finished:
        return ""
    stamp = time.strftime("%H:%M:%S", time.localtime(now))
    if elsewhere:
        return (f"Recorded at {stamp} while the batch ran in a process of its own, which a kernel restart "
                f"does not stop: %hpwatch {batch_id[:8]} (or hpw watch {batch_id[:8]}) follows it.")
    return (f"Recorded at {stamp} while the batch ran. If its kernel is gone, the batch ended here: "
            f"%hprun --resume {batch_id[:8]} finishes it.")


def bundle(html_text: str, png: bytes, plain: str) -> dict[str, Any]:
    data: dict[str, Any] = {"text/plain": plain, "text/html": html_text}
    if png:
        data["image/png"] = base64.b64encode(png).decode("ascii")
    return data
