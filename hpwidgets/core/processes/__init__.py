"""What outlives a call: a detached batch's supervisor, following a batch from its event log
(``watch``), the lock a live batch holds, who owns a run (a live process or a dead one), and
stop requests sent to a batch in another process.

May import ``hpwidgets.core.run``, ``hpwidgets.core.store`` and ``hpwidgets.core.results``;
never an adapter.
"""
