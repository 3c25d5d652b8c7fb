"""Submissions as the instructor's pages list them: every exercise's counts, one exercise's
submissions filtered and paginated (newest first), one learner's in order. Rows carry what a
finished grading found (``grader.storage.findings``), never the source or the report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import case, func, select

from grader.storage.database import Database
from grader.storage.status import SubmissionStatus
from grader.storage.summary import MISTAKES, SUBMISSIONS

# What the status filter takes: a grading's verdict, or where the submission is.
STATUSES = ("passed", "not_passed", "queued", "running", "failed")


class ExerciseCounts(NamedTuple):
    exercise_id: str
    submissions: int
    graded: int
    passed: int
    top_mistake: str | None
    top_mistake_count: int


class Listed(NamedTuple):
    """A submission as a list shows it."""

    submission_id: str
    exercise_id: str
    learner_id: str | None
    version: int
    status: SubmissionStatus
    passed: bool | None
    score_pct: int | None
    duration_ms: float | None
    attempt: int | None
    created_at: dt.datetime
    mistakes: list[str]


@dataclass(frozen=True)
class Wanted:
    """The filters of a list of submissions; None: any."""

    learner_id: str | None = None
    status: str | None = None  # one of STATUSES
    mistake: str | None = None
    version: int | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None  # exclusive


def _conditions(exercise_id: str, wanted: Wanted) -> list[Any]:
    t = SUBMISSIONS
    where: list[Any] = [t.c.exercise_id == exercise_id]
    if wanted.learner_id is not None:
        where.append(t.c.learner_id == wanted.learner_id)
    if wanted.version is not None:
        where.append(t.c.exercise_version == wanted.version)
    if wanted.since is not None:
        where.append(t.c.created_at >= wanted.since)
    if wanted.until is not None:
        where.append(t.c.created_at < wanted.until)
    if wanted.status == "passed":
        where.append(t.c.passed.is_(True))
    elif wanted.status == "not_passed":
        where.append(t.c.passed.is_(False))
    elif wanted.status in ("queued", "running", "failed"):
        where.append(t.c.status == SubmissionStatus(wanted.status))
    return where


_COLUMNS = (SUBMISSIONS.c.id, SUBMISSIONS.c.exercise_id, SUBMISSIONS.c.learner_id,
            SUBMISSIONS.c.exercise_version, SUBMISSIONS.c.status, SUBMISSIONS.c.passed,
            SUBMISSIONS.c.score_pct, SUBMISSIONS.c.duration_ms, SUBMISSIONS.c.attempt,
            SUBMISSIONS.c.created_at)


class ListingRows(Database):
    def exercise_counts(self) -> dict[str, ExerciseCounts]:
        """Every exercise with submissions: how many, graded, passed, its commonest mistake."""
        t, m = SUBMISSIONS, MISTAKES
        with self.engine.connect() as connection:
            totals = connection.execute(
                select(t.c.exercise_id, func.count(), func.count(t.c.passed),
                       func.coalesce(func.sum(case((t.c.passed.is_(True), 1), else_=0)), 0))
                .group_by(t.c.exercise_id)).all()
            mistakes = connection.execute(
                select(m.c.exercise_id, m.c.mistake, func.count())
                .group_by(m.c.exercise_id, m.c.mistake)).all()
        top: dict[str, tuple[int, str]] = {}
        for exercise_id, mistake, number in mistakes:
            best = top.get(exercise_id)
            if best is None or (number, best[1]) > (best[0], mistake):
                top[exercise_id] = (int(number), mistake)
        return {row[0]: ExerciseCounts(row[0], int(row[1]), int(row[2]), int(row[3]),
                                       top[row[0]][1] if row[0] in top else None,
                                       top[row[0]][0] if row[0] in top else 0)
                for row in totals}

    def listed(self, exercise_id: str, wanted: Wanted, limit: int, offset: int
               ) -> tuple[list[Listed], int]:
        """A page of the exercise's submissions that ``wanted`` keeps, newest first, and how
        many it keeps in all."""
        where = _conditions(exercise_id, wanted)
        t, m = SUBMISSIONS, MISTAKES
        source: Any = t
        newest = [t.c.created_at.desc(), t.c.id.desc()]
        if wanted.mistake is not None:  # walked from the mistake's own index, newest first
            source = m.join(t, m.c.submission_id == t.c.id)
            where += [m.c.exercise_id == exercise_id, m.c.mistake == wanted.mistake]
            newest = [m.c.created_at.desc(), m.c.submission_id.desc()]
        with self.engine.connect() as connection:
            total = int(connection.execute(
                select(func.count()).select_from(source).where(*where)).scalar_one())
            rows = connection.execute(
                select(*_COLUMNS).select_from(source).where(*where)
                .order_by(*newest).limit(limit).offset(offset)).all()
            found = self._with_mistakes(connection, rows)
        return found, total

    def of_learner(self, learner_id: str, limit: int) -> list[Listed]:
        """A learner's submissions to every exercise, oldest first (at most ``limit``)."""
        t = SUBMISSIONS
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(*_COLUMNS).where(t.c.learner_id == learner_id)
                .order_by(t.c.created_at, t.c.id).limit(limit)).all()
            return self._with_mistakes(connection, rows)

    @staticmethod
    def _with_mistakes(connection: Any, rows: Any) -> list[Listed]:
        m = MISTAKES
        ids = [r.id for r in rows]
        made: dict[str, list[str]] = {}
        if ids:
            for sid, mistake in connection.execute(
                    select(m.c.submission_id, m.c.mistake).where(m.c.submission_id.in_(ids))
                    .order_by(m.c.submission_id, m.c.mistake)):
                made.setdefault(sid, []).append(mistake)
        return [Listed(r.id, r.exercise_id, r.learner_id, int(r.exercise_version), r.status,
                       r.passed, r.score_pct, r.duration_ms, r.attempt, r.created_at,
                       made.get(r.id, [])) for r in rows]
