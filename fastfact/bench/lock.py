"""The lock of a run folder: one ``fastfact bench`` writes a run at a time.

:class:`RunLock` holds an exclusive ``flock`` on ``<run>/.lock``, a file that names its holder
(PID, host, start time, command). The kernel releases the lock when the holder exits, however
it exits, so a lock left behind by a killed run is stale by construction: the next run takes
it over and says whose it was. The holder deletes the file on release; an acquirer that locked
a file deleted meanwhile tries again, so two holders can never both believe they own the lock.
POSIX only (``fcntl``).
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path

__all__ = ["RunFolderBusy", "RunLock", "describe_holder"]


class RunFolderBusy(RuntimeError):
    """Another process holds the lock of the run folder.

    Attributes
    ----------
    holder : dict
        What the holder wrote into the lock file (``pid``, ``host``, ``since``,
        ``command``); empty if it had not written it yet.
    """

    def __init__(self, folder, holder: dict):
        self.holder = holder
        super().__init__(f"output folder {str(folder)!r} is being written by another "
                         f"fastfact bench ({describe_holder(holder)}); wait for it to finish "
                         "or choose another --out")


def describe_holder(holder: dict) -> str:
    """``"PID 123 on host, since 2026-…"`` from the contents of a lock file."""
    if not holder.get("pid"):
        return "PID unknown"
    text = f"PID {holder['pid']}"
    if holder.get("host") and holder["host"] != socket.gethostname():
        text += f" on {holder['host']}"
    if holder.get("since"):
        text += f", since {holder['since']}"
    return text


class RunLock:
    """Exclusive lock on a run folder, held from :meth:`acquire` to :meth:`release`.

    Parameters
    ----------
    folder : path-like
        An existing folder.
    """

    NAME = ".lock"
    _READ_RETRIES = 20  # a holder writes its name just after locking: wait up to ~1 s for it

    def __init__(self, folder):
        self.path = Path(folder) / self.NAME
        self._fd: int | None = None

    def acquire(self) -> dict | None:
        """Take the lock; the record of a stale holder it replaced, if any.

        Raises
        ------
        RunFolderBusy
            A live process holds it.
        """
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = self._wait_for_holder(fd)
                os.close(fd)
                raise RunFolderBusy(self.path.parent, holder) from None
            if self._still_the_lock_file(fd):
                break
            os.close(fd)  # its holder deleted it while we waited: lock the new one
        stale = _read_record(fd)
        record = {"pid": os.getpid(), "host": socket.gethostname(),
                  "since": datetime.datetime.now(datetime.timezone.utc)
                  .strftime("%Y-%m-%dT%H:%M:%SZ"), "command": " ".join(sys.argv)}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        os.fsync(fd)
        self._fd = fd
        return stale or None

    def holder(self) -> dict:
        """The record in the lock file now."""
        fd = os.open(self.path, os.O_RDONLY)
        try:
            return _read_record(fd)
        finally:
            os.close(fd)

    def _still_the_lock_file(self, fd: int) -> bool:
        try:
            return os.stat(self.path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            return False

    def _wait_for_holder(self, fd: int) -> dict:
        for _ in range(self._READ_RETRIES):
            holder = _read_record(fd)
            if holder:
                return holder
            time.sleep(0.05)
        return {}

    def release(self) -> None:
        """Delete the lock file and unlock (in this order: see the module docstring)."""
        if self._fd is None:
            return
        self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc_info):
        self.release()


def _read_record(fd: int) -> dict:
    try:
        record = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}
