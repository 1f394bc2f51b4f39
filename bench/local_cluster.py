"""A local Dask cluster for the benches: a `dask scheduler` and `dask worker --nworkers W
--nthreads T` started here on 127.0.0.1, each in a session of its own, logged to cluster.log."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_cluster(folder: str, workers: int, threads: int) -> tuple[str, list[subprocess.Popen]]:
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = open(os.path.join(folder, "cluster.log"), "a")  # noqa: SIM115
    common = dict(stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=folder)
    dask = [sys.executable, "-m", "dask"]
    procs = [
        subprocess.Popen([*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], **common),
        subprocess.Popen([*dask, "worker", address, "--nworkers", str(workers), "--nthreads", str(threads),
                          "--no-dashboard", "--host", "127.0.0.1", "--local-directory", folder], **common),
    ]  # fmt: skip
    from distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(workers, timeout=60)
    return address, procs


def stop_cluster(procs: list[subprocess.Popen]) -> None:
    for proc in reversed(procs):
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
