"""What a finished grading found, written beside its report: the columns the instructor's
view counts (``Graded``), the learner's attempt number, and one row per mistake in
``submission_mistakes``. Written in the transaction, or the statement, that stores the
report; a regrade writes them again."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, and_, case, delete, func, insert, literal, or_, select
from sqlalchemy.engine import Connection

from grader.storage.rows import Graded
from grader.storage.tables import Submission, SubmissionMistake

_TABLE = cast(Table, Submission.__table__)
_MISTAKES = cast(Table, SubmissionMistake.__table__)
_EARLIER = _TABLE.alias("earlier")
MISTAKE_CHARS = 128

# The learner's n-th submission to the exercise, counted once, when it is first graded:
# submissions without a learner have none.
_ATTEMPT = case(
    (_TABLE.c.learner_id.is_(None), None),
    else_=func.coalesce(_TABLE.c.attempt, select(func.count()).where(
        _EARLIER.c.exercise_id == _TABLE.c.exercise_id,
        _EARLIER.c.learner_id == _TABLE.c.learner_id,
        or_(_EARLIER.c.created_at < _TABLE.c.created_at,
            and_(_EARLIER.c.created_at == _TABLE.c.created_at, _EARLIER.c.id <= _TABLE.c.id)),
    ).scalar_subquery()))


def graded_values(graded: Graded | None) -> dict[str, Any]:
    """The submission's columns for what its grading found (none without it)."""
    if graded is None:
        return {}
    return {"passed": graded.passed, "score_pct": graded.score_pct,
            "cases_passed": graded.cases_passed, "duration_ms": graded.duration_ms,
            "attempt": _ATTEMPT}


def writes_mistakes(graded: Graded | None, regraded: bool) -> bool:
    """Whether storing this grading must write ``submission_mistakes``: it found some, or an
    earlier grading of the same submission may have left rows to remove."""
    return graded is not None and (bool(graded.mistakes) or regraded)


def write_mistakes(connection: Connection, submission_id: str, graded: Graded) -> None:
    """The submission's mistakes, replacing those of an earlier grading, each with the
    submission's exercise, version and time (read from its row in the same statement)."""
    connection.execute(delete(_MISTAKES).where(_MISTAKES.c.submission_id == submission_id))
    for mistake in dict.fromkeys(m[:MISTAKE_CHARS] for m in graded.mistakes):
        connection.execute(insert(_MISTAKES).from_select(
            ["submission_id", "mistake", "exercise_id", "exercise_version", "created_at"],
            select(_TABLE.c.id, literal(mistake), _TABLE.c.exercise_id,
                   _TABLE.c.exercise_version, _TABLE.c.created_at)
            .where(_TABLE.c.id == submission_id)))
