"""The run store on disk: one directory per run is the truth, a SQLite index is its cache.

``runstore`` is the store itself; ``run_files`` writes and reads one run's files; ``safety``
refuses what we did not write; ``paths`` says where a store and its index live; ``trash`` is
``runs rm``/``restore``/``purge``; ``index`` is the SQLite cache.

May import ``hpwidgets.core.errors``, ``hpwidgets.core.records`` and ``hpwidgets.core.search``
(a manifest's plan), nothing of the runner or the adapters.
"""
