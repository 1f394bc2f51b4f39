"""The pure core of hpwidgets: no IPython, ipywidgets, anywidget or matplotlib here."""
