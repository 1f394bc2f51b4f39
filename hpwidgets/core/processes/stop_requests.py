"""Stop a batch that runs in another process of ours on this machine: a kernel, an `hpw run`.

While a batch runs, its process listens on a Unix socket in a directory only its user can enter
(made by us with mode 0700 and checked to be ours, never a link: ``safety.private_dir``), so no
other user can connect to it, take its name or flood it. The socket's name is a keyed hash of
the batch id (the key: a random private file beside it), so ``/proc/net/unix``, which every
user reads, shows no batch id. The first such directory that is ours is used:
``$XDG_RUNTIME_DIR/hpwidgets``, ``/tmp/hpwidgets-UID/stop``, ``~/.cache/hpwidgets/stop``; one
that another user made first is passed over with one line saying so, and the batch listens in
the next. A request tries each in turn. A stop request is one connection that says ``stop``;
the listener also checks the peer's credentials (``SO_PEERCRED``). The listener's thread
blocks in ``accept``: nothing polls. Where Unix sockets do not exist, a batch simply does not
listen, and stopping it from elsewhere says so.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import socket
import struct
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator

from hpwidgets.core.errors import HpwError
from hpwidgets.core.store import safety

_REQUEST, _ANSWER = b"stop\n", b"stopping\n"
_TIMEOUT = 5.0  # seconds a request waits for the listener's answer
_KEY = "key"
_MAX_PATH = 107  # sun_path holds 108 bytes with its NUL


class StopTimeout(HpwError):
    """The batch's process took the request and did not answer in time."""


def _places() -> list[str]:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    places = [os.path.join(runtime, "hpwidgets")] if runtime and os.path.isabs(runtime) else []
    places.append(os.path.join(tempfile.gettempdir(), f"hpwidgets-{os.geteuid()}", "stop"))
    places.append(os.path.join(os.path.expanduser("~"), ".cache", "hpwidgets", "stop"))
    return places


def _made(place: str) -> bool:
    """Whether ``place`` is (now) a private directory of ours; says once why not."""
    try:
        parent = os.path.dirname(place)
        if not os.path.isdir(parent):
            os.makedirs(parent, mode=0o700, exist_ok=True)
        if os.path.basename(parent).startswith("hpwidgets-"):
            safety.private_dir(parent)  # /tmp/hpwidgets-UID: anyone may have made it first
        safety.private_dir(place)
    except safety.UnsafePathError as exc:
        safety.report(place, f"{exc}; stop requests are taken in the next place")
        return False
    except OSError:
        return False
    return True


def _name(place: str, batch_id: str) -> str | None:
    """The socket's path in ``place``: a keyed hash of the batch id (None when it cannot be had)."""
    path = os.path.join(place, _KEY)
    try:
        fd = safety.open_private(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        with os.fdopen(fd, "wb") as fh:
            fh.write(os.urandom(32))
    except FileExistsError:
        pass
    except (OSError, safety.UnsafePathError):
        return None
    try:
        key = safety.read_private(path)
    except (OSError, safety.UnsafePathError):
        return None
    name = os.path.join(place, hmac.new(key, batch_id.encode(), hashlib.sha256).hexdigest()[:32])
    return name if len(name.encode()) <= _MAX_PATH else None


def _addresses(batch_id: str, make: bool) -> Iterator[str]:
    for place in _places():
        if make and not _made(place):
            continue
        if not make:
            try:
                if safety.problem(place, os.lstat(place)):
                    continue
            except OSError:
                continue
        name = _name(place, batch_id)
        if name:
            yield name


def _peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def _bind(address: str) -> socket.socket | None:
    """A listening socket at ``address``; a socket file left by a dead process is replaced."""
    for _ in range(2):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(address)
            os.chmod(address, 0o600)
            sock.listen(socket.SOMAXCONN)
            return sock
        except OSError:
            sock.close()
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(address)
        except ConnectionRefusedError:  # nobody listens: a crashed process left it
            os.unlink(address)
            continue
        except OSError:
            return None
        finally:
            probe.close()
        print(f"hpwidgets: the stop request name {address} is taken by a live process of yours; "
              "stop requests are taken in the next place", file=sys.stderr)
        return None
    return None


class StopListener:
    """Calls ``on_stop`` when a process of the same user asks this batch to stop."""

    def __init__(self, sock: socket.socket, address: str, on_stop: Callable[[], None]) -> None:
        self._sock, self._address, self._on_stop = sock, address, on_stop
        self._thread = threading.Thread(target=self._serve, name="hpw-stop-listener", daemon=True)
        self._thread.start()

    @classmethod
    def open(cls, batch_id: str, on_stop: Callable[[], None]) -> StopListener | None:
        """Listen for ``batch_id``; None where this system cannot (the batch still runs)."""
        if not hasattr(socket, "AF_UNIX") or not hasattr(socket, "SO_PEERCRED"):
            return None
        for address in _addresses(batch_id, make=True):
            sock = _bind(address)
            if sock is not None:
                return cls(sock, address, on_stop)
        return None

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
            os.unlink(self._address)
        except OSError:
            pass
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
    for address in _addresses(batch_id, make=False):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(_TIMEOUT)
        try:
            sock.connect(address)
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
    """Ask the batch's process to stop it; True once it said it is stopping, False when no
    process of ours listens for it. Raises StopTimeout when one took the request unanswered."""
    sock = _connect(batch_id)
    if sock is None:
        return False
    with sock:
        try:
            sock.sendall(_REQUEST)
            answer = sock.recv(len(_ANSWER))
        except TimeoutError:
            raise StopTimeout(f"batch {batch_id[:8]}'s process (listening at {sock.getpeername()}) took the "
                              f"stop request but did not answer within {_TIMEOUT:.0f}s: try again, or stop it "
                              "where it runs (the dashboard's Stop button, or Ctrl-C)") from None
        except OSError:
            return False
        return answer == _ANSWER
