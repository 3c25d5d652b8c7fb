"""One attempt at grading a stored submission, and the fault policy of every attempt: the same
in embedded mode (``embedded``, in this process) and in the distributed mode (``worker``).

- The exercise's version that grades it is gone: the submission fails, at once.
- More than ``MAX_ATTEMPTS`` attempts were started (each interrupted by a crash): it fails.
- The sandbox refuses (``SandboxUnavailable``: a layer lost): not this submission's doing, and
  no retry mends it; it is queued again (in the distributed mode the attempt is given back;
  embedded mode counts it, as a restart's recovery does).
- Any other fault of the grader's (the sandbox failing, a bug): queued again for another
  attempt, and failed at the ``MAX_ATTEMPTS``-th. A learner's verdict is never retried.

Where an attempt's end is written is each mode's ``Ledger``; a ledger that fences (the
distributed mode's) writes nothing for an attempt that a newer one has replaced.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from grader.catalog.exercises import Exercise, UnknownExercise
from grader.grading.drawings import Drawings
from grader.grading.report import Report
from grader.sandbox.account import Stage, stage
from grader.sandbox.base import SandboxError, SandboxUnavailable
from grader.storage.store import Submission

log = logging.getLogger("grader.service.attempt")
MAX_ATTEMPTS = 3
INTERRUPTED = "grading was interrupted too many times"


def gone(exercise_id: str, version: int) -> str:
    return f"exercise {exercise_id!r} version {version} is gone"


class Outcome(StrEnum):
    GRADED = "graded"
    FENCED = "fenced"  # a newer attempt, or a new round, has the submission: nothing written
    RETRY = "retry"  # a fault: queued again, the attempt counted
    REFUSED = "refused"  # the sandbox refused: queued again, the attempt not counted
    FAILED = "failed"  # a fault in the last attempt allowed: given up
    GONE = "exercise gone"
    GIVEN_UP = "given up"  # too many attempts were started before this one


@dataclass(frozen=True)
class Fault:
    """What a fault leaves: the row's error, whether it is failed, whether the attempt counts."""

    error: str
    give_up: bool
    counts: bool = True


def fault_of(error: BaseException, attempt: int) -> Fault:
    """The fault policy: what a fault of the grader's in attempt number ``attempt`` leaves."""
    refused = isinstance(error, SandboxUnavailable)
    return Fault(str(error) or type(error).__name__,
                 give_up=not refused and attempt >= MAX_ATTEMPTS, counts=not refused)


class Ledger(Protocol):
    """Where one mode writes an attempt's steps. ``finished`` and ``faulted`` say whether the
    attempt still had the submission (None, False: fenced, nothing written)."""

    def started(self, row: Submission, attempt: int) -> None: ...

    def finished(self, row: Submission, attempt: int, body: str,
                 drawings: str | None = None) -> dt.datetime | None: ...

    def faulted(self, row: Submission, attempt: int, fault: Fault) -> bool: ...


@dataclass
class Result:
    outcome: Outcome
    report: Report | None = None
    body: str | None = None
    finished_at: dt.datetime | None = None
    seconds: float = 0.0
    error: str | None = None  # a fault's, in grading


# grades a submission, filling in the visible cases' drawings
Grade = Callable[[Exercise, Submission, Drawings], Report]


def attempt(row: Submission, number: int, version: int, *,
            exercise_at: Callable[[str, int], Exercise], grade: Grade,
            ledger: Ledger) -> Result:
    """Attempt number ``number`` at grading ``row`` with ``version`` of its exercise."""
    try:
        exercise = exercise_at(row.exercise_id, version)
    except UnknownExercise:
        ledger.faulted(row, number, Fault(gone(row.exercise_id, version), give_up=True))
        return Result(Outcome.GONE)
    if number > MAX_ATTEMPTS:
        ledger.faulted(row, number, Fault(INTERRUPTED, give_up=True))
        return Result(Outcome.GIVEN_UP)
    ledger.started(row, number)
    started = time.perf_counter()
    drawings = Drawings()
    try:
        report = grade(exercise, row, drawings)
    except Exception as error:  # noqa: BLE001 - any fault of ours: the fault policy says what
        fault = fault_of(error, number)
        _log(row.id, number, error, fault)
        seconds = time.perf_counter() - started
        if not ledger.faulted(row, number, fault):
            return Result(Outcome.FENCED, seconds=seconds, error=fault.error)
        outcome = Outcome.FAILED if fault.give_up else \
            Outcome.RETRY if fault.counts else Outcome.REFUSED
        return Result(outcome, seconds=seconds, error=fault.error)
    with stage(Stage.REPORT):
        body = report.model_dump_json()
        kept = drawings.encode()  # kept even with no case: its page then runs nothing
    with stage(Stage.UPDATE):
        finished = ledger.finished(row, number, body, kept)
    seconds = time.perf_counter() - started
    if finished is None:
        log.warning("dropped the report of %s from attempt %d: a newer attempt has started",
                    row.id, number)
        return Result(Outcome.FENCED, report, body, seconds=seconds)
    log.info("graded %s (%s v%d, round %d): %g/%g in %.0f ms", row.id, row.exercise_id,
             version, row.round, report.score, report.max_score, seconds * 1000)
    return Result(Outcome.GRADED, report, body, finished, seconds)


def _log(submission_id: str, number: int, error: BaseException, fault: Fault) -> None:
    if not fault.counts:
        log.error("grading %s is refused: %s", submission_id, error)
    elif isinstance(error, SandboxError):
        log.error("grading %s failed (attempt %d): %s", submission_id, number, error)
    else:
        log.error("grading %s failed (attempt %d)", submission_id, number, exc_info=error)
