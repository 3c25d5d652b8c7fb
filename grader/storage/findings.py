"""What a finished grading found, written beside its report: the columns the instructor's
view counts (``Graded``), the learner's attempt number, which of the learner's submissions
first passed (``first_pass``), and one row per mistake in ``submission_mistakes``. Written in
the transaction, or the statement, that stores the report; a regrade writes them again.

``first_pass`` is settled for all of a learner's submissions to the exercise whenever one of
them passes or is regraded, so a submission graded out of order (an earlier one finishing
later) or one whose verdict a regrade changed moves the mark where it belongs."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, and_, case, delete, func, insert, literal, or_, select, update
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
            "attempt": _ATTEMPT, "first_pass": False}


def writes_more(graded: Graded | None, regraded: bool) -> bool:
    """Whether storing this grading takes more than its row's update: it found mistakes, it
    passed (and may be the learner's first pass), or an earlier grading of the same
    submission may have left rows and marks to change."""
    return graded is not None and (bool(graded.mistakes) or graded.passed or regraded)


def write_findings(connection: Connection, submission_id: str, graded: Graded) -> None:
    """After the row's update, in its transaction: the learner's first pass, and the
    submission's mistakes."""
    _settle_first_pass(connection, submission_id)
    _write_mistakes(connection, submission_id, graded)


def _settle_first_pass(connection: Connection, submission_id: str) -> None:
    """Mark the first passing submission of this submission's learner to its exercise, and
    none of the others."""
    row = connection.execute(select(_TABLE.c.exercise_id, _TABLE.c.learner_id)
                             .where(_TABLE.c.id == submission_id)).first()
    if row is None or row.learner_id is None:
        return
    mine = [_TABLE.c.exercise_id == row.exercise_id, _TABLE.c.learner_id == row.learner_id]
    first = (select(_EARLIER.c.id).where(
        _EARLIER.c.exercise_id == row.exercise_id, _EARLIER.c.learner_id == row.learner_id,
        _EARLIER.c.passed.is_(True))
        .order_by(_EARLIER.c.created_at, _EARLIER.c.id).limit(1).scalar_subquery())
    mark = func.coalesce(_TABLE.c.id == first, False)
    # only the rows whose mark changes are written (and locked): a learner's other submission
    # being graded at the same time, not graded before, is not waited on
    connection.execute(update(_TABLE).where(*mine, _TABLE.c.passed.is_not(None),
                                            _TABLE.c.first_pass.is_distinct_from(mark))
                       .values(first_pass=mark))


def _write_mistakes(connection: Connection, submission_id: str, graded: Graded) -> None:
    """The submission's mistakes, replacing those of an earlier grading, each with the
    submission's exercise, version and time (read from its row in the same statement)."""
    connection.execute(delete(_MISTAKES).where(_MISTAKES.c.submission_id == submission_id))
    for mistake in dict.fromkeys(m[:MISTAKE_CHARS] for m in graded.mistakes):
        connection.execute(insert(_MISTAKES).from_select(
            ["submission_id", "mistake", "exercise_id", "exercise_version", "created_at"],
            select(_TABLE.c.id, literal(mistake), _TABLE.c.exercise_id,
                   _TABLE.c.exercise_version, _TABLE.c.created_at)
            .where(_TABLE.c.id == submission_id)))
