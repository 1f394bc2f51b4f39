"""Which plot the headless tutorial writes out as <notebook>.png."""

from __future__ import annotations

import base64

import nbformat.v4 as nbf

from hpwidgets.notebook.tutorial import plot_png


def cell_with_png(payload: bytes, tags=()):
    cell = nbf.new_code_cell("%hprun ...", metadata={"tags": list(tags)} if tags else {})
    cell.outputs = [nbf.new_output("display_data", data={"image/png": base64.b64encode(payload).decode(),
                                                         "text/plain": "plot"})]
    return cell


def test_the_tagged_cells_plot_is_chosen_over_later_plots():
    nb = nbf.new_notebook(cells=[cell_with_png(b"grid"), cell_with_png(b"tutorial", tags=["plot"]),
                                 cell_with_png(b"early stopping")])
    assert plot_png(nb) == b"tutorial"


def test_without_a_tagged_cell_the_last_plot_is_chosen():
    nb = nbf.new_notebook(cells=[cell_with_png(b"grid"), cell_with_png(b"early stopping"),
                                 nbf.new_markdown_cell("no output")])
    assert plot_png(nb) == b"early stopping"


def test_a_tagged_cell_without_a_plot_gives_none():
    nb = nbf.new_notebook(cells=[cell_with_png(b"grid"), nbf.new_code_cell("x = 1", metadata={"tags": ["plot"]})])
    assert plot_png(nb) is None
