"""Stop a batch that runs in another process of ours on this machine: a kernel, an `hpw run`.

While a batch runs, its process listens on a Unix socket in Linux's abstract namespace named
after the batch: no file to leave behind when the process dies, no limit from the store's path
length. A stop request is one connection that says ``stop``. Both ends read the other's
credentials (``SO_PEERCRED``): the listener obeys only its own user, and a request is sent
only to a listener of that user, so nobody else can stop our batch or pose as it. The listener's
thread blocks in ``accept``: nothing polls. Where abstract sockets do not exist (not Linux), a
batch simply does not listen, and stopping it from elsewhere says so.
"""

from __future__ import annotations

import os
import socket
import struct
import threading
from collections.abc import Callable

_REQUEST, _ANSWER = b"stop\n", b"stopping\n"
_TIMEOUT = 5.0  # seconds a request waits for the listener's answer


def _address(batch_id: str) -> str:
    return f"\0hpwidgets-stop-{os.getuid()}-{batch_id}"


def _peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


class StopListener:
    """Calls ``on_stop`` when a process of the same user asks this batch to stop."""

    def __init__(self, sock: socket.socket, on_stop: Callable[[], None]) -> None:
        self._sock, self._on_stop = sock, on_stop
        self._thread = threading.Thread(target=self._serve, name="hpw-stop-listener", daemon=True)
        self._thread.start()

    @classmethod
    def open(cls, batch_id: str, on_stop: Callable[[], None]) -> StopListener | None:
        """Listen for ``batch_id``; None where this system cannot (the batch still runs)."""
        if not hasattr(socket, "AF_UNIX") or not hasattr(socket, "SO_PEERCRED"):
            return None
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(_address(batch_id))
            sock.listen(8)
        except OSError:  # no abstract namespace here, or the name is taken: stop it where it runs
            sock.close()
            return None
        return cls(sock, on_stop)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:  # closed: the batch ended
                return
            with conn:
                try:
                    conn.settimeout(_TIMEOUT)
                    if _peer_uid(conn) != os.getuid() or conn.recv(len(_REQUEST)) != _REQUEST:
                        continue  # another user, or a probe that only asks whether we listen
                    self._on_stop()
                    conn.sendall(_ANSWER)
                except OSError:
                    continue

    def close(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept
        except OSError:
            pass
        self._sock.close()
        self._thread.join(_TIMEOUT)


def _connect(batch_id: str) -> socket.socket | None:
    """A connection to the batch's listener when one of our own processes holds it."""
    if not hasattr(socket, "SO_PEERCRED"):
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(_TIMEOUT)
    try:
        sock.connect(_address(batch_id))
        if _peer_uid(sock) == os.getuid():
            return sock
    except OSError:
        pass
    sock.close()
    return None


def listening(batch_id: str) -> bool:
    """Whether a process of ours on this machine would take a stop request for the batch."""
    sock = _connect(batch_id)
    if sock is None:
        return False
    sock.close()
    return True


def request_stop(batch_id: str) -> bool:
    """Ask the batch's process to stop it; True once it said it is stopping."""
    sock = _connect(batch_id)
    if sock is None:
        return False
    with sock:
        try:
            sock.sendall(_REQUEST)
            return sock.recv(len(_ANSWER)) == _ANSWER
        except OSError:
            return False
