"""Storage: submissions, uploaded exercise specs and callback attempts, with SQLAlchemy 2.

SQLite (a file, in WAL mode) by default, PostgreSQL through a URL. The schema is created and
upgraded by the Alembic migrations in ``grader/storage/migrations``. A submission is stored
before it is graded, so a restart finds every one that is not finished.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import select as selectors_
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from grader.errors import StorageError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
T = TypeVar("T")

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


_UNFINISHED = "status IN ('queued', 'running') AND report IS NULL"
_ADMISSION = text(f"""
SELECT
  (SELECT count(*) FROM (SELECT 1 FROM submissions
     WHERE scope = :scope AND {_UNFINISHED} LIMIT :cap) AS of_token),
  (SELECT count(*) FROM (SELECT 1 FROM submissions
     WHERE scope = :scope AND learner_id = :learner AND {_UNFINISHED} LIMIT :cap) AS of_learner),
  (SELECT count(*) FROM (SELECT 1 FROM submissions
     WHERE {_UNFINISHED} LIMIT :backlog) AS queued),
  (SELECT coalesce(max(version), 0) FROM exercise_versions WHERE exercise_id = :exercise)
""")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Timestamp(TypeDecorator[dt.datetime]):
    """A moment in UTC, written and read back with its zone on every database. PostgreSQL
    keeps the zone; SQLite keeps none, so what it gives back (written as UTC) gets it here."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect
                           ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a timestamp without a time zone")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect
                             ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    pass


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("scope", "idempotency_key", name="uq_idempotency"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    exercise_id: Mapped[str] = mapped_column(String(64), index=True)
    learner_id: Mapped[str | None] = mapped_column(String(256), index=True)
    source: Mapped[str] = mapped_column(Text)
    seed: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), index=True)
    report: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[str] = mapped_column(Text, default="{}")
    callback_url: Mapped[str | None] = mapped_column(String(2048))
    scope: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(256))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    exercise_version: Mapped[int] = mapped_column(Integer, default=0)
    round: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=_now)
    started_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    finished_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)

    @property
    def metadata_(self) -> dict[str, Any]:
        return dict(json.loads(self.extra or "{}"))


class ExerciseVersion(Base):
    """One published spec of an exercise; never changed once written. Version 0 is the
    built-in spec (files shipped with the grader), which is not stored here."""

    __tablename__ = "exercise_versions"

    exercise_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    spec: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=_now)
    # a pushed bundle's files (JSON: path -> text); None: a spec naming built-in functions
    files: Mapped[str | None] = mapped_column(Text, nullable=True)
    restored_from: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ExerciseOutputs(Base):
    """A pushed version's outputs for a pool of seeds, computed in the sandbox with one server
    secret (``secret_id``, its fingerprint): ``grader.grading.pool``."""

    __tablename__ = "exercise_outputs"

    exercise_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    secret_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seeds: Mapped[str] = mapped_column(Text)
    outputs: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=_now)


class EventCounter(Base):
    """Events counted across every process on the database (stalled jobs recovered...)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class CallbackAttempt(Base):
    __tablename__ = "callback_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(Timestamp, default=_now)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    engine = create_engine(url)
    _ping_after_idle(engine)
    return engine


PING_AFTER_IDLE = 1.0  # seconds


def suspect(connection: Any, idle: float) -> bool:
    """Whether a pooled connection (psycopg's) must be pinged before use: it has been idle
    for over a second, or the server has sent it something while idle, which is how a
    dropped connection shows (an idle connection of a pool is sent nothing else)."""
    if idle > PING_AFTER_IDLE or connection.closed:
        return True
    try:
        readable, _, _ = selectors_.select([connection.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _ping_after_idle(engine: Engine) -> None:
    """A pooled connection that is ``suspect`` is pinged before it is handed out, and replaced
    if the database has dropped it (a restart, ``pg_terminate_backend``). One in steady use is
    not: a ping on every checkout would cost a round trip per transaction."""

    @event.listens_for(engine, "checkin")
    def _idle_from(_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _alive(connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or not suspect(connection, time.monotonic() - since):
            return
        autocommit = connection.autocommit
        try:
            connection.autocommit = True
            connection.execute("SELECT 1")
        except Exception as error:
            raise DisconnectionError(f"a pooled connection was dropped: {error}") from error
        finally:
            with contextlib.suppress(Exception):
                connection.autocommit = autocommit


def _alembic() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration."""
    from alembic import command

    config = _alembic()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _in_round(table: Table, round_: int | None) -> list[Any]:
    return [] if round_ is None else [table.c.round == round_]


def _again_if_dropped(work: Callable[[], T]) -> T:
    """Run ``work`` (a transaction, or one statement), once more if the database dropped the
    connection under it (a restart, ``pg_terminate_backend``): the pool has thrown away the
    dropped connections by then. ``work`` must be safe to run twice."""
    try:
        return work()
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
    return work()


class OldSchema(StorageError, RuntimeError):
    """The database is not at the schema this grader needs: run ``grader migrate``."""


def schema_problem(engine: Engine) -> str | None:
    """Why the database's schema is not the one this code needs; None when it is."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic()).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current == head:
        return None
    return (f"the database's schema is at {current or 'nothing'}, and this grader needs "
            f"{head}: run `grader migrate` once, before the servers and workers start")


class Store:
    def __init__(self, url: str, migrate: bool = True) -> None:
        """``migrate``: bring the schema up to date (one process alone on its database);
        otherwise refuse a schema that is not up to date (``OldSchema``)."""
        self.engine = make_engine(url)
        if migrate:
            upgrade(self.engine)
        else:
            problem = schema_problem(self.engine)
            if problem is not None:
                self.engine.dispose()
                raise OldSchema(problem)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # One statement, one round trip: no BEGIN and COMMIT around it.
        self._single = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        # The two statements on every submission's path, built once, on the table itself.
        table = cast(Table, Submission.__table__)
        self._insert = insert(table)
        self._finish = update(table).where(table.c.id == bindparam("sid")).values(
            status=DONE, report=bindparam("report"), error=None, finished_at=bindparam("at"))

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> bool:
        with self.engine.connect() as connection:
            return connection.execute(text("SELECT 1")).scalar() == 1

    # -- submissions ------------------------------------------------------------------------

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
    ) -> tuple[Submission, bool]:
        """Store a new queued submission. With an idempotency key already used in this scope,
        return the first submission instead, and False.

        ``before`` and ``after`` run in the insert's transaction, before and after it: to
        admit it (raise to refuse; what it returns updates the row's values), and to queue
        its grading. Either all of it is stored, or none. ``exercise_version`` -1: the newest
        version stored, read in that transaction."""
        if idempotency_key is not None:
            existing = self.by_key(scope, idempotency_key)
            if existing is not None:
                return existing, False
        values: dict[str, Any] = {
            "id": submission_id or uuid.uuid4().hex, "exercise_id": exercise_id,
            "learner_id": learner_id,
            "source": source, "seed": seed, "status": QUEUED, "extra": json.dumps(metadata or {}),
            "callback_url": callback_url, "scope": scope, "idempotency_key": idempotency_key,
            "attempts": 0, "created_at": _now(), "exercise_version": exercise_version,
            "round": 0,
        }
        version = values["exercise_version"]

        def store() -> None:
            # Core, not the ORM: this is on every submission's path.
            with self.engine.begin() as connection:
                if before is not None:
                    values.update(before(connection) or {})
                if version < 0:
                    values["exercise_version"] = self.latest_version(connection, exercise_id)
                connection.execute(self._insert, values)
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
                return stored, True  # the connection dropped as it committed: it did
            if idempotency_key is None:
                raise
            existing = self.by_key(scope, idempotency_key)  # a concurrent retry won the race
            assert existing is not None
            return existing, False
        return Submission(**values), True

    def by_key(self, scope: str, key: str) -> Submission | None:
        with self._session() as session:
            return session.scalars(select(Submission).where(
                Submission.scope == scope, Submission.idempotency_key == key)).first()

    def get(self, submission_id: str) -> Submission | None:
        table = cast(Table, Submission.__table__)

        def read() -> Any:
            with self._single.connect() as connection:
                return connection.execute(select(table).where(table.c.id == submission_id)
                                          ).mappings().first()

        row = _again_if_dropped(read)
        return None if row is None else Submission(**dict(row))

    def page(self, exercise_id: str | None, learner_id: str | None, limit: int,
             offset: int) -> tuple[list[Submission], int]:
        query = select(Submission)
        if exercise_id is not None:
            query = query.where(Submission.exercise_id == exercise_id)
        if learner_id is not None:
            query = query.where(Submission.learner_id == learner_id)
        with self._session() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(
                query.order_by(Submission.created_at, Submission.id).limit(limit).offset(offset)
            ).all()
        return list(rows), int(total)

    def mark_running(self, submission_id: str) -> None:
        with self._session() as session:
            session.execute(update(Submission).where(Submission.id == submission_id).values(
                status=RUNNING, started_at=_now(), attempts=Submission.attempts + 1))

    def save_report(self, submission_id: str, report_json: str) -> dt.datetime:
        finished = _now()
        with self.engine.begin() as connection:
            connection.execute(self._finish, {"sid": submission_id, "report": report_json,
                                              "at": finished})
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
                select(Submission.id).where(Submission.status.in_([QUEUED, RUNNING]), has_report)
                .order_by(Submission.created_at)).all())

    def ids_for_exercise(self, exercise_id: str) -> list[str]:
        with self._session() as session:
            return list(session.scalars(
                select(Submission.id).where(Submission.exercise_id == exercise_id)
                .order_by(Submission.created_at)).all())

    def set_queued(self, submission_ids: list[str], exercise_version: int | None = None) -> None:
        """Queued again (a regrade), with ``exercise_version`` when given: the one that will
        grade them."""
        values: dict[str, Any] = {"status": QUEUED, "attempts": 0}
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
        table = cast(Table, Submission.__table__)

        def start() -> Any:  # twice at worst: the attempt after is the one that counts
            with self._single.connect() as connection:
                return connection.execute(
                    update(table).where(table.c.id == submission_id, table.c.round == round_,
                                        table.c.status.in_([QUEUED, RUNNING]))
                    .values(status=RUNNING, started_at=_now(), attempts=table.c.attempts + 1)
                    .returning(*table.c)).mappings().first()

        row = _again_if_dropped(start)
        return None if row is None else Submission(**dict(row))

    def finish(self, submission_id: str, attempt: int, report_json: str,
               after: Callable[[Connection], None] | None = None,
               notify: str | None = None, round_: int | None = None) -> dt.datetime | None:
        """Write the report of ``attempt``; None, and nothing written, when that attempt is
        stale (another one has started since, or a regrade has started a new round).
        ``after`` runs in the same transaction; ``notify`` (PostgreSQL) names a channel told
        the submission's id when it commits."""
        table = cast(Table, Submission.__table__)
        finished = _now()
        write = (update(table).where(table.c.id == submission_id, table.c.attempts == attempt,
                                     table.c.status == RUNNING, *_in_round(table, round_))
                 .values(status=DONE, report=report_json, error=None, finished_at=finished))
        if after is None and notify is not None:
            # the write and the notice in one statement, which commits alone: one round trip
            done = write.returning(table.c.id).cte("done")
            with self._single.connect() as connection:
                told = connection.execute(select(func.pg_notify(notify, done.c.id))).all()
            return finished if told else None
        with self.engine.begin() as connection:
            written = connection.execute(write)
            if written.rowcount != 1:
                return None
            if notify is not None:
                connection.execute(select(func.pg_notify(notify, submission_id)))
            if after is not None:
                after(connection)
        return finished

    def fault(self, submission_id: str, attempt: int, error: str, give_up: bool,
              after: Callable[[Connection], None] | None = None, round_: int | None = None,
              uncount: bool = False) -> bool:
        """After a grader fault in ``attempt``: queued again, or failed when retries are used
        up; False when that attempt is stale. ``uncount``: the attempt does not count (the
        sandbox refused: not this submission's doing)."""
        table = cast(Table, Submission.__table__)
        with self.engine.begin() as connection:
            done = connection.execute(
                update(table).where(table.c.id == submission_id, table.c.attempts == attempt,
                                    table.c.status == RUNNING, *_in_round(table, round_))
                .values(status=FAILED if give_up else QUEUED, error=error[:2000],
                        finished_at=_now() if give_up else None,
                        attempts=table.c.attempts - (1 if uncount else 0)))
            if done.rowcount != 1:
                return False
            if after is not None:
                after(connection)
        return True

    def new_round(self, exercise_id: str, version: int | None,
                  after: Callable[[Connection, list[tuple[str, int]], int], None]) -> int:
        """A regrade: every graded submission of the exercise (done, failed, or with a report)
        queued again in a new round, with ``version`` of the spec (None: the newest stored,
        read in this transaction), and ``after`` given (id, round) of each and the version,
        in the same transaction, to queue them. Submissions not graded yet are left to their
        own jobs."""
        table = cast(Table, Submission.__table__)
        with self.engine.begin() as connection:
            if version is None:
                version = self.latest_version(connection, exercise_id)
            rows = connection.execute(
                update(table).where(table.c.exercise_id == exercise_id,
                                    table.c.status.in_([DONE, FAILED])
                                    | table.c.report.is_not(None))
                .values(round=table.c.round + 1, status=QUEUED, attempts=0,
                        exercise_version=version)
                .returning(table.c.id, table.c.round)).all()
            pairs = [(r[0], int(r[1])) for r in rows]
            after(connection, pairs, version)
        return len(pairs)

    def orphans(self, older_than: float, limit: int = 500) -> list[tuple[str, int, int]]:
        """Unfinished submissions (PostgreSQL, distributed mode) with no grading job waiting
        or running for their round, unchanged for ``older_than`` seconds: (id, round,
        version). None should exist; a job whose retries ran out, or a row left by embedded
        mode, would be one."""
        with self.engine.connect() as connection:
            rows = connection.execute(text("""
                SELECT s.id, s.round, s.exercise_version FROM submissions s
                WHERE s.status IN ('queued', 'running')
                  AND coalesce(s.started_at, s.created_at) < now() - make_interval(secs => :age)
                  AND NOT EXISTS (
                    SELECT 1 FROM procrastinate_jobs j
                    WHERE j.task_name = 'grader.grading.grade' AND j.status IN ('todo', 'doing')
                      AND j.args->>'submission_id' = s.id
                      AND (j.args->>'round')::int = s.round)
                ORDER BY s.created_at LIMIT :limit"""), {"age": older_than, "limit": limit})
            return [(r[0], int(r[1]), int(r[2])) for r in rows]

    @staticmethod
    def admission(connection: Connection, *, scope: str, learner_id: str | None,
                  exercise_id: str, cap: int, backlog_cap: int) -> tuple[int, int, int, int]:
        """In one statement, what admitting a new submission depends on: how many new
        submissions of this token, of this learner and in all wait or are being graded
        (counted up to ``cap`` + 1, ``cap`` + 1 and ``backlog_cap`` + 1), and the exercise's
        newest stored version."""
        row = connection.execute(_ADMISSION, {
            "scope": scope, "learner": learner_id, "exercise": exercise_id,
            "cap": cap + 1, "backlog": backlog_cap + 1}).one()
        return int(row[0]), int(row[1]), int(row[2]), int(row[3])

    def backlog(self, cap: int) -> int:
        """New submissions waiting or being graded, counted up to ``cap`` + 1."""
        table = cast(Table, Submission.__table__)
        inner = select(table.c.id).where(table.c.status.in_([QUEUED, RUNNING]),
                                         table.c.report.is_(None)).limit(cap + 1).subquery()
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(inner)).scalar_one())

    def finished_since(self, seconds: float) -> int:
        """Submissions finished in the last ``seconds``: the rate the queue drains at."""
        since = _now() - dt.timedelta(seconds=seconds)
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(Submission).where(
                Submission.finished_at >= since)).scalar_one())

    def count_event(self, name: str, count: int = 1) -> None:
        table = cast(Table, EventCounter.__table__)
        with self.engine.begin() as connection:
            added = connection.execute(update(table).where(table.c.name == name)
                                       .values(value=table.c.value + count))
            if added.rowcount == 0:
                try:
                    with connection.begin_nested():
                        connection.execute(insert(table).values(name=name, value=count))
                except IntegrityError:  # another process made it just now
                    connection.execute(update(table).where(table.c.name == name)
                                       .values(value=table.c.value + count))

    def queue_facts(self) -> dict[str, Any]:
        """The procrastinate queue as it stands, for the metrics (PostgreSQL only)."""
        with self.engine.connect() as connection:
            jobs = {(r[0], r[1]): int(r[2]) for r in connection.execute(text(
                "SELECT queue_name, status, count(*) FROM procrastinate_jobs "
                "GROUP BY queue_name, status"))}
            depth, oldest = connection.execute(text(
                "SELECT count(*), coalesce(extract(epoch FROM now() - min(e.at)), 0) "
                "FROM procrastinate_jobs j LEFT JOIN LATERAL (SELECT min(at) AS at "
                "FROM procrastinate_events WHERE job_id = j.id) e ON true "
                "WHERE j.queue_name = 'grading' AND j.status = 'todo'")).one()
            workers, age = connection.execute(text(
                "SELECT count(*), coalesce(extract(epoch FROM now() - min(last_heartbeat)), 0) "
                "FROM procrastinate_workers")).one()
        return {"jobs": jobs, "depth": int(depth), "oldest": float(oldest),
                "workers": int(workers), "heartbeat_age": float(age),
                "counters": self.counters()}

    def counters(self) -> dict[str, int]:
        with self.engine.connect() as connection:
            return {r[0]: int(r[1]) for r in connection.execute(
                select(EventCounter.name, EventCounter.value))}

    # -- exercises and callbacks ------------------------------------------------------------

    def put_exercise(self, exercise_id: str, spec_json: str,
                     after: Callable[[Connection, int], None] | None = None, *,
                     files_json: str | None = None,
                     pool: tuple[str, list[int], bytes] | None = None) -> int:
        """Publish a spec as the exercise's next version; returns its number. A pushed
        bundle's ``files_json`` and ``pool`` (secret id, seeds, outputs) are stored with it.
        ``after`` is given it in the same transaction."""
        with self.engine.begin() as connection:
            version = self.latest_version(connection, exercise_id) + 1
            connection.execute(insert(ExerciseVersion).values(
                exercise_id=exercise_id, version=version, spec=spec_json, created_at=_now(),
                files=files_json))
            if pool is not None:
                secret_id, seeds, outputs = pool
                connection.execute(insert(ExerciseOutputs).values(
                    exercise_id=exercise_id, version=version, secret_id=secret_id,
                    seeds=json.dumps(seeds), outputs=outputs, created_at=_now()))
            if after is not None:
                after(connection, version)
        return version

    def restore_exercise(self, exercise_id: str, version: int, builtin_spec_json: str | None,
                         after: Callable[[Connection, int], None] | None = None) -> int | None:
        """Publish a copy of ``version`` (its spec, files and pools) as the next version;
        version 0 is ``builtin_spec_json``. Returns the new version; None when there is no
        such version to copy."""
        with self.engine.begin() as connection:
            if version == 0:
                if builtin_spec_json is None:
                    return None
                spec, files = builtin_spec_json, None
            else:
                row = connection.execute(
                    select(ExerciseVersion.spec, ExerciseVersion.files).where(
                        ExerciseVersion.exercise_id == exercise_id,
                        ExerciseVersion.version == version)).first()
                if row is None:
                    return None
                spec, files = row[0], row[1]
            new = self.latest_version(connection, exercise_id) + 1
            connection.execute(insert(ExerciseVersion).values(
                exercise_id=exercise_id, version=new, spec=spec, files=files,
                restored_from=version, created_at=_now()))
            pools = connection.execute(
                select(ExerciseOutputs.secret_id, ExerciseOutputs.seeds, ExerciseOutputs.outputs)
                .where(ExerciseOutputs.exercise_id == exercise_id,
                       ExerciseOutputs.version == version)).all()
            for secret_id, seeds, outputs in pools:
                connection.execute(insert(ExerciseOutputs).values(
                    exercise_id=exercise_id, version=new, secret_id=secret_id, seeds=seeds,
                    outputs=outputs, created_at=_now()))
            if after is not None:
                after(connection, new)
        return new

    def pool(self, exercise_id: str, version: int, secret_id: str) -> bytes | None:
        with self.engine.connect() as connection:
            return connection.execute(select(ExerciseOutputs.outputs).where(
                ExerciseOutputs.exercise_id == exercise_id, ExerciseOutputs.version == version,
                ExerciseOutputs.secret_id == secret_id)).scalar()

    def pool_seeds(self, exercise_id: str, version: int) -> list[int] | None:
        """The seeds of a pool of this version, for any secret; None when it has none."""
        with self.engine.connect() as connection:
            seeds = connection.execute(select(ExerciseOutputs.seeds).where(
                ExerciseOutputs.exercise_id == exercise_id, ExerciseOutputs.version == version)
                .order_by(ExerciseOutputs.created_at).limit(1)).scalar()
        return None if seeds is None else [int(s) for s in json.loads(seeds)]

    def save_pool(self, exercise_id: str, version: int, secret_id: str, seeds: list[int],
                  outputs: bytes) -> None:
        """Store a pool; one stored meanwhile by another process is kept."""
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(ExerciseOutputs).values(
                    exercise_id=exercise_id, version=version, secret_id=secret_id,
                    seeds=json.dumps(seeds), outputs=outputs, created_at=_now()))
        except IntegrityError:
            pass

    @staticmethod
    def latest_version(connection: Connection, exercise_id: str) -> int:
        return int(connection.execute(
            select(func.coalesce(func.max(ExerciseVersion.version), 0))
            .where(ExerciseVersion.exercise_id == exercise_id)).scalar_one())

    def exercises(self) -> list[tuple[str, int, str]]:
        """The newest stored version of every stored exercise: (id, version, spec)."""
        return [(exercise_id, version, spec)
                for exercise_id, version, spec, _ in self.newest_rows()]

    def exercise_version(self, exercise_id: str, version: int) -> str | None:
        row = self.exercise_row(exercise_id, version)
        return None if row is None else row[0]

    def exercise_row(self, exercise_id: str, version: int) -> tuple[str, str | None] | None:
        """A stored version's spec and, for a pushed bundle, its files; None when there is
        no such version."""
        with self._session() as session:
            row = session.get(ExerciseVersion, (exercise_id, version))
            return None if row is None else (row.spec, row.files)

    def newest_rows(self) -> list[tuple[str, int, str, str | None]]:
        """The newest stored version of every stored exercise: (id, version, spec, files)."""
        newest = (select(ExerciseVersion.exercise_id,
                         func.max(ExerciseVersion.version).label("version"))
                  .group_by(ExerciseVersion.exercise_id).subquery())
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(ExerciseVersion.exercise_id, ExerciseVersion.version,
                       ExerciseVersion.spec, ExerciseVersion.files)
                .join(newest, (newest.c.exercise_id == ExerciseVersion.exercise_id)
                      & (newest.c.version == ExerciseVersion.version))
                .order_by(ExerciseVersion.exercise_id)).all()
        return [(r[0], int(r[1]), r[2], r[3]) for r in rows]

    def versions(self, exercise_id: str) -> list[tuple[int, dt.datetime, bool, int | None]]:
        """Every stored version: (version, created at, pushed as a bundle, restored from)."""
        with self._session() as session:
            return [(v.version, v.created_at, v.files is not None, v.restored_from)
                    for v in session.scalars(
                        select(ExerciseVersion).where(ExerciseVersion.exercise_id == exercise_id)
                        .order_by(ExerciseVersion.version))]

    def record_callback(self, submission_id: str, attempt: int, status_code: int | None,
                        error: str | None, delivered: bool) -> None:
        with self._session() as session:
            session.add(CallbackAttempt(
                submission_id=submission_id, attempt=attempt, status_code=status_code,
                error=error, delivered=delivered, at=_now()))

    def callbacks(self, submission_id: str) -> list[CallbackAttempt]:
        with self._session() as session:
            return list(session.scalars(select(CallbackAttempt).where(
                CallbackAttempt.submission_id == submission_id).order_by(CallbackAttempt.id)))
