"""Where trials run: subprocesses on this machine, the calling process, or a Dask cluster."""
