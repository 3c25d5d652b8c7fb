"""Submission rows: stored before they are graded, so a restart finds every one that is not
finished; then claimed, finished or faulted by an attempt at grading them, each step fenced by
the attempt and round it belongs to; queued again in a new round by a regrade."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import (
    Table,
    bindparam,
    column,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    table,
    text,
    true,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from grader.storage.database import Database, again_if_dropped
from grader.storage.findings import (
    GRADED_SET,
    Known,
    graded_parameters,
    graded_values,
    write_findings,
    writes_more,
)
from grader.storage.rows import Admission, Graded, Page, Regraded, Stored
from grader.storage.status import FINISHED, UNFINISHED, SubmissionStatus
from grader.storage.tables import Submission, utc_now
from grader.storage.versions import latest_version

QUEUED, RUNNING = SubmissionStatus.QUEUED, SubmissionStatus.RUNNING
DONE, FAILED = SubmissionStatus.DONE, SubmissionStatus.FAILED
_TABLE = cast(Table, Submission.__table__)
# The statements on every submission's path, built once, on the table itself.
_INSERT = insert(_TABLE)
_JOBS = table("procrastinate_jobs", column("id"), column("status"))
_FINISH = update(_TABLE).where(_TABLE.c.id == bindparam("sid")).values(
    status=DONE, report=bindparam("report"), error=None, finished_at=bindparam("at"),
    drawings=bindparam("drawings"))
_FINISH_GRADED = _FINISH.values(**GRADED_SET)
# a row as read: every column but the drawings, which only the report page reads
_ROW = [c for c in _TABLE.c if c.name != "drawings"]

_UNFINISHED = "status IN (:queued, :running) AND report IS NULL"
_ADMISSION = text(f"""
SELECT
  (SELECT count(*) FROM (SELECT 1 FROM submissions
     WHERE scope = :scope AND {_UNFINISHED} LIMIT :cap) AS of_token),
  (SELECT count(*) FROM (SELECT 1 FROM submissions
     WHERE scope = :scope AND learner_id = :learner AND {_UNFINISHED} LIMIT :cap) AS of_learner),
  (SELECT count(*) FROM (SELECT 1 FROM submissions
     WHERE {_UNFINISHED} LIMIT :backlog) AS queued),
  (SELECT coalesce(max(version), 0) FROM exercise_versions WHERE exercise_id = :exercise)
""").bindparams(queued=QUEUED.value, running=RUNNING.value)


def _in_round(round_: int | None) -> list[Any]:
    return [] if round_ is None else [_TABLE.c.round == round_]


class SubmissionRows(Database):
    def create(
        self,
        *,
        exercise_id: str,
        source: str,
        seed: int,
        scope: str,
        learner_id: str | None = None,
        callback_url: str | None = None,
        metadata: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        submission_id: str | None = None,
        exercise_version: int = 0,
        before: Callable[[Connection], dict[str, Any] | None] | None = None,
        after: Callable[[Connection, dict[str, Any]], None] | None = None,
    ) -> Stored:
        """Store a new queued submission. With an idempotency key already used in this scope,
        return the first submission instead, and False.

        ``before`` and ``after`` run in the insert's transaction, before and after it: to
        admit it (raise to refuse; what it returns updates the row's values), and to queue
        its grading. Either all of it is stored, or none. ``exercise_version`` -1: the newest
        version stored, read in that transaction."""
        if idempotency_key is not None:
            existing = self.by_key(scope, idempotency_key)
            if existing is not None:
                return Stored(existing, False)
        values: dict[str, Any] = {
            "id": submission_id or uuid.uuid4().hex, "exercise_id": exercise_id,
            "learner_id": learner_id,
            "source": source, "seed": seed, "status": QUEUED, "extra": json.dumps(metadata or {}),
            "callback_url": callback_url, "scope": scope, "idempotency_key": idempotency_key,
            "attempts": 0, "created_at": utc_now(), "exercise_version": exercise_version,
            "round": 0,
        }
        version = values["exercise_version"]

        def store() -> None:
            # Core, not the ORM: this is on every submission's path.
            with self.engine.begin() as connection:
                if before is not None:
                    values.update(before(connection) or {})
                if version < 0:
                    values["exercise_version"] = latest_version(connection, exercise_id)
                connection.execute(_INSERT, values)
                if after is not None:
                    after(connection, values)

        def store_once() -> None:
            stored = self.get(values["id"])  # a commit whose answer was lost did land
            if stored is None or stored.created_at != values["created_at"]:
                store()

        try:
            try:
                store()
            except DBAPIError as error:
                if not error.connection_invalidated:
                    raise
                store_once()
        except IntegrityError:
            stored = self.get(values["id"])
            if stored is not None and stored.created_at == values["created_at"]:
                return Stored(stored, True)  # the connection dropped as it committed: it did
            if idempotency_key is None:
                raise
            existing = self.by_key(scope, idempotency_key)  # a concurrent retry won the race
            assert existing is not None
            return Stored(existing, False)
        return Stored(Submission(**values), True)

    def by_key(self, scope: str, key: str) -> Submission | None:
        with self._session() as session:
            return session.scalars(select(Submission).where(
                Submission.scope == scope, Submission.idempotency_key == key)).first()

    def get(self, submission_id: str) -> Submission | None:
        def read() -> Any:
            with self._single.connect() as connection:
                return connection.execute(select(*_ROW).where(_TABLE.c.id == submission_id)
                                          ).mappings().first()

        row = again_if_dropped(read)
        return None if row is None else Submission(**dict(row))

    def drawings(self, submission_id: str, finished_at: dt.datetime | None = None,
                 ) -> str | None:
        """The visible cases' arrays as its last grading kept them; None when it kept none
        (a grading from before they were kept, or none yet), or, given ``finished_at``, when
        that is not when its last report was written (a regrade finished since)."""
        query = select(_TABLE.c.drawings).where(_TABLE.c.id == submission_id)
        if finished_at is not None:
            query = query.where(_TABLE.c.finished_at == finished_at)

        def read() -> Any:
            with self._single.connect() as connection:
                return connection.execute(query).scalar()

        return cast("str | None", again_if_dropped(read))

    def page(self, exercise_id: str | None, learner_id: str | None, limit: int,
             offset: int, scope: str | None = None) -> Page:
        """Submissions, filtered, oldest first: ``limit`` of them from ``offset``; those
        stored under ``scope`` alone when it is given."""
        query = select(Submission)
        if scope is not None:
            query = query.where(Submission.scope == scope)
        if exercise_id is not None:
            query = query.where(Submission.exercise_id == exercise_id)
        if learner_id is not None:
            query = query.where(Submission.learner_id == learner_id)
        with self._session() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(
                query.order_by(Submission.created_at, Submission.id).limit(limit).offset(offset)
            ).all()
        return Page(list(rows), int(total))

    def mark_running(self, submission_id: str) -> None:
        with self._session() as session:
            session.execute(update(Submission).where(Submission.id == submission_id).values(
                status=RUNNING, started_at=utc_now(), attempts=Submission.attempts + 1))

    def save_report(self, submission_id: str, report_json: str,
                    graded: Graded | None = None,
                    after: Callable[[Connection], None] | None = None,
                    known: Known | None = None, drawings: str | None = None) -> dt.datetime:
        """Store the report, and what ``graded`` says it found; ``after`` runs in the same
        transaction (a callback's delivery is stored with it). ``known``: what the caller
        knows of the submission, which saves reading it (``findings.Known``). ``drawings``:
        the visible cases' arrays (None: none, and an earlier grading's are dropped)."""
        finished = utc_now()
        with self.engine.begin() as connection:
            if graded is None:
                connection.execute(_FINISH, {"sid": submission_id, "report": report_json,
                                             "at": finished, "drawings": drawings})
            else:
                connection.execute(_FINISH_GRADED, {
                    "sid": submission_id, "report": report_json, "at": finished,
                    "drawings": drawings, **graded_parameters(graded)})
                write_findings(connection, submission_id, graded, known)
            if after is not None:
                after(connection)
        return finished

    def requeue(self, submission_id: str, error: str, give_up: bool) -> None:
        """After a grader fault: queued again, or failed when retries are used up."""
        with self._session() as session:
            session.execute(update(Submission).where(Submission.id == submission_id).values(
                status=FAILED if give_up else QUEUED, error=error[:2000]))

    def unfinished(self, regrades: bool = False) -> list[str]:
        """Submissions not graded yet, oldest first: new ones, or (``regrades``) those that
        had a report and were queued again by a regrade."""
        has_report = Submission.report.is_not(None) if regrades else Submission.report.is_(None)
        with self._session() as session:
            return list(session.scalars(
                select(Submission.id).where(Submission.status.in_(UNFINISHED), has_report)
                .order_by(Submission.created_at)).all())

    def ids_for_exercise(self, exercise_id: str) -> list[str]:
        with self._session() as session:
            return list(session.scalars(
                select(Submission.id).where(Submission.exercise_id == exercise_id)
                .order_by(Submission.created_at)).all())

    def set_queued(self, submission_ids: list[str], exercise_version: int | None = None) -> None:
        """Queued again (a regrade) in a new round, with ``exercise_version`` when given: the
        one that will grade them."""
        values: dict[str, Any] = {"status": QUEUED, "attempts": 0, "round": Submission.round + 1}
        if exercise_version is not None:
            values["exercise_version"] = exercise_version
        with self._session() as session:
            session.execute(update(Submission).where(Submission.id.in_(submission_ids))
                            .values(**values))

    # -- the distributed queue's steps, each fenced by the attempt it belongs to -------------

    def claim(self, submission_id: str, round_: int) -> Submission | None:
        """Start an attempt at grading a submission in its round: its ``attempts`` (the new
        attempt's number) is counted up, and only that attempt may finish it. None when there
        is nothing to do: graded already, given up, or its round is over (regraded)."""

        def start() -> Any:  # twice at worst: the attempt after is the one that counts
            with self._single.connect() as connection:
                return connection.execute(
                    update(_TABLE).where(_TABLE.c.id == submission_id, _TABLE.c.round == round_,
                                         _TABLE.c.status.in_(UNFINISHED))
                    .values(status=RUNNING, started_at=utc_now(),
                            attempts=_TABLE.c.attempts + 1)
                    .returning(*_ROW)).mappings().first()

        row = again_if_dropped(start)
        return None if row is None else Submission(**dict(row))

    def finish(self, submission_id: str, attempt: int, report_json: str,
               after: Callable[[Connection], None] | None = None,
               notify: str | None = None, round_: int | None = None,
               graded: Graded | None = None, drawings: str | None = None,
               ) -> dt.datetime | None:
        """Write the report of ``attempt``, what ``graded`` says it found and the visible
        cases' ``drawings``; None, and nothing written, when that attempt is stale (another
        one has started since, or a regrade has started a new round). ``after`` runs in the
        same transaction; ``notify`` (PostgreSQL) names a channel told the submission's id
        when it commits."""
        return self.finish_job(submission_id, attempt, report_json, None, after, notify,
                               round_, graded, drawings)[0]

    def finish_job(self, submission_id: str, attempt: int, report_json: str,
                   job_id: int | None, after: Callable[[Connection], None] | None = None,
                   notify: str | None = None, round_: int | None = None,
                   graded: Graded | None = None, drawings: str | None = None,
                   ) -> tuple[dt.datetime | None, bool]:
        """``finish``, and (PostgreSQL) the queue's job ``job_id`` ended in the same commit
        when the report is written: deleted, as procrastinate deletes a job that succeeded,
        if it is still ``doing`` (one taken back by the stalled-job sweep is left alone). The
        report and the job's end cost one commit, and a worker that dies after it leaves no job
        for the sweep to run again. Also whether the job was ended."""
        finished = utc_now()
        write = (update(_TABLE).where(_TABLE.c.id == submission_id, _TABLE.c.attempts == attempt,
                                      _TABLE.c.status == RUNNING, *_in_round(round_))
                 .values(status=DONE, report=report_json, error=None, finished_at=finished,
                         drawings=drawings, **graded_values(graded)))
        more = writes_more(graded, regraded=bool(round_))
        if after is None and notify is not None and not more:
            # the write, the notice and the job's end in one statement, which commits alone:
            # one round trip
            done = write.returning(_TABLE.c.id).cte("done")
            ended = _ended(job_id, select(done.c.id).exists())
            with self._single.connect() as connection:
                told = connection.execute(select(func.pg_notify(notify, done.c.id),
                                                 ended)).all()
            return (finished, bool(told[0][1])) if told else (None, False)
        with self.engine.begin() as connection:
            written = connection.execute(write)
            if written.rowcount != 1:
                return None, False
            if more:
                assert graded is not None
                write_findings(connection, submission_id, graded)
            if after is not None:
                after(connection)
            if notify is None and job_id is None:
                return finished, False
            # the notice (sent at the commit) and the job's end in one round trip
            notice: Any = (func.pg_notify(notify, submission_id) if notify is not None
                           else literal(None))
            gone = connection.execute(select(notice, _ended(job_id, true()))).one()[1]
        return finished, bool(gone)

    def fault(self, submission_id: str, attempt: int, error: str, give_up: bool,
              after: Callable[[Connection], None] | None = None, round_: int | None = None,
              uncount: bool = False) -> bool:
        """After a grader fault in ``attempt``: queued again, or failed when retries are used
        up; False when that attempt is stale. ``uncount``: the attempt does not count (the
        sandbox refused: not this submission's doing)."""
        with self.engine.begin() as connection:
            done = connection.execute(
                update(_TABLE).where(_TABLE.c.id == submission_id, _TABLE.c.attempts == attempt,
                                     _TABLE.c.status == RUNNING, *_in_round(round_))
                .values(status=FAILED if give_up else QUEUED, error=error[:2000],
                        finished_at=utc_now() if give_up else None,
                        attempts=_TABLE.c.attempts - (1 if uncount else 0)))
            if done.rowcount != 1:
                return False
            if after is not None:
                after(connection)
        return True

    def new_round(self, exercise_id: str, version: int | None,
                  after: Callable[[Connection, list[Regraded], int], None]) -> int:
        """A regrade: every graded submission of the exercise (done, failed, or with a report)
        queued again in a new round, with ``version`` of the spec (None: the newest stored,
        read in this transaction), and ``after`` given each (id, round) and the version, in
        the same transaction, to queue them. Submissions not graded yet are left to their
        own jobs."""
        with self.engine.begin() as connection:
            if version is None:
                version = latest_version(connection, exercise_id)
            rows = connection.execute(
                update(_TABLE).where(_TABLE.c.exercise_id == exercise_id,
                                     _TABLE.c.status.in_(FINISHED) | _TABLE.c.report.is_not(None))
                .values(round=_TABLE.c.round + 1, status=QUEUED, attempts=0,
                        exercise_version=version)
                .returning(_TABLE.c.id, _TABLE.c.round)).all()
            regraded = [Regraded(r.id, int(r.round)) for r in rows]
            after(connection, regraded, version)
        return len(regraded)

    @staticmethod
    def admission(connection: Connection, *, scope: str, learner_id: str | None,
                  exercise_id: str, cap: int, backlog_cap: int) -> Admission:
        """In one statement, what admitting a new submission depends on: how many new
        submissions of this token, of this learner and in all wait or are being graded
        (counted up to ``cap`` + 1, ``cap`` + 1 and ``backlog_cap`` + 1), and the exercise's
        newest stored version."""
        row = connection.execute(_ADMISSION, {
            "scope": scope, "learner": learner_id, "exercise": exercise_id,
            "cap": cap + 1, "backlog": backlog_cap + 1}).one()
        return Admission(int(row[0]), int(row[1]), int(row[2]), int(row[3]))

    def backlog(self, cap: int) -> int:
        """New submissions waiting or being graded, counted up to ``cap`` + 1."""
        inner = select(_TABLE.c.id).where(_TABLE.c.status.in_(UNFINISHED),
                                          _TABLE.c.report.is_(None)).limit(cap + 1).subquery()
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(inner)).scalar_one())

    def finished_since(self, seconds: float) -> int:
        """Submissions finished in the last ``seconds``: the rate the queue drains at."""
        since = utc_now() - dt.timedelta(seconds=seconds)
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(Submission).where(
                Submission.finished_at >= since)).scalar_one())


def _ended(job_id: int | None, when: Any) -> Any:
    """Whether the queue's job ``job_id`` was deleted (when ``when`` holds and it is still
    ``doing``), as a scalar for a SELECT; the DELETE is a CTE of that SELECT (PostgreSQL runs
    a data-modifying CTE once, read or not)."""
    if job_id is None:
        return literal(False)
    doing = _JOBS.c.status == literal_column("'doing'")
    gone = (delete(_JOBS).where(_JOBS.c.id == job_id, doing, when)
            .returning(_JOBS.c.id).cte("ended"))
    return select(func.count() > 0).select_from(gone).scalar_subquery()
