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
from collections import deque
from collections.abc import Callable
from enum import StrEnum

# In the slow lane a job's limits count its CPU time, not the wall clock's, within this many
# times its limits on the wall clock (per case, and for the whole submission); a job is charged
# at least its wall-clock time divided by this, so sleeping does not make it last longer.
SLOW_WALL_FACTOR = 5.0


class Lane(StrEnum):
    FAST = "fast"
    SLOW = "slow"
    NONE = "none"  # parked, or not started


class Places:
    """A semaphore that serves its waiters in order: a place given back goes straight to the
    one who has waited longest (Python's own may let a newcomer take it, which leaves some
    waiters waiting far longer than the rest). Waiters of low priority (regrades) are served
    only when no other waits."""

    def __init__(self, count: int) -> None:
        self._lock = threading.Lock()
        self._free = count
        self._waiting: deque[threading.Event] = deque()
        self._waiting_low: deque[threading.Event] = deque()

    def acquire(self, blocking: bool = True, low: bool = False,
                timeout: float | None = None) -> bool:
        with self._lock:
            if self._free > 0 and not self._waiting and not (low and self._waiting_low):
                self._free -= 1
                return True
            if not blocking:
                return False
            handed = threading.Event()
            queue = self._waiting_low if low else self._waiting
            queue.append(handed)
        if handed.wait(timeout):
            return True
        with self._lock:  # given up; unless the place came just now
            if handed.is_set():
                return True
            queue.remove(handed)
            return False

    def release(self) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()  # the place passes on without being free
            elif self._waiting_low:
                self._waiting_low.popleft().set()
            else:
                self._free += 1


class Lanes:
    def __init__(self, fast: int, slow: int, fast_seconds: float) -> None:
        self.fast_places = fast
        self.slow_places = slow
        self.fast_seconds = fast_seconds
        self._fast = Places(fast)
        self._slow = Places(slow)
        self._lock = threading.Lock()
        self.moved_to_slow = 0
        self.parked = 0

    def ticket(self, freed: Callable[[], None] | None = None) -> Ticket:
        return Ticket(self, freed)

    def _count(self, what: str) -> None:
        with self._lock:
            setattr(self, what, getattr(self, what) + 1)


class Ticket:
    """One job's place in the lanes: taken with ``enter``, given back with ``leave``."""

    def __init__(self, lanes: Lanes, freed: Callable[[], None] | None = None) -> None:
        """``freed``: called when this job gives its fast place back (it moved on to the slow
        lane, was parked, or is done), for one who hands out work to take more."""
        self.lanes = lanes
        self.lane = Lane.NONE
        self.fast_until = 0.0
        self._freed = freed

    def _give_back_fast(self) -> None:
        self.lanes._fast.release()
        if self._freed is not None:
            self._freed()

    def enter(self, low: bool = False) -> None:
        """Wait for a place in the fast lane; ``low``: only when no one else waits."""
        self.lanes._fast.acquire(low=low)
        self.lane = Lane.FAST
        self.fast_until = time.monotonic() + self.lanes.fast_seconds

    def move_to_slow(self) -> bool:
        """Leave the fast lane for the slow one if it has room; False when it is full."""
        if self.lane is not Lane.FAST or not self.lanes._slow.acquire(blocking=False):
            return False
        self._give_back_fast()
        self.lane = Lane.SLOW
        self.lanes._count("moved_to_slow")
        return True

    def park(self, timeout: float) -> bool:
        """Give the fast place back and wait, holding none, for a place in the slow lane;
        False when none came in ``timeout`` seconds."""
        assert self.lane is Lane.FAST
        self._give_back_fast()
        self.lane = Lane.NONE
        self.lanes._count("parked")
        if not self.lanes._slow.acquire(timeout=timeout):
            return False
        self.lane = Lane.SLOW
        return True

    def leave(self) -> None:
        if self.lane is Lane.FAST:
            self._give_back_fast()
        elif self.lane is Lane.SLOW:
            self.lanes._slow.release()
        self.lane = Lane.NONE
