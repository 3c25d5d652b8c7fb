"""What a finished grading found, written beside its report: the columns the instructor's
view counts (``Graded``), the learner's attempt number, which of the learner's submissions
first passed (``first_pass``), and one row per mistake in ``submission_mistakes``. Written in
the transaction, or the statement, that stores the report; a regrade writes them again.

``first_pass`` is settled for all of a learner's submissions to the exercise whenever one of
them passes or is regraded, so a submission graded out of order (an earlier one finishing
later) or one whose verdict a regrade changed moves the mark where it belongs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, case, delete, func, insert, or_, select, update
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


# The same columns, as parameters of a statement built once (``graded_parameters``): each
# named apart from its column, which SQLAlchemy keeps for itself in an UPDATE's SET clause.
GRADED_SET: dict[str, Any] = {
    "passed": bindparam("g_passed"), "score_pct": bindparam("g_score_pct"),
    "cases_passed": bindparam("g_cases_passed"), "duration_ms": bindparam("g_duration_ms"),
    "attempt": _ATTEMPT, "first_pass": False}


def graded_parameters(graded: Graded) -> dict[str, Any]:
    """The values of ``GRADED_SET``'s parameters."""
    return {"g_passed": graded.passed, "g_score_pct": graded.score_pct,
            "g_cases_passed": graded.cases_passed, "g_duration_ms": graded.duration_ms}


def writes_more(graded: Graded | None, regraded: bool) -> bool:
    """Whether storing this grading takes more than its row's update: it found mistakes, it
    passed (and may be the learner's first pass), or an earlier grading of the same
    submission may have left rows and marks to change."""
    return graded is not None and (bool(graded.mistakes) or graded.passed or regraded)


# The statements below are on every graded submission's path: built once, with parameters.
_LEARNER_OF = select(_TABLE.c.exercise_id, _TABLE.c.learner_id).where(
    _TABLE.c.id == bindparam("sid"))
_MINE = (_TABLE.c.exercise_id == bindparam("exercise"),
         _TABLE.c.learner_id == bindparam("learner"))
_FIRST = (select(_EARLIER.c.id).where(
    _EARLIER.c.exercise_id == bindparam("exercise"),
    _EARLIER.c.learner_id == bindparam("learner"), _EARLIER.c.passed.is_(True))
    .order_by(_EARLIER.c.created_at, _EARLIER.c.id).limit(1).scalar_subquery())
_MARK = func.coalesce(_TABLE.c.id == _FIRST, False)
# only the rows whose mark changes are written (and locked): a learner's other submission
# being graded at the same time, not graded before, is not waited on
_SETTLE = update(_TABLE).where(*_MINE, _TABLE.c.passed.is_not(None),
                               _TABLE.c.first_pass.is_distinct_from(_MARK)).values(first_pass=_MARK)
_FORGET_MISTAKES = delete(_MISTAKES).where(_MISTAKES.c.submission_id == bindparam("sid"))
_ADD_MISTAKE = insert(_MISTAKES).from_select(
    ["submission_id", "mistake", "exercise_id", "exercise_version", "created_at"],
    select(_TABLE.c.id, bindparam("mistake", type_=_MISTAKES.c.mistake.type),
           _TABLE.c.exercise_id, _TABLE.c.exercise_version, _TABLE.c.created_at)
    .where(_TABLE.c.id == bindparam("sid")))


@dataclass(frozen=True)
class Known:
    """What the caller of ``write_findings`` knows of the submission, which saves reading
    it: its exercise and learner (neither ever changes once it is stored), and whether this
    is its first grading written (``first``: no rows of an earlier one to replace)."""

    exercise_id: str
    learner_id: str | None
    first: bool = False


def write_findings(connection: Connection, submission_id: str, graded: Graded,
                   known: Known | None = None) -> None:
    """After the row's update, in its transaction: the learner's first pass, and the
    submission's mistakes."""
    _settle_first_pass(connection, submission_id, known)
    _write_mistakes(connection, submission_id, graded, known is not None and known.first)


def _settle_first_pass(connection: Connection, submission_id: str, known: Known | None) -> None:
    """Mark the first passing submission of this submission's learner to its exercise, and
    none of the others."""
    row: Any = known
    if row is None:
        row = connection.execute(_LEARNER_OF, {"sid": submission_id}).first()
    if row is None or row.learner_id is None:
        return
    connection.execute(_SETTLE, {"exercise": row.exercise_id, "learner": row.learner_id})


def _write_mistakes(connection: Connection, submission_id: str, graded: Graded,
                    first: bool) -> None:
    """The submission's mistakes, replacing those of an earlier grading (none to replace on
    its ``first``), each with the submission's exercise, version and time (read from its
    row in the same statement)."""
    if not first:
        connection.execute(_FORGET_MISTAKES, {"sid": submission_id})
    for mistake in dict.fromkeys(m[:MISTAKE_CHARS] for m in graded.mistakes):
        connection.execute(_ADD_MISTAKE, {"sid": submission_id, "mistake": mistake})
