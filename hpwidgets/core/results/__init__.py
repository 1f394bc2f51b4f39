"""Reading runs back: the one read model of a batch (``read_model``), its progress and counts,
one cell format for every view (``formats``), Guild's columns, compare and filters, run
references, and what ``runs info`` and ``batches`` show.

May import ``hpwidgets.core.search`` and ``hpwidgets.core.store``; ``batch_info`` and
``stored_batch`` also ask ``hpwidgets.core.processes`` whether a batch still runs. Never an
adapter.
"""
