"""Where a store lives: its root, and where its index goes when the root is on a network file system."""

from __future__ import annotations

import hashlib
import os
import sys

from hpwidgets.core.store import safety

_NETWORK_FS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p", "lustre", "gpfs"}
_warned_network: set[str] = set()
MOUNTS = "/proc/mounts"


def default_root() -> str:
    return os.environ.get("HPWIDGETS_HOME") or os.path.join(os.path.expanduser("~"), ".hpwidgets")


def filesystem_type(path: str) -> str:
    """The type of the mount that holds ``path``, from /proc/mounts ("" when unknown)."""
    path = os.path.realpath(path)
    best, fstype = "", ""
    try:
        with open(MOUNTS, encoding="utf-8") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) < 3:
                    continue
                mount = parts[1].replace("\\040", " ")
                inside = path == mount or path.startswith(mount.rstrip("/") + "/")
                if inside and len(mount) > len(best):
                    best, fstype = mount, parts[2]
    except OSError:
        return ""
    return fstype


def index_location(root: str) -> str:
    """Where a store's index lives: in the store, or on local disk when the store is on NFS."""
    fstype = filesystem_type(root)
    if fstype not in _NETWORK_FS:
        return os.path.join(root, "index.db")
    # SQLite's WAL needs shared memory that network file systems do not give.
    local = os.path.join(safety.local_cache_dir(), hashlib.sha256(root.encode()).hexdigest()[:16])
    safety.private_dir(local)
    if root not in _warned_network:
        _warned_network.add(root)
        print(
            f"hpwidgets: run store {root} is on {fstype}; its index is kept on local disk "
            f"at {local} (the run directories stay the truth)",
            file=sys.stderr,
        )
    return os.path.join(local, "index.db")
