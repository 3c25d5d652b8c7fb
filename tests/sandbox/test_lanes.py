"""No submission waits behind a runaway one: the fast and slow lanes, with real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from grader.sandbox import lanes as lanes_module
from grader.sandbox.base import NOBODY, CaseInput, Job, Limit, Owner, RunLimits, RunResult
from grader.sandbox.forkserver import ForkServerRunner
from grader.sandbox.lanes import BACKGROUND_SHARE, Lane, Lanes, Meter, Places

HONEST = "def f(x):\n    return x + 1\n"
RUNAWAY = "def f(x):\n    while True:\n        pass\n"
PRINTS_THEN_RUNS_AWAY = "def f(x):\n    print('once', flush=True)\n    while True:\n        pass\n"


def job(source: str, cases: int = 1) -> Job:
    return Job(source, "f", [CaseInput((np.zeros(2),), hidden=False)] * cases,
               RunLimits(case_seconds=2.0, submission_seconds=4.0, memory_mb=64))


def test_moving_to_the_slow_lane_frees_the_fast_place() -> None:
    lanes = Lanes(fast=1, slow=1, fast_seconds=0.0)
    first, second, third = lanes.ticket(), lanes.ticket(), lanes.ticket()
    first.enter()
    assert first.move_to_slow() and first.lane is Lane.SLOW
    second.enter()  # would block if the first still held the only fast place
    assert not second.move_to_slow()  # the slow lane is full
    parked = threading.Thread(target=second.park, args=(5.0,))
    parked.start()
    third.enter()  # the parked job gave its fast place back while it waits
    first.leave()
    parked.join(timeout=5)
    assert not parked.is_alive() and second.lane is Lane.SLOW
    assert (lanes.moved_to_slow, lanes.parked) == (1, 1)
    for ticket in (second, third):
        ticket.leave()


@pytest.mark.processes
def test_an_honest_job_is_not_held_up_by_runaways() -> None:
    runner = ForkServerRunner(slots=1, slow_slots=1)
    finished: dict[str, float] = {}
    results: dict[str, RunResult] = {}

    def run(name: str, source: str) -> None:
        results[name] = runner.run(job(source))
        finished[name] = time.monotonic()

    try:
        before = (runner.lanes.moved_to_slow, runner.lanes.parked)  # after the self-test
        runaways = [threading.Thread(target=run, args=(f"runaway{i}", src))
                    for i, src in enumerate((RUNAWAY, PRINTS_THEN_RUNS_AWAY))]
        for thread in runaways:
            thread.start()
            time.sleep(0.4)  # the first goes slow, the second finds the slow lane full
        run("honest", HONEST)
        for thread in runaways:
            thread.join(timeout=30)
        assert finished["honest"] < min(finished["runaway0"], finished["runaway1"])
        assert [c.kind for c in results["honest"].cases] == ["output"]
        for name in ("runaway0", "runaway1"):
            assert [c.kind for c in results[name].cases] == ["timeout"]
        assert results["runaway1"].stdout == "once\n"  # printed once, though it ran twice
        assert (runner.lanes.moved_to_slow - before[0], runner.lanes.parked - before[1]) == (1, 1)
    finally:
        runner.close()


@pytest.mark.processes
def test_in_the_slow_lane_a_case_keeps_the_limits_it_states() -> None:
    """A job moved to the slow lane runs at the lowest priority, but within the same limits
    as in the fast lane: a finite one on a busy machine either answers or is stopped by a
    limit whose value is the one stated (its CPU time, or five times that on the wall clock),
    never by a wall-clock limit stretched for the lane."""
    burns = ("import time\ndef f(x):\n    end = time.process_time() + 0.3\n"
             "    while time.process_time() < end:\n        pass\n    return x + 1\n")
    runner = ForkServerRunner(slots=1, fast_seconds=0.01)
    hogs = [subprocess.Popen([sys.executable, "-c", "import time\nend = time.time() + 0.8\n"
                              "while time.time() < end:\n    pass\n"])
            for _ in range(os.cpu_count() or 1)]  # every CPU busy at normal priority, 0.8 s
    try:
        moved_before = runner.lanes.moved_to_slow  # the start-up self-test's probes may move
        limits = RunLimits(case_seconds=0.5, submission_seconds=2.0, memory_mb=64)
        result = runner.run(Job(burns, "f", [CaseInput((np.zeros(2),), hidden=False)], limits))
        case = result.cases[0]
        assert case.kind in ("output", "timeout"), case
        if case.kind == "timeout":
            assert (case.limit, case.limit_value) in (
                (Limit.CASE_CPU, 0.5), (Limit.CASE_TIME, 2.0), (Limit.TOTAL_TIME, 2.0)), case
        assert runner.lanes.moved_to_slow - moved_before == 1
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
        runner.close()


@pytest.mark.processes
def test_a_sleeping_case_in_the_slow_lane_is_stopped_by_its_wall_clock_limit() -> None:
    """Sleeping uses no CPU time: the case's limit on the wall clock stops it, the same
    five times its time limit as in the fast lane, and the verdict says so with that number."""
    sleeps = "import time\ndef f(x):\n    time.sleep(30)\n    return x\n"
    runner = ForkServerRunner(slots=1, fast_seconds=0.01)
    try:
        limits = RunLimits(case_seconds=0.5, submission_seconds=10.0, memory_mb=64)
        cases = [CaseInput((np.zeros(2),), hidden=False)] * 2
        result = runner.run(Job(sleeps, "f", cases, limits))
        assert [(c.kind, c.limit, c.limit_value) for c in result.cases] == \
            [("timeout", Limit.CASE_TIME, 2.5)] * 2
    finally:
        runner.close()


def test_places_go_to_waiters_in_the_order_they_came() -> None:
    """One owner's waiters, each queued before the next comes: served oldest first (and the
    last one served still holds the place)."""
    names = [str(number) for number in range(5)]
    assert _served_in_turn([(name, NOBODY) for name in names]) == names


def _queued(places: Places) -> int:
    with places._lock:
        return sum(len(queue) for members in places._waiting.values()
                   for queue in members.values())


def _served_in_turn(waiting: list[tuple[str, Owner]]) -> list[str]:
    """Names of ``waiting`` (name, owner), each queued in that order for the one place, in
    the order they are served as it is given back again and again."""
    places = Places(1)
    places.acquire()
    served: list[str] = []
    waiters = []
    for name, owner in waiting:
        waiter = threading.Thread(target=lambda n=name, o=owner: (places.acquire(owner=o),
                                                                  served.append(n)))
        waiter.start()
        waiters.append(waiter)
        deadline = time.monotonic() + 30
        while _queued(places) < len(waiters):  # each is waiting before the next comes
            assert time.monotonic() < deadline
            time.sleep(0.001)
    for count in range(1, len(waiting) + 1):
        places.release()
        deadline = time.monotonic() + 30
        while len(served) < count:
            assert time.monotonic() < deadline
            time.sleep(0.001)
    for waiter in waiters:
        waiter.join(timeout=5)
    assert not places.acquire(blocking=False)  # the last one served still holds it
    return served


def test_owners_take_turns_at_the_places() -> None:
    """One learner's burst of three comes first; another's one waiter is served second, not
    fourth; then the first learner's others, in their order."""
    waiting = [(name, ("token", name[0])) for name in ("a0", "a1", "a2", "b0")]
    assert _served_in_turn(waiting) == ["a0", "b0", "a1", "a2"]


def test_tokens_take_turns_before_their_learners_do() -> None:
    """A burst spread over three learners of one token delays another token's learner by one
    turn, not three; within each token its learners take turns, and a learner's own waiters
    keep their order."""
    waiting = [("p1", ("p", "1")), ("p2", ("p", "2")), ("p3", ("p", "3")), ("p1'", ("p", "1")),
               ("q1", ("q", "1")), ("q2", ("q", "2"))]
    assert _served_in_turn(waiting) == ["p1", "q1", "p2", "q2", "p3", "p1'"]


def test_an_owner_whose_only_waiter_gives_up_leaves_the_turns() -> None:
    places = Places(1)
    places.acquire()
    assert not places.acquire(owner=("token", "a"), timeout=0.01)
    assert places._waiting == {} and not places.queued()
    places.release()
    assert places.acquire(blocking=False)  # the place went back to being free


def test_a_learner_who_gives_up_leaves_the_place_to_its_tokens_others() -> None:
    places = Places(1)
    places.acquire()
    served = threading.Event()
    waiter = threading.Thread(target=lambda: places.acquire(owner=("token", "b"))
                              and served.set())
    waiter.start()
    deadline = time.monotonic() + 30
    while _queued(places) < 1:
        assert time.monotonic() < deadline
        time.sleep(0.001)
    assert not places.acquire(owner=("token", "a"), timeout=0.01)
    assert list(places._waiting["token"]) == ["b"]
    places.release()
    assert served.wait(30)
    waiter.join(timeout=5)
    assert places._waiting == {} and not places.acquire(blocking=False)


def test_places_say_whether_someone_waits_for_one() -> None:
    places = Places(2)
    places.acquire()
    assert not places.queued()  # one is free
    places.acquire()
    assert not places.queued()  # all taken, nobody waits
    waiter = threading.Thread(target=places.acquire, daemon=True)
    waiter.start()
    deadline = time.monotonic() + 10
    while not places.queued():
        assert time.monotonic() < deadline, "the waiter never queued"
        time.sleep(0.001)
    places.release()  # to the waiter
    waiter.join(timeout=10)
    assert not waiter.is_alive()
    assert not places.queued()


def test_a_low_place_waits_until_no_one_else_does() -> None:
    places = Places(1)
    places.acquire()
    served: list[str] = []
    low = threading.Thread(target=lambda: (places.acquire(low=True), served.append("low")))
    low.start()
    time.sleep(0.05)
    normal = threading.Thread(target=lambda: (places.acquire(), served.append("normal")))
    normal.start()
    time.sleep(0.05)
    places.release()  # to the normal waiter, though the low one came first
    normal.join(timeout=5)
    places.release()
    low.join(timeout=5)
    assert served == ["normal", "low"]


@pytest.mark.processes
def test_sleeping_in_the_slow_lane_does_not_stretch_a_submission_past_its_wall_clock_cap(
) -> None:
    """Sleep costs no CPU, so a job in the slow lane that sleeps in every case would last as
    long as it likes if only CPU time counted: the whole submission has a wall-clock cap of
    five times its limit."""
    sleeper = ("import time\nend = time.process_time() + 0.1\n"
               "while time.process_time() < end:\n    pass\n"
               "def f(x):\n    time.sleep(0.9)\n    return x + 1\n")
    runner = ForkServerRunner(slots=1, fast_seconds=0.01)
    try:
        limits = RunLimits(case_seconds=0.2, submission_seconds=0.5, memory_mb=64)
        started = time.monotonic()
        result = runner.run(Job(sleeper, "f", [CaseInput((np.zeros(2),), hidden=False)] * 6,
                                limits))
        took = time.monotonic() - started
        assert took < 2.5 + 1.0, took  # five times 0.5 s, and some room to end the child
        assert "timeout" in [c.kind for c in result.cases]
    finally:
        runner.close()


def test_a_parked_job_gives_up_when_no_slow_place_comes_in_time() -> None:
    lanes = Lanes(fast=1, slow=1, fast_seconds=0.0)
    holder, parked = lanes.ticket(), lanes.ticket()
    holder.enter()
    assert holder.move_to_slow()
    parked.enter()
    assert not parked.park(timeout=0.1)
    assert parked.lane is Lane.NONE
    lanes.ticket().enter()  # the fast place it gave back is free
    holder.leave()
    assert lanes._slow.acquire(blocking=False)  # and the gave-up waiter is not in the queue


def test_parked_jobs_take_turns_at_the_slow_lane_by_their_owners() -> None:
    """Two parked jobs of one learner, then one of another: the other's is given the second
    slow place that comes, not the third."""
    lanes = Lanes(fast=3, slow=1, fast_seconds=0.0)
    holder = lanes.ticket()
    holder.enter()
    assert holder.move_to_slow()
    served: list[str] = []
    waiters = []
    for name, learner in (("a0", "a"), ("a1", "a"), ("b0", "b")):
        ticket = lanes.ticket(owner=("token", learner))
        ticket.enter()
        waiter = threading.Thread(target=lambda t=ticket, n=name: (
            t.park(timeout=30) and served.append(n), t.leave()))
        waiter.start()
        waiters.append(waiter)
        deadline = time.monotonic() + 30
        while sum(len(q) for m in lanes._slow._waiting.values() for q in m.values()) \
                < len(waiters):
            assert time.monotonic() < deadline
            time.sleep(0.001)
    holder.leave()  # each one served leaves at once, handing its place to the next
    for waiter in waiters:
        waiter.join(timeout=30)
    assert served == ["a0", "b0", "a1"]


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_meter_charges_time_owed_but_not_time_waiting_for_a_cpu(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = _Clock()
    monkeypatch.setattr(lanes_module.time, "monotonic", clock)
    sched = {"cpu": 0.0, "wait": 0.0}
    lanes = Lanes(fast=1, slow=1, fast_seconds=0.05)
    ticket = lanes.ticket()
    meter = Meter(ticket, lambda: (sched["cpu"], sched["wait"]))
    meter.start()
    clock.now += 0.1  # 0.1 s owed: 0.01 s computing, 0.07 s waiting for a CPU, 0.02 s asleep
    sched.update(cpu=0.01, wait=0.07)
    assert meter.charged() == pytest.approx(0.03)
    meter.stop()
    clock.now += 5.0  # the grader's own turn: not charged
    assert ticket.charged == pytest.approx(0.03)
    second = Meter(ticket, lambda: None)  # a child whose counts cannot be read: wall time
    second.start()
    clock.now += 0.04
    second.stop()
    assert ticket.charged == pytest.approx(0.07)  # one budget, across children
    background = lanes.ticket(background=True)
    assert background.budget == pytest.approx(BACKGROUND_SHARE * 0.05)
    meter = Meter(background, lambda: (sched["cpu"], sched["wait"]))
    meter.start()
    clock.now += 0.1
    sched.update(wait=0.17)  # waiting for a CPU is charged to background work
    assert meter.charged() == pytest.approx(0.1)
