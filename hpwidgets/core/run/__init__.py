"""Running a batch: the engine's ask/run/tell loop, the trials it runs and where (executors),
the typed events it emits, the recorder that follows them into the store, and the scripts and
notebook cells a trial runs, with the scalars read from their output.

May import ``hpwidgets.core.search``, ``hpwidgets.core.store`` and the read model in
``hpwidgets.core.results.read_model``; never an adapter. One module (``executors/dask``)
imports dask.
"""
