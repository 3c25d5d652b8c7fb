"""Claiming sandbox uids, so that graders (and test runs) on one host never share them.

Uids are claimed in aligned blocks of ``BLOCK`` with an exclusive ``flock`` on a lock file per
block, held for as long as the claim lives; the kernel drops the lock when the process dies,
however it dies. A block is taken only if, besides the lock, no process runs under any of its
uids (a grader of another kind, or one that was started with another lock folder).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from pathlib import Path

from grader.sandbox.errors import SandboxError

BLOCK = 64
_SEARCH_BLOCKS = 4096


class NoFreeUids(SandboxError):
    pass


def lock_folder() -> Path:
    """/run/lock where there is one (shared by every process on the host), else the temp dir."""
    run_lock = Path("/run/lock")
    if run_lock.is_dir() and os.access(run_lock, os.W_OK):
        return run_lock
    return Path(tempfile.gettempdir())


def uids_in_use() -> set[int]:
    """Real uids of the processes this process can see."""
    found = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            found.add(os.stat(entry.path).st_uid)
    return found


class UidClaim:
    """``count`` uids from ``base`` upwards, in blocks that no other claim holds."""

    def __init__(self, base: int, count: int, folder: Path | None = None) -> None:
        self.folder = folder or lock_folder()
        self._locks: list[int] = []
        self.uids: list[int] = []
        blocks = -(-count // BLOCK)
        start = -(-base // BLOCK) * BLOCK
        busy = uids_in_use()
        try:
            for candidate in range(start, start + _SEARCH_BLOCKS * BLOCK, BLOCK):
                if len(self._locks) == blocks:
                    break
                if busy.intersection(range(candidate, candidate + BLOCK)):
                    continue
                fd = self._lock(candidate)
                if fd is not None:
                    self._locks.append(fd)
                    self.uids.extend(range(candidate, candidate + BLOCK))
            if len(self._locks) < blocks:
                raise NoFreeUids(f"no {blocks} free block(s) of {BLOCK} uids from {base} on")
        except BaseException:
            self.release()
            raise
        del self.uids[count:]

    def _lock(self, first: int) -> int | None:
        path = self.folder / f"grader-sandbox-uids-{first}.lock"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        except OSError:  # somebody else's file (or a link) in a shared folder: not ours
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    def release(self) -> None:
        for fd in self._locks:
            os.close(fd)
        self._locks.clear()
