"""Pictures without widgets: the objective plot, learning curves, flag plots and the static HTML
record of a batch, as matplotlib Figures (never pyplot) drawn to PNG, and HTML strings.

Used by the notebook's widgets, the ``hpw plot`` command and the server extension alike. May
import ``hpwidgets.core`` and matplotlib; never IPython, ipywidgets or anywidget.
"""
