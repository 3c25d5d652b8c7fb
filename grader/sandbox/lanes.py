"""Two lanes of running jobs, so that no submission waits behind a runaway one.

Every job starts in the fast lane, which has one place per slot (the CPUs). A job whose child
has used ``fast_seconds`` of CPU time leaves it (CPU time, not wall time: on a busy machine an
honest job waits for the CPU and must not be taken for a runaway); its place goes to the next
job at once, and the job goes on in
the slow lane, at the lowest CPU priority, until its own time limit. The slow lane has a cap of
its own; when it is full, the job is parked: its child is killed, and the job waits, holding no
place, for a place in the slow lane, where its unanswered cases run again from the start (the
time it waited is not counted against it).
"""

from __future__ import annotations

import threading
import time
from enum import StrEnum


class Lane(StrEnum):
    FAST = "fast"
    SLOW = "slow"
    NONE = "none"  # parked, or not started


class Lanes:
    def __init__(self, fast: int, slow: int, fast_seconds: float) -> None:
        self.fast_places = fast
        self.slow_places = slow
        self.fast_seconds = fast_seconds
        self._fast = threading.BoundedSemaphore(fast)
        self._slow = threading.BoundedSemaphore(slow)
        self._lock = threading.Lock()
        self.moved_to_slow = 0
        self.parked = 0

    def ticket(self) -> Ticket:
        return Ticket(self)

    def _count(self, what: str) -> None:
        with self._lock:
            setattr(self, what, getattr(self, what) + 1)


class Ticket:
    """One job's place in the lanes: taken with ``enter``, given back with ``leave``."""

    def __init__(self, lanes: Lanes) -> None:
        self.lanes = lanes
        self.lane = Lane.NONE
        self.fast_until = 0.0

    def enter(self) -> None:
        self.lanes._fast.acquire()
        self.lane = Lane.FAST
        self.fast_until = time.monotonic() + self.lanes.fast_seconds

    def move_to_slow(self) -> bool:
        """Leave the fast lane for the slow one if it has room; False when it is full."""
        if self.lane is not Lane.FAST or not self.lanes._slow.acquire(blocking=False):
            return False
        self.lanes._fast.release()
        self.lane = Lane.SLOW
        self.lanes._count("moved_to_slow")
        return True

    def park(self) -> None:
        """Give the fast place back and wait, holding none, for a place in the slow lane."""
        assert self.lane is Lane.FAST
        self.lanes._fast.release()
        self.lane = Lane.NONE
        self.lanes._count("parked")
        self.lanes._slow.acquire()
        self.lane = Lane.SLOW

    def leave(self) -> None:
        if self.lane is Lane.FAST:
            self.lanes._fast.release()
        elif self.lane is Lane.SLOW:
            self.lanes._slow.release()
        self.lane = Lane.NONE
