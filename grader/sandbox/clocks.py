"""The clocks of one conversation with a child: the run's deadline, and the step going on (the
loading, or a case) with its time limit in CPU time and CASE_WALL_FACTOR times that on the wall
clock; the first of these reached stops the step.

The wall clock they read is the learner's, not the machine's. Two things move every deadline on
by the time they take:

- the grader's own work while a step is timed (``move``);
- the time the child, or the grader's thread that talks to it, was runnable but waiting for a
  CPU (the kernel's run-queue wait, /proc/<pid>/schedstat), looked at when a wall-clock limit is
  reached and when a step begins. So a slow but honest answer in the slow lane, at the lowest
  priority beside other learners' runaways, is not cut short because they held the CPUs.

What the waits may move is bounded (``excusable``: WAIT_FACTOR times the submission's limit, for
all the children of a run), so that a child the machine never gets round to still ends. Sleeping,
a blocked read or write, being stopped: none of it is a wait for a CPU, so a sleeper ends at its
stated limit, and a runaway is stopped by its CPU time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from grader.sandbox.base import Limit, RunLimits

# (CPU time, run-queue wait) of a child or a thread so far, in seconds; None when unreadable.
Sched = Callable[[], tuple[float, float] | None]

# How much waiting for a CPU may move a run's wall-clock limits, in all, as a multiple of the
# submission's limit: a run lasts at most 1 + WAIT_FACTOR times that on the wall clock.
WAIT_FACTOR = 2.0


class WaitClock:
    """The run-queue wait since ``mark`` of a child, and of the grader's thread that talks to it:
    the larger of the two (that thread waiting for a CPU is late to read an answer already
    there). ``grader`` is read on the thread that made it."""

    def __init__(self, sched: Sched, grader: Sched | None = None) -> None:
        self._sched = sched
        self._grader = grader or (lambda: None)
        self._child_mark: tuple[float, float] | None = None
        self._grader_mark: tuple[float, float] | None = None

    def mark(self) -> None:
        self._child_mark = self._sched()
        self._grader_mark = self._grader()

    def since_mark(self, again: bool = False) -> float | None:
        """Seconds waited since the mark; None when the child's count cannot be read.
        ``again``: the counts just read are the mark from now on (as ``mark`` would read
        them a moment later, without reading them twice)."""
        if self._child_mark is None:
            return None
        now = self._sched()
        if now is None:
            return None
        waited = now[1] - self._child_mark[1]
        grader = self._grader()
        if grader is not None and self._grader_mark is not None:
            waited = max(waited, grader[1] - self._grader_mark[1])
        if again:
            self._child_mark, self._grader_mark = now, grader
        return max(waited, 0.0)


class Clocks:
    """A run's deadline and the limits of the step going on, for one child."""

    def __init__(self, limits: RunLimits, deadline: float, cpu: Callable[[], float | None],
                 waits: WaitClock, excusable: float) -> None:
        """``deadline``: when the run's time is up, on the monotonic clock; ``cpu``: the child's
        CPU time so far; ``excusable``: how far waiting for a CPU may still move the limits."""
        self.limits = limits
        self.deadline = deadline
        self._cpu = cpu
        self._waits = waits
        self._excusable = excusable
        self.own_seconds = 0.0  # the grader's own work while the child's steps were timed
        self.excused = 0.0  # the child's (or its thread's) waits for a CPU, while timed
        self.step_excused = 0.0  # those of the step going on
        self.step_started = time.monotonic()
        self._step_cpu = 0.0
        self._cpu_check_at = 0.0
        waits.mark()

    def begin_step(self) -> None:
        """A step starts: the waits of the one before move the run's deadline, then the
        step's clocks start."""
        self._excuse()
        self.step_excused = 0.0
        self.step_started = time.monotonic()
        self._step_cpu = self._cpu() or 0.0
        self._cpu_check_at = self.step_started + self.limits.case_seconds

    def move(self, seconds: float) -> None:
        """The grader worked ``seconds`` while a step was timed: not the child's time."""
        self.own_seconds += seconds
        self.deadline += seconds
        self.step_started += seconds

    def step_limit(self) -> float:
        """When a step that starts now must be over: a case's time, within the run's."""
        return min(time.monotonic() + self.limits.case_seconds, self.deadline)

    def reached(self, now: float) -> tuple[Limit, float] | None:
        """The limit the step going on has reached, if any: the run's deadline, the case's
        time on the wall clock, or its time limit in CPU time."""
        limits = self.limits
        if now >= self.deadline or now >= self.step_started + limits.case_wall_seconds:
            self._excuse()  # the waits for a CPU since last looked, if there were any
            if now >= self.deadline:
                return Limit.TOTAL_TIME, limits.submission_seconds
            if now >= self.step_started + limits.case_wall_seconds:
                return Limit.CASE_TIME, limits.case_wall_seconds
        if now >= self._cpu_check_at:
            used = self._cpu()
            if used is None:  # unreadable: the wall clock and RLIMIT_CPU still hold
                self._cpu_check_at = float("inf")
                return None
            left = limits.case_seconds - (used - self._step_cpu)
            if left <= 0:
                return Limit.CASE_CPU, limits.case_seconds
            # a single thread cannot use CPU time faster than the clock goes
            self._cpu_check_at = now + max(left, 0.005)
        return None

    def waited(self, limit: Limit) -> float:
        """What a wall-clock limit that was reached did not count: the step's waits for a
        CPU (a case's limit), or the whole run's, children before this one included."""
        if limit is Limit.CASE_TIME:
            return self.step_excused
        if limit is Limit.TOTAL_TIME:
            return WAIT_FACTOR * self.limits.submission_seconds - self._excusable + self.excused
        return 0.0

    def next_limit(self) -> float:
        """When a limit of the step going on may next be reached."""
        return min(self.deadline, self.step_started + self.limits.case_wall_seconds,
                   self._cpu_check_at)

    def _excuse(self) -> None:
        """Move the deadlines by the waits for a CPU since last looked, within what is left
        to excuse."""
        waited = self._waits.since_mark(again=True)
        if waited is None:  # unreadable: the whole wall time counts
            return
        granted = min(waited, self._excusable - self.excused)
        if granted > 0:
            self.excused += granted
            self.step_excused += granted
            self.deadline += granted
            self.step_started += granted
