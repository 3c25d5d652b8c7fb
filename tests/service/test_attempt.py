"""One attempt and its fault policy, with a ledger that records what it is told to write."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from scipy.signal import correlate2d

from grader.catalog.exercises import Catalog, Exercise, UnknownExercise
from grader.grading.drawings import Drawings
from grader.grading.grade import grade
from grader.grading.report import Report
from grader.sandbox.base import SandboxError, SandboxUnavailable
from grader.sandbox.fake import FakeRunner
from grader.service.attempt import (
    INTERRUPTED,
    MAX_ATTEMPTS,
    Fault,
    Outcome,
    attempt,
    fault_of,
    gone,
)
from grader.storage.store import Submission
from tests.conftest import EXERCISES, HIDDEN_SECRET


def correct(image: Any, kernel: Any) -> Any:
    return correlate2d(image, kernel, mode="valid")


@pytest.fixture(scope="module")
def conv2d() -> Exercise:
    return Catalog(EXERCISES).get("conv2d")


class Ledger:
    def __init__(self, holds: bool = True) -> None:
        self.holds = holds  # False: a newer attempt has the submission
        self.steps: list[tuple[Any, ...]] = []
        self.drawings: str | None = None

    def started(self, row: Submission, attempt: int) -> None:
        self.steps.append(("started", attempt))

    def finished(self, row: Submission, attempt: int, body: str,
                 drawings: str | None = None) -> dt.datetime | None:
        self.steps.append(("finished", attempt))
        self.drawings = drawings
        return dt.datetime.now(dt.UTC) if self.holds else None

    def faulted(self, row: Submission, attempt: int, fault: Fault) -> bool:
        self.steps.append(("faulted", attempt, fault))
        return self.holds


def row() -> Submission:
    return Submission(id="s1", exercise_id="conv2d", source="x", seed=7, round=0, attempts=0,
                      exercise_version=0, status="running")


def graded_by(runner: FakeRunner) -> Any:
    def run(exercise: Exercise, row: Submission, drawings: Drawings) -> Report:
        return grade(exercise, row.source, runner, seed=row.seed, hidden_secret=HIDDEN_SECRET,
                     drawings=drawings)
    return run


def failing(error: Exception) -> Any:
    def run(exercise: Exercise, row: Submission, drawings: Drawings) -> Report:
        raise error
    return run


def at(conv2d: Exercise) -> Any:
    return lambda exercise_id, version: conv2d


@pytest.mark.parametrize(("error", "number", "expected"), [
    (SandboxError("the zygote died"), 1, Fault("the zygote died", give_up=False)),
    (RuntimeError("a bug"), MAX_ATTEMPTS - 1, Fault("a bug", give_up=False)),
    (RuntimeError("a bug"), MAX_ATTEMPTS, Fault("a bug", give_up=True)),
    (RuntimeError(), 1, Fault("RuntimeError", give_up=False)),
    # the sandbox refusing is no one's fault here: never given up, never counted
    (SandboxUnavailable("seccomp lost"), MAX_ATTEMPTS,
     Fault("seccomp lost", give_up=False, counts=False)),
])
def test_the_fault_policy(error: Exception, number: int, expected: Fault) -> None:
    assert fault_of(error, number) == expected


def test_a_graded_attempt_writes_its_report(conv2d: Exercise) -> None:
    ledger = Ledger()
    result = attempt(row(), 1, 0, exercise_at=at(conv2d), grade=graded_by(FakeRunner(correct)),
                     ledger=ledger)
    assert result.outcome is Outcome.GRADED and result.report is not None
    assert result.report.passed and result.finished_at is not None
    assert ledger.steps == [("started", 1), ("finished", 1)]
    kept = Drawings.decode(ledger.drawings)  # written with the report: the visible cases'
    assert kept is not None and list(kept.cases) == ["square 8x8", "tall 12x10"]


def test_a_report_of_a_replaced_attempt_is_dropped(conv2d: Exercise) -> None:
    result = attempt(row(), 1, 0, exercise_at=at(conv2d), grade=graded_by(FakeRunner(correct)),
                     ledger=Ledger(holds=False))
    assert result.outcome is Outcome.FENCED and result.error is None


def test_a_fault_is_retried_then_given_up_at_the_last_attempt(conv2d: Exercise) -> None:
    ledger = Ledger()
    outcomes = [attempt(row(), n, 0, exercise_at=at(conv2d), ledger=ledger,
                        grade=failing(RuntimeError("a bug"))).outcome
                for n in range(1, MAX_ATTEMPTS + 1)]
    assert outcomes == [Outcome.RETRY] * (MAX_ATTEMPTS - 1) + [Outcome.FAILED]
    assert ledger.steps[-1] == ("faulted", MAX_ATTEMPTS, Fault("a bug", give_up=True))


def test_a_refusal_is_queued_again_uncounted(conv2d: Exercise) -> None:
    ledger = Ledger()
    result = attempt(row(), MAX_ATTEMPTS, 0, exercise_at=at(conv2d), ledger=ledger,
                     grade=failing(SandboxUnavailable("landlock lost")))
    assert result.outcome is Outcome.REFUSED and result.error == "landlock lost"
    assert ledger.steps[-1][2].counts is False


def test_a_fault_in_a_replaced_attempt_is_fenced(conv2d: Exercise) -> None:
    result = attempt(row(), 1, 0, exercise_at=at(conv2d), ledger=Ledger(holds=False),
                     grade=failing(RuntimeError("late")))
    assert result.outcome is Outcome.FENCED and result.error == "late"


def test_a_gone_version_fails_the_submission_at_once_without_grading() -> None:
    def nothing(exercise_id: str, version: int) -> Exercise:
        raise UnknownExercise(f"{exercise_id} version {version}")

    ledger = Ledger()
    result = attempt(row(), 1, 4, exercise_at=nothing, grade=failing(AssertionError()),
                     ledger=ledger)
    assert result.outcome is Outcome.GONE
    assert ledger.steps == [("faulted", 1, Fault(gone("conv2d", 4), give_up=True))]
    assert gone("conv2d", 4) == "exercise 'conv2d' version 4 is gone"


def test_an_attempt_past_the_last_is_given_up_without_grading(conv2d: Exercise) -> None:
    ledger = Ledger()
    result = attempt(row(), MAX_ATTEMPTS + 1, 0, exercise_at=at(conv2d),
                     grade=failing(AssertionError()), ledger=ledger)
    assert result.outcome is Outcome.GIVEN_UP
    assert ledger.steps == [("faulted", MAX_ATTEMPTS + 1, Fault(INTERRUPTED, give_up=True))]
