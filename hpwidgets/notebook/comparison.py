"""What ``%hpcompare`` returns: the compared runs, shown once as a table, kept as a DataFrame.

The table is static HTML (run, status, the sorted-by column, the flags first; it scrolls inside
its own box) with a CSV link that carries the data itself, so a saved, reopened or exported
notebook keeps both without a kernel. ``.df`` is the pandas DataFrame with ``hpw compare``'s
columns; ``c = %hpcompare ...`` keeps it without showing anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hpwidgets.core.records import RunRecord
from hpwidgets.core.results import compare, formats
from hpwidgets.pictures import record


class Comparison:
    def __init__(self, records: Sequence[RunRecord], caption: str, sort: str | None = None,
                 columns: Sequence[str] | None = None) -> None:
        self.records = list(records)
        self.caption = caption
        self.sort = sort
        self.columns = list(columns) if columns else None  # chosen with -c/--skip-core: kept everywhere

    @property
    def df(self):
        """The runs as a DataFrame with the columns of ``hpw compare`` (and its CSV)."""
        return compare.records_frame(self.records, self.columns)

    def __len__(self) -> int:
        return len(self.records)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        columns = self.columns or formats.columns_for(self.records, brief=True, objective=self.sort)
        rows = [formats.row_text(r, columns) for r in self.records]
        table = record.table_html(columns, rows, self.caption)
        link = record.csv_link(compare.to_csv(self.records, self.columns), "hpw-compare.csv")
        style = f"<style>{record.CSS.format(key='compare')}</style>"
        html = f'{style}<div class="hpw-table hpw-compare">{table}{link}</div>'
        return {"text/html": html, "text/plain": compare.table(self.records, self.columns)}

    def __repr__(self) -> str:
        return f"<Comparison of {len(self.records)} runs>"
