"""An exercise's summary, counted by the database: how many submissions and learners, how
many passed, the scores, each case, the mistakes and the slowest submissions.

Every count reads the columns a finished grading wrote (``grader.storage.findings``), through
indexes made for it (migration 0006): on PostgreSQL the submissions' and learners' counts are
one scan of ``ix_submissions_summary`` (its other columns in ``INCLUDE``), grouped into a few
dozen rows; the mistakes one of ``ix_submission_mistakes_count``; the slowest a backward walk
of ``ix_submissions_slowest``. No learner is grouped on: a learner is counted by their first
submission (``attempt`` 1) and their pass by their first passing one (``first_pass``), so
with ``since`` or ``version`` a learner counts where their first submission falls, and their
pass where their first pass falls.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, case, func, select
from sqlalchemy.engine import Connection

from grader.storage.database import Database
from grader.storage.status import SubmissionStatus
from grader.storage.tables import Submission, SubmissionMistake

SUBMISSIONS = cast(Table, Submission.__table__)
MISTAKES = cast(Table, SubmissionMistake.__table__)
BUCKETS = 11  # scores by tenths of the maximum: 0-9 %, ..., 90-99 %, and 100 %
EXAMPLES = 3  # submission ids shown for each mistake
MOST_MISTAKES = 20
SLOWEST = 5


@dataclass(frozen=True)
class Filters:
    """Which submissions a summary counts: those of one version, those since a moment."""

    since: dt.datetime | None = None
    version: int | None = None


class MistakeCount(NamedTuple):
    mistake: str
    submissions: int
    examples: list[str]


class Slow(NamedTuple):
    submission_id: str
    learner_id: str | None
    duration_ms: float
    created_at: dt.datetime
    passed: bool | None


@dataclass
class SummaryCounts:
    """An exercise's counts. Submissions are every one stored; graded ones have a report
    (``passed`` set); learners are those with an id and a graded submission, each counted
    once (by their first submission; with filters, where it falls)."""

    submissions: int = 0
    graded: int = 0
    passed: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * BUCKETS)
    case_passed: list[int] = field(default_factory=list)  # graded submissions passing case i
    learners: int = 0
    learners_passed: int = 0
    learners_first_try: int = 0
    attempts_to_pass: dict[int, int] = field(default_factory=dict)  # attempts -> learners
    mistakes: list[MistakeCount] = field(default_factory=list)
    slowest: list[Slow] = field(default_factory=list)
    case_names: list[str] = field(default_factory=list)

    def median_attempts(self) -> float | None:
        """The median, over learners who passed, of the attempt that first passed."""
        total = sum(self.attempts_to_pass.values())
        if total == 0:
            return None
        ordered = sorted(self.attempts_to_pass.items())

        def nth(n: int) -> int:  # the n-th smallest (0-based)
            seen = 0
            for attempts, learners in ordered:
                seen += learners
                if n < seen:
                    return attempts
            return ordered[-1][0]

        return (nth((total - 1) // 2) + nth(total // 2)) / 2


def _where(table: Table, exercise_id: str, filters: Filters) -> list[Any]:
    where = [table.c.exercise_id == exercise_id]
    if filters.since is not None:
        where.append(table.c.created_at >= filters.since)
    if filters.version is not None:
        where.append(table.c.exercise_version == filters.version)
    return where


def _bit(index: int) -> int:
    """Bit ``index`` of a signed 64-bit integer, as Python reads the stored one."""
    return 1 << index if index < 63 else -(1 << 63)


def _outcomes(connection: Connection, exercise_id: str, filters: Filters, cases: int,
              counts: SummaryCounts) -> None:
    """Submissions grouped by what their grading found (few groups: a score goes with the
    cases passed, and the attempt matters only at a learner's first submission and first
    pass), then counted here: totals, the histogram, each case, the learners."""
    t = SUBMISSIONS
    first = case((t.c.attempt == 1, 1), else_=0)
    until = case((t.c.first_pass.is_(True), t.c.attempt), else_=None)
    rows = connection.execute(
        select(t.c.passed, t.c.score_pct, t.c.cases_passed, first, until, func.count())
        .where(*_where(t, exercise_id, filters))
        .group_by(t.c.passed, t.c.score_pct, t.c.cases_passed, first, until)).all()
    counts.case_passed = [0] * cases
    for passed, pct, bits, starts, passes_at, number in rows:
        counts.submissions += number
        if passed is None:
            continue
        counts.graded += number
        counts.passed += number if passed else 0
        counts.histogram[min(BUCKETS - 1, max(0, int(pct or 0) // 10))] += number
        for index in range(cases):
            if (bits or 0) & _bit(index):
                counts.case_passed[index] += number
        counts.learners += number if starts else 0
        if passes_at is not None:
            counts.learners_passed += number
            counts.learners_first_try += number if passes_at == 1 else 0
            counts.attempts_to_pass[int(passes_at)] = \
                counts.attempts_to_pass.get(int(passes_at), 0) + number


def _mistakes(connection: Connection, exercise_id: str, filters: Filters) -> list[MistakeCount]:
    m = MISTAKES
    where = _where(m, exercise_id, filters)
    number = func.count().label("number")
    top = connection.execute(select(m.c.mistake, number).where(*where).group_by(m.c.mistake)
                             .order_by(number.desc(), m.c.mistake).limit(MOST_MISTAKES)).all()
    found = []
    for mistake, count in top:
        examples = connection.execute(
            select(m.c.submission_id).where(*where, m.c.mistake == mistake)
            .order_by(m.c.created_at.desc(), m.c.submission_id).limit(EXAMPLES)).scalars()
        found.append(MistakeCount(mistake, int(count), list(examples)))
    return found


def _slowest(connection: Connection, exercise_id: str, filters: Filters) -> list[Slow]:
    t = SUBMISSIONS
    rows = connection.execute(
        select(t.c.id, t.c.learner_id, t.c.duration_ms, t.c.created_at, t.c.passed)
        .where(*_where(t, exercise_id, filters), t.c.duration_ms.is_not(None))
        .order_by(t.c.duration_ms.desc()).limit(SLOWEST)).all()
    return [Slow(r.id, r.learner_id, float(r.duration_ms), r.created_at, r.passed)
            for r in rows]


class SummaryRows(Database):
    def summary(self, exercise_id: str, filters: Filters, case_names: list[str]
                ) -> SummaryCounts:
        """The counts of an exercise's submissions that ``filters`` keep, with the passes of
        each case named (the spec's cases, in order)."""
        counts = SummaryCounts(case_names=list(case_names))
        with self.engine.connect() as connection:
            _outcomes(connection, exercise_id, filters, len(case_names), counts)
            counts.mistakes = _mistakes(connection, exercise_id, filters)
            counts.slowest = _slowest(connection, exercise_id, filters)
        return counts

    def regrading(self, exercise_id: str) -> int:
        """Submissions of the exercise that a regrade has queued and not graded yet."""
        t = SUBMISSIONS
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).where(
                t.c.exercise_id == exercise_id, t.c.report.is_not(None),
                t.c.status.in_([SubmissionStatus.QUEUED, SubmissionStatus.RUNNING]))
            ).scalar_one())
