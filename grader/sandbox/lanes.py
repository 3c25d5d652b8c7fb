"""Two lanes of running jobs, so that nothing one submission does slows another learner.

Every grading holds a place while it is worked on. It starts in the fast lane, which has one
place per slot (the CPUs), and is charged for the time it holds that place while a child of its
owes an answer (from the moment a step's input is handed over until its answer is in; the
grader's own work in between, and forking a child, are not charged):

    charged = wall time owed - time the child, or the grader's thread that talks to it, was
              runnable but waiting for a CPU (the larger of the two)

the run-queue wait being the kernel's own count (/proc/<pid>/schedstat); the grader's thread
waiting for a CPU is late to read an answer that is already there. Computing, sleeping,
reading a pipe nobody writes, writing one nobody reads (past the output budget), being stopped:
all of it is charged; only waiting for the CPU is not, so that an honest job on a busy machine
is not taken for a runaway. Where that count cannot be read, the whole wall time is charged.
The budget, ``fast_seconds``, is one per grading: spent across all of its runs, cases and the
children that replace crashed ones, never refreshed.

A job past its budget leaves the fast lane: its place goes to the next job at once, its child is
demoted to the lowest CPU priority, and it goes on in the slow lane until its own time limits,
the same in either lane (see ``clocks``): a lane decides how soon a job gets the CPU, never
how long it may run, and the wall-clock limits do not count the time a job waited for one.
The slow lane has a cap of its own; when it is full the job is parked: its child is killed,
and the job waits, holding no place, for a place in the slow lane, where its unanswered cases
run again from the start (the time it waited delays the work and is not counted against it).

Background work (``Kind.background``: regrades, report pages, proofs of a reference) takes a
fast place only when no submission waits for one, runs its children at the lowest CPU priority
from the start, and is charged the whole wall time it owes, waiting for the CPU included (at the
lowest priority it might wait without end), against BACKGROUND_SHARE of the budget. A run is
background when its job's kind is or its place's is.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from enum import StrEnum

from grader.sandbox.base import NOBODY, Owner
from grader.sandbox.clocks import Sched, WaitClock

# The share of ``fast_seconds`` a background run may hold a fast place for.
BACKGROUND_SHARE = 0.5


class Lane(StrEnum):
    FAST = "fast"
    SLOW = "slow"
    NONE = "none"  # parked, or not started


class Places:
    """A semaphore that serves its waiters by turns: a place given back goes straight to a
    waiter (Python's own may let a newcomer take it, which leaves some waiters waiting far
    longer than the rest). Groups (platform tokens) take turns in the order they came, one
    place a turn; within a group, its members (learners) take that group's turns likewise,
    and a member's waiters are served oldest first. So while it has waiters, each group gets
    an equal share of the places however many members it has, and each member an equal share
    of its group's: a waiter waits about (its group's members waiting) x (groups waiting)
    places, whatever the size of the others' bursts.
    Waiters of low priority (regrades) are served only when no other waits."""

    def __init__(self, count: int) -> None:
        self._lock = threading.Lock()
        self._free = count
        # group -> member -> waiters, oldest first; groups and members in the order of turns
        self._waiting: dict[str, dict[str, deque[threading.Event]]] = {}
        self._waiting_low: deque[threading.Event] = deque()

    def acquire(self, blocking: bool = True, low: bool = False,
                timeout: float | None = None, owner: Owner = NOBODY) -> bool:
        group, member = owner
        with self._lock:
            if self._free > 0 and not self._waiting and not (low and self._waiting_low):
                self._free -= 1
                return True
            if not blocking:
                return False
            handed = threading.Event()
            if low:
                queue = self._waiting_low
            else:
                queue = self._waiting.setdefault(group, {}).setdefault(member, deque())
            queue.append(handed)
        if handed.wait(timeout):
            return True
        with self._lock:  # given up; unless the place came just now
            if handed.is_set():
                return True
            queue.remove(handed)
            if not low and not queue:
                members = self._waiting[group]
                del members[member]
                if not members:
                    del self._waiting[group]
            return False

    def queued(self) -> bool:
        """Whether someone waits for a place (every one is taken)."""
        with self._lock:
            return bool(self._waiting or self._waiting_low)

    def release(self) -> None:
        with self._lock:
            if self._waiting:
                group = next(iter(self._waiting))  # whose turn it is, then whose within it
                members = self._waiting.pop(group)
                member = next(iter(members))
                queue = members.pop(member)
                queue.popleft().set()  # the place passes on without being free
                if queue:
                    members[member] = queue  # its next waiter: at the end of its group's turns
                if members:
                    self._waiting[group] = members  # at the end of the groups' turns
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

    def ticket(self, freed: Callable[[], None] | None = None, background: bool = False,
               owner: Owner = NOBODY) -> Ticket:
        return Ticket(self, freed, background, owner)

    def fast_lane_queued(self) -> bool:
        return self._fast.queued()

    def _count(self, what: str) -> None:
        with self._lock:
            setattr(self, what, getattr(self, what) + 1)


class Ticket:
    """One grading's place in the lanes: taken with ``enter``, given back with ``leave``."""

    def __init__(self, lanes: Lanes, freed: Callable[[], None] | None = None,
                 background: bool = False, owner: Owner = NOBODY) -> None:
        """``freed``: called when this job gives its fast place back (it moved on to the slow
        lane, was parked, or is done), for one who hands out work to take more.
        ``background``: the place is for background work (see the module's docstring).
        ``owner``: whose job it is (a token and its learner): they take turns at the fast
        lane (see ``Places``)."""
        self.lanes = lanes
        self.owner = owner
        self.lane = Lane.NONE
        self.background = background
        self.run_background = background  # the run going on now is background
        self.charged = 0.0  # seconds of the fast-lane budget spent, by every run so far
        self._freed = freed

    def _give_back_fast(self) -> None:
        self.lanes._fast.release()
        if self._freed is not None:
            self._freed()

    def enter(self) -> None:
        """Wait for a place in the fast lane; a background one only when no one else waits."""
        self.lanes._fast.acquire(low=self.background, owner=self.owner)
        self.lane = Lane.FAST

    def begin_run(self, background: bool) -> None:
        """A run starts in this place; ``background``: its job's kind is."""
        self.run_background = self.background or background

    @property
    def budget(self) -> float:
        """The fast-lane budget of the run going on, in charged seconds."""
        share = BACKGROUND_SHARE if self.run_background else 1.0
        return share * self.lanes.fast_seconds

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
        if not self.lanes._slow.acquire(timeout=timeout, owner=self.owner):
            return False
        self.lane = Lane.SLOW
        return True

    def leave(self) -> None:
        if self.lane is Lane.FAST:
            self._give_back_fast()
        elif self.lane is Lane.SLOW:
            self.lanes._slow.release()
        self.lane = Lane.NONE


class Meter:
    """Charges a ticket for the time a child owes an answer (see the module's docstring)."""

    def __init__(self, ticket: Ticket, sched: Sched, grader: Sched | None = None) -> None:
        """``sched``: the child's counts; ``grader``: those of the thread that talks to it."""
        self.ticket = ticket
        self._waits = WaitClock(sched, grader)
        self._since: float | None = None

    def start(self) -> None:
        """A step's input is handed over: the child owes an answer from now on."""
        if self._since is None:
            self._waits.mark()
            self._since = time.monotonic()

    def stop(self) -> None:
        """Every answer is in (or the child is gone): what it owed is charged."""
        if self._since is not None:
            self.ticket.charged += self._owed()
            self._since = None

    def charged(self) -> float:
        """What the ticket has been charged, with the time owed so far."""
        return self.ticket.charged + (self._owed() if self._since is not None else 0.0)

    def _owed(self) -> float:
        assert self._since is not None
        wall = time.monotonic() - self._since
        if self.ticket.run_background:
            return wall
        waited = self._waits.since_mark()
        return wall if waited is None else max(wall - waited, 0.0)
