"""Storage: submissions, uploaded exercise specs and callback attempts, with SQLAlchemy 2.

SQLite (a file, in WAL mode) by default, PostgreSQL through a URL. The schema is created and
upgraded by the Alembic migrations in ``grader/migrations``. A submission is stored before it
is graded, so a restart finds every one that is not finished.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
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
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


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
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=_now)
    started_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    finished_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)

    @property
    def metadata_(self) -> dict[str, Any]:
        return dict(json.loads(self.extra or "{}"))


class StoredExercise(Base):
    __tablename__ = "exercises"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    spec: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=_now)


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
    return create_engine(url, pool_pre_ping=True)


def upgrade(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Store:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        upgrade(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
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
    ) -> tuple[Submission, bool]:
        """Store a new queued submission. With an idempotency key already used in this scope,
        return the first submission instead, and False."""
        if idempotency_key is not None:
            existing = self.by_key(scope, idempotency_key)
            if existing is not None:
                return existing, False
        values = {
            "id": submission_id or uuid.uuid4().hex, "exercise_id": exercise_id,
            "learner_id": learner_id,
            "source": source, "seed": seed, "status": QUEUED, "extra": json.dumps(metadata or {}),
            "callback_url": callback_url, "scope": scope, "idempotency_key": idempotency_key,
            "attempts": 0, "created_at": _now(),
        }
        try:
            # Core, not the ORM: this is on every submission's path.
            with self.engine.begin() as connection:
                connection.execute(self._insert, values)
        except IntegrityError:
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
        with self._session() as session:
            return session.get(Submission, submission_id)

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

    def set_queued(self, submission_ids: list[str]) -> None:
        with self._session() as session:
            session.execute(update(Submission).where(Submission.id.in_(submission_ids))
                            .values(status=QUEUED, attempts=0))

    # -- exercises and callbacks ------------------------------------------------------------

    def put_exercise(self, exercise_id: str, spec_json: str) -> None:
        with self._session() as session:
            session.merge(StoredExercise(id=exercise_id, spec=spec_json, updated_at=_now()))

    def exercises(self) -> list[tuple[str, str]]:
        with self._session() as session:
            return [(e.id, e.spec) for e in session.scalars(
                select(StoredExercise).order_by(StoredExercise.id))]

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
