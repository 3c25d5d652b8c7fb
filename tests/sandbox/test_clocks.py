"""A run's wall-clock limits count the learner's time, not the time others held the CPUs."""

from __future__ import annotations

import time

import numpy as np
import pytest

from grader.sandbox import clocks as clocks_module
from grader.sandbox.base import CaseInput, Job, Limit, RunLimits
from grader.sandbox.child_process import Child
from grader.sandbox.clocks import WAIT_FACTOR, Clocks, WaitClock
from grader.sandbox.forkserver import ForkServerRunner


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class _Counts:
    """A child's or a thread's scheduler counts, set by the test; None: unreadable."""

    def __init__(self) -> None:
        self.cpu = 0.0
        self.wait: float | None = 0.0

    def __call__(self) -> tuple[float, float] | None:
        return None if self.wait is None else (self.cpu, self.wait)


LIMITS = RunLimits(case_seconds=1.0, submission_seconds=4.0, memory_mb=64)  # case wall 4 s


def clocks(clock: _Clock, child: _Counts, grader: _Counts | None = None,
           excusable: float = 8.0) -> Clocks:
    made = Clocks(LIMITS, clock.now + LIMITS.submission_seconds, lambda: child.cpu,
                  WaitClock(child, grader), excusable)
    made.begin_step()
    return made


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    fake = _Clock()
    monkeypatch.setattr(clocks_module.time, "monotonic", fake)
    return fake


def test_waiting_for_a_cpu_moves_the_wall_clock_limits(clock: _Clock) -> None:
    child = _Counts()
    run = clocks(clock, child)
    clock.now += 4.0  # 0.5 s of CPU time, 3 s runnable but waiting for a CPU, 0.5 s asleep
    child.cpu, child.wait = 0.5, 3.0
    assert run.reached(clock.now) is None
    assert run.excused == pytest.approx(3.0)
    assert run.deadline == pytest.approx(clock.now + 3.0)
    assert run.next_limit() <= run.deadline
    clock.now += 3.0  # asleep all along: that is the learner's time
    assert run.reached(clock.now) == (Limit.TOTAL_TIME, 4.0)


def test_sleeping_moves_no_limit(clock: _Clock) -> None:
    child = _Counts()
    run = clocks(clock, child)
    clock.now += 4.0
    assert run.reached(clock.now) == (Limit.TOTAL_TIME, 4.0)
    assert run.excused == 0.0


def test_the_grader_thread_waiting_counts_the_larger_of_the_two(clock: _Clock) -> None:
    child, grader = _Counts(), _Counts()
    run = clocks(clock, child, grader)
    clock.now += 4.0
    child.wait, grader.wait = 1.0, 2.5  # the answer was there; the grader's thread was late
    assert run.reached(clock.now) is None
    assert run.excused == pytest.approx(2.5)


def test_waits_move_the_limits_only_so_far(clock: _Clock) -> None:
    child = _Counts()
    run = clocks(clock, child, excusable=1.5)
    clock.now += 4.0
    child.wait = 4.0  # never got a CPU at all
    assert run.reached(clock.now) is None
    clock.now += 1.5
    child.wait = 5.5
    assert run.reached(clock.now) == (Limit.TOTAL_TIME, 4.0)
    assert run.excused == pytest.approx(1.5)


def test_unreadable_counts_move_no_limit(clock: _Clock) -> None:
    child = _Counts()
    run = clocks(clock, child)
    child.wait = None  # gone, or /proc unreadable: the whole wall time counts
    clock.now += 4.0
    assert run.reached(clock.now) == (Limit.TOTAL_TIME, 4.0)


def test_a_step_begins_after_the_waits_of_the_one_before_moved_the_deadline(
        clock: _Clock) -> None:
    child = _Counts()
    run = clocks(clock, child)
    clock.now += 1.0
    child.wait = 0.75  # the loading waited for a CPU
    run.begin_step()
    assert run.deadline == pytest.approx(100.0 + 4.0 + 0.75)
    assert run.step_started == clock.now  # the case's own clock starts now, not moved
    clock.now += 3.0
    assert run.reached(clock.now) is None
    clock.now += 0.75
    assert run.reached(clock.now) == (Limit.TOTAL_TIME, 4.0)


def test_the_grader_own_work_moves_the_limits(clock: _Clock) -> None:
    run = clocks(clock, _Counts())
    run.move(0.25)
    clock.now += 4.0
    assert run.reached(clock.now) is None
    assert run.own_seconds == 0.25


def test_the_cpu_time_limit_is_not_moved_by_waits(clock: _Clock) -> None:
    child = _Counts()
    run = clocks(clock, child)
    clock.now += 1.0
    child.cpu = 1.0
    assert run.reached(clock.now) == (Limit.CASE_CPU, 1.0)


# -- with real processes, the run-queue wait reported by a stub ------------------------------

SLEEPS = "import time\ndef f(x):\n    time.sleep(float(x[0]))\n    return x + 1\n"


@pytest.fixture
def all_wall_time_is_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every child reports its whole wall time as waiting for a CPU (its CPU time is real):
    a machine so busy that the learner's code is never at fault for its time."""
    real = Child.sched
    began = time.monotonic()

    def sched(self: Child) -> tuple[float, float] | None:
        counts = real(self)
        return None if counts is None else (counts[0], time.monotonic() - began)

    monkeypatch.setattr(Child, "sched", sched)


def sleeping_job(seconds: float) -> Job:
    limits = RunLimits(case_seconds=0.1, submission_seconds=1.0, memory_mb=64)  # case wall 0.5
    return Job(SLEEPS, "f", [CaseInput((np.full(2, seconds),), hidden=False)], limits)


@pytest.mark.processes
def test_without_waits_a_case_past_its_wall_clock_limit_times_out() -> None:
    runner = ForkServerRunner(slots=1)
    try:
        case = runner.run(sleeping_job(0.8)).cases[0]
        assert (case.kind, case.limit, case.limit_value) == ("timeout", Limit.CASE_TIME, 0.5)
    finally:
        runner.close()


@pytest.mark.processes
def test_time_waited_for_a_cpu_is_not_counted_against_a_case(
        all_wall_time_is_waiting: None) -> None:
    runner = ForkServerRunner(slots=1)
    try:
        case = runner.run(sleeping_job(0.8)).cases[0]
        assert case.kind == "output", case
    finally:
        runner.close()


@pytest.mark.processes
def test_a_child_that_waits_for_ever_still_ends(all_wall_time_is_waiting: None) -> None:
    runner = ForkServerRunner(slots=1)
    try:
        job = sleeping_job(600.0)
        started = time.monotonic()
        case = runner.run(job).cases[0]
        took = time.monotonic() - started
        # the case's wall-clock limit, or the run's when handing the child over took long
        assert case.kind == "timeout" and (case.limit, case.limit_value) in (
            (Limit.CASE_TIME, 0.5), (Limit.TOTAL_TIME, 1.0))
        assert 0 < case.waited <= WAIT_FACTOR * job.limits.submission_seconds
        # the case's 0.5 s, moved by the whole allowance, and no further than the run's
        assert took >= WAIT_FACTOR * job.limits.submission_seconds + 0.5
    finally:
        runner.close()


def test_a_step_reads_each_count_once_to_excuse_the_waits_and_mark_again() -> None:
    """The counts read to measure the waits since the mark are the next mark: each step
    reads the child's and the thread's counts once for both, and no wait between two reads
    is lost or counted twice."""
    reads = {"child": 0, "grader": 0}
    child, grader = _Counts(), _Counts()

    def counted(name: str, counts: _Counts):  # type: ignore[no-untyped-def]
        def read() -> tuple[float, float] | None:
            reads[name] += 1
            return counts()
        return read

    waits = WaitClock(counted("child", child), counted("grader", grader))
    waits.mark()
    child.wait, grader.wait = 0.25, 0.5
    assert waits.since_mark(again=True) == pytest.approx(0.5)
    assert reads == {"child": 2, "grader": 2}
    child.wait = 1.0
    assert waits.since_mark() == pytest.approx(0.75)  # from the counts read last time
    assert waits.since_mark() == pytest.approx(0.75)  # not marked again
