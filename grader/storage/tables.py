"""The tables, as SQLAlchemy maps them: submissions, published exercise versions and their
pools of outputs, callback attempts, and counters of events. The migrations in
``grader/storage/migrations`` make them; these say how rows are read and written."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from grader.storage.status import SubmissionStatus


def utc_now() -> dt.datetime:
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
        try:
            return value.astimezone(dt.UTC)
        except OverflowError:  # a moment past year 9999 or before year 1 in UTC: its bound
            end = dt.datetime.max if value.year == dt.MAXYEAR else dt.datetime.min
            return end.replace(tzinfo=dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect
                             ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Status(TypeDecorator[SubmissionStatus]):
    """A submission's status, stored as its word: only the words of ``SubmissionStatus`` are
    written, and each is read back as one (another word raises ValueError)."""

    impl = String(16)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else SubmissionStatus(value).value

    def process_result_value(self, value: str | None, dialect: Dialect
                             ) -> SubmissionStatus | None:
        return None if value is None else SubmissionStatus(value)


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
    status: Mapped[SubmissionStatus] = mapped_column(Status, index=True)
    report: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[str] = mapped_column(Text, default="{}")
    callback_url: Mapped[str | None] = mapped_column(String(2048))
    scope: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(256))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    exercise_version: Mapped[int] = mapped_column(Integer, default=0)
    round: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utc_now)
    started_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    finished_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    # what the grading found, in columns SQL can count (the instructor's view); None before
    passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    score_pct: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    cases_passed: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # bit i: case i
    duration_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    attempt: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the learner's n-th
    first_pass: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # learner's first
    # the visible cases' arrays as graded, for the report page (``grader.grading.drawings``);
    # read only by it, on its own (deferred)
    drawings: Mapped[str | None] = mapped_column(Text, nullable=True, deferred=True)

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
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utc_now)
    # a pushed bundle's files (JSON: path -> text); None: a spec naming built-in functions
    files: Mapped[str | None] = mapped_column(Text, nullable=True)
    restored_from: Mapped[int | None] = mapped_column(Integer, nullable=True)
    message: Mapped[str | None] = mapped_column(String(500), nullable=True)  # the pusher's
    published_by: Mapped[str | None] = mapped_column(String(64), nullable=True)  # token's name


class SubmissionMistake(Base):
    """A mistake a graded submission made, one row each, with the submission's exercise,
    version and time beside it, so that counting mistakes needs no join."""

    __tablename__ = "submission_mistakes"

    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    mistake: Mapped[str] = mapped_column(String(128), primary_key=True)
    exercise_id: Mapped[str] = mapped_column(String(64))
    exercise_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class ExerciseOutputs(Base):
    """A pushed version's outputs for a pool of seeds, computed in the sandbox with one server
    secret (``secret_id``, its fingerprint). No longer written: a pushed version's outputs are
    computed for each submission (``grader.grading.pushed``); older rows are kept."""

    __tablename__ = "exercise_outputs"

    exercise_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    secret_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seeds: Mapped[str] = mapped_column(Text)
    outputs: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utc_now)


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
    at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utc_now)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)


class CallbackDelivery(Base):
    """One callback to send: a submission's report of one grading round, to its
    ``callback_url``, under one ``webhook_id`` however many attempts it takes. Written in the
    transaction that stores the report; ``next_attempt_at`` says when it is due (while an
    attempt is in flight, when that attempt is taken for lost), ``in_flight_until`` that an
    attempt holds one of its host's places until then."""

    __tablename__ = "callback_deliveries"
    __table_args__ = (UniqueConstraint("submission_id", "round", name="uq_delivery_round"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"))
    round: Mapped[int] = mapped_column(Integer)
    webhook_id: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2048))
    host: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), index=True)  # DeliveryState's words
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(Timestamp, index=True)
    in_flight_until: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utc_now)
