"""The pure core of hpwidgets: no IPython, ipywidgets, anywidget or matplotlib here.

Its folders are its parts, each resting on the ones above it:

- ``errors``, ``records``: the error tree and the frozen run records every part speaks in.
- ``search/``: flags and their syntax, search spaces, the batch plan, the objective, priors,
  optimizers (ask/tell) and pruners, and what explains a finished search.
- ``store/``: the run store on disk: run files, the SQLite index, safety checks, paths, the
  trash, and batch manifests.
- ``run/``: running a batch: the engine's ask/run/tell loop, trials, executors, events, the
  recorder that writes them to the store, output scalars and scripts.
- ``processes/``: what outlives a call: detached supervisors, watching a batch from its event
  log, batch locks, process owners, stop requests.
- ``results/``: reading runs back: the batch read model, progress and counts, cell formats,
  columns, compare, filters, run references, run and batch info.

Adapters (``hpwidgets.cli``, ``hpwidgets.notebook``, ``hpwidgets.labserver``) import the core,
never the reverse; a test walks every import and fails on a circle.
"""
