"""Hostile submissions against the lanes and the children's lifetimes, with real processes.

Waiting of every kind (sleeping, a blocked read of fd 0, SIGSTOP, a write blocked on a full
output budget) is charged to the fast place like computing, so such a submission leaves the
fast lane; a child that computes on after its last answer is killed there, and the run says so.
Each submission in ``HOSTILE`` (files of ``tests/redteam/``) gets an exact verdict. Nothing
here depends on how fast the machine is: the checks are on the lanes' counters, the results
and the processes left, never on durations.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np
import pytest

from grader.catalog.exercises import Catalog, Exercise
from grader.catalog.spec import Limits
from grader.grading.grade import grade
from grader.sandbox.base import CaseInput, Job, Kind, RunLimits, RunResult
from grader.sandbox.forkserver import ForkServerRunner
from tests.conftest import HIDDEN_SECRET, ROOT, drop_ready_children
from tests.sandbox.test_redteam import sandbox_processes

pytestmark = pytest.mark.processes

REDTEAM = Path(__file__).resolve().parent.parent / "redteam"
HONEST = (ROOT / "exercises" / "conv2d" / "samples" / "correct_numpy.py").read_text()
# blocked or stopped, it uses no CPU time: the case's limit on the wall clock (5 x 0.5 s) ends it
TIME_LIMIT = ("timeout", "stopped after 2.5 s on the wall clock, the wall-clock limit of a case")


@dataclasses.dataclass(frozen=True)
class Expected:
    status: str  # of every case
    fragment: str  # of the first case's message
    leaves_fast: bool  # it is moved to the slow lane (or parked)
    kept_running: bool = False


HOSTILE: dict[str, Expected] = {
    # right answers after a sleep each: it passes, but from the slow lane
    "lane_sleep_all_cases": Expected("passed", "", leaves_fast=True),
    "block_on_stdin": Expected(*TIME_LIMIT, leaves_fast=True),
    # stopped while loading: every case is that timeout
    "stop_self": Expected("timeout", "while loading the module, stopped after 2.5 s on "
                                   "the wall clock", leaves_fast=True),
    "block_on_full_output": Expected(*TIME_LIMIT, leaves_fast=True),
    # right answers, then computing on: killed at once, the answers stand
    "linger_after_last_answer": Expected("passed", "", leaves_fast=False, kept_running=True),
    "linger_in_sigalrm": Expected("passed", "", leaves_fast=False, kept_running=True),
}


class Recording:
    """The runner, keeping every RunResult it gives."""

    def __init__(self, runner: ForkServerRunner) -> None:
        self.runner = runner
        self.refusal = runner.refusal
        self.slow_slots = runner.slow_slots
        self.results: list[RunResult] = []

    def fast_place(self, low: bool = False, freed: Callable[[], None] | None = None,
                   kind: Kind | None = None) -> AbstractContextManager[None]:
        return self.runner.fast_place(low, freed, kind)

    def run(self, job: Job) -> RunResult:
        result = self.runner.run(job)
        self.results.append(result)
        return result

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def lanes_runner() -> Iterator[ForkServerRunner]:
    # the default fast-lane budget (50 ms), uids of its own
    runner = ForkServerRunner(slots=2, fast_seconds=0.05)
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def quick(catalog: Catalog) -> Exercise:
    conv2d = catalog.get("conv2d")
    limits = Limits(case_seconds=0.5, submission_seconds=3.0, memory_mb=64)
    return dataclasses.replace(conv2d, spec=conv2d.spec.model_copy(update={"limits": limits}))


def test_every_hostile_submission_of_the_lanes_is_a_file() -> None:
    assert all((REDTEAM / f"{name}.py").is_file() for name in HOSTILE)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_submission_against_the_lanes(lanes_runner: ForkServerRunner, quick: Exercise,
                                              name: str) -> None:
    expected = HOSTILE[name]
    runner = Recording(lanes_runner)
    lanes = lanes_runner.lanes
    lanes_runner.settle()
    before = lanes.moved_to_slow + lanes.parked

    report = grade(quick, (REDTEAM / f"{name}.py").read_text(), runner, seed=1,
                   hidden_secret=HIDDEN_SECRET)

    assert [c.status for c in report.cases] == [expected.status] * 4, report.cases[0].message
    assert expected.fragment in report.cases[0].message
    assert (lanes.moved_to_slow + lanes.parked > before) is expected.leaves_fast
    [result] = runner.results
    assert result.kept_running is expected.kept_running
    lanes_runner.settle()
    assert len(sandbox_processes(lanes_runner)) == lanes_runner.warm_children
    honest = grade(quick, HONEST, lanes_runner, seed=2, hidden_secret=HIDDEN_SECRET)
    assert honest.passed


def _job(source: str, cases: int = 4, case_seconds: float = 2.0,
         kind: Kind = Kind.SUBMISSION) -> Job:
    return Job(source, "f", [CaseInput((np.zeros(2),), hidden=False)] * cases,
               RunLimits(case_seconds=case_seconds, submission_seconds=4 * case_seconds,
                         memory_mb=64), kind=kind)


def _start_time(host_pid: int) -> str | None:
    """The process's start time, which tells it from a later one with its number."""
    try:
        return Path(f"/proc/{host_pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def test_a_child_computing_after_its_last_answer_is_gone_when_run_returns(
        lanes_runner: ForkServerRunner) -> None:
    source = (REDTEAM / "linger_in_sigalrm.py").read_text().replace(
        "def conv(image, kernel):", "def f(image):").replace(
        "    kh, kw = kernel.shape", "    return image + 1\n    kh, kw = kernel.shape")
    taken: list[tuple[int, str | None]] = []
    take = lanes_runner._take

    def recording_take(job: Job):  # type: ignore[no-untyped-def]
        child = take(job)
        host = child.zygote.host_pid(child.pid) if child.pid is not None else None
        if host is not None:
            taken.append((host, _start_time(host)))
        return child

    lanes_runner._take = recording_take  # type: ignore[method-assign]
    try:
        result = lanes_runner.run(_job(source))
    finally:
        del lanes_runner._take
    assert [c.kind for c in result.cases] == ["output"] * 4
    assert result.kept_running
    assert taken, "the child's pid could not be found"
    for host, started in taken:  # no longer there, or another process with its number
        assert started is None or _start_time(host) != started
    assert lanes_runner.kills.get("kept_running", 0) >= 1


def test_one_fast_budget_for_all_the_cases_of_a_job_and_its_fresh_children(
        lanes_runner: ForkServerRunner) -> None:
    """A child that crashes is replaced; its successor does not get a budget of its own."""
    crashes = ("import os, time\ndef f(x):\n    end = time.process_time() + 0.03\n"
               "    while time.process_time() < end:\n        pass\n    os._exit(3)\n")
    lanes = lanes_runner.lanes
    before = lanes.moved_to_slow + lanes.parked
    result = lanes_runner.run(_job(crashes))
    assert [(c.kind, c.exit_status) for c in result.cases] == [("crashed", 3)] * 4
    assert lanes.moved_to_slow + lanes.parked == before + 1


def test_background_work_runs_low_and_leaves_the_fast_lane_on_its_small_budget(
        lanes_runner: ForkServerRunner) -> None:
    """A report page's run that sleeps leaves the fast place like a submission that does;
    one that does not is not moved."""
    sleeps = "import time\ndef f(x):\n    time.sleep(0.3)\n    return x + 1\n"
    lanes = lanes_runner.lanes
    before = lanes.moved_to_slow + lanes.parked
    result = lanes_runner.run(_job(sleeps, cases=1, kind=Kind.REDRAW))
    assert [c.kind for c in result.cases] == ["output"]
    assert lanes.moved_to_slow + lanes.parked == before + 1
    with lanes_runner.fast_place(kind=Kind.PROOF):
        ticket = lanes_runner._local.ticket
        assert ticket.background and ticket.budget < lanes.fast_seconds


def test_a_job_waits_for_a_uid_rather_than_failing() -> None:
    runner = ForkServerRunner(slots=1, slow_slots=1)
    try:
        runner.settle()
        drop_ready_children(runner)  # no child ready: the job must fork one
        held = []
        while not runner._uids.empty():
            held.append(runner._uids.get_nowait())
        results: list[RunResult] = []
        job = threading.Thread(target=lambda: results.append(runner.run(_job(
            "def f(x):\n    return x + 1\n", cases=1))))
        job.start()
        waiting = threading.Event()
        for _ in range(600):  # until it waits (a state, not a duration, is what is checked)
            if runner.waiting_for_uid == 1:
                waiting.set()
                break
            job.join(timeout=0.05)
        assert waiting.is_set() and job.is_alive() and not results
        for uid in held:
            runner._uids.put(uid)
        job.join(timeout=60)
        assert [c.kind for c in results[0].cases] == ["output"]
    finally:
        runner.close()
