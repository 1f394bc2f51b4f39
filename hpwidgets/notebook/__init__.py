"""The notebook front: magics, the live dashboard (plot, progress, top-N table) and the panel.

Adapters only: they subscribe to the core's events and never change how a batch runs.
"""
