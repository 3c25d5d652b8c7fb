"""LTI 1.3 rows: the platforms an operator registered, the tool's own signing keys, the nonces
of launches (each used once) and the grade passbacks to deliver.

A passback is a durable job: written when a submission launched from a platform is graded
(``queue_passback``, in the transaction that stores the report, or right after it), at most
one per submission and grading round (a unique key), then delivered, retried and recorded by
``grader.lti.passback``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import (
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from grader.storage.database import Database
from grader.storage.tables import Base, Submission, Timestamp, utc_now

LTI_SCOPE = "lti:"  # a submission made through an LTI launch is stored under "lti:<platform>"


class LtiPlatform(Base):
    __tablename__ = "lti_platforms"
    __table_args__ = (UniqueConstraint("issuer", "client_id", "deployment_id",
                                       name="uq_lti_platform"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issuer: Mapped[str] = mapped_column(String(512), index=True)
    client_id: Mapped[str] = mapped_column(String(256))
    deployment_id: Mapped[str] = mapped_column(String(256))
    auth_login_url: Mapped[str] = mapped_column(String(2048))
    auth_token_url: Mapped[str] = mapped_column(String(2048))
    jwks_url: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utc_now)


class LtiKey(Base):
    """One of the tool's RSA keys; the newest unretired one signs."""

    __tablename__ = "lti_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utc_now)
    retired_at: Mapped[dt.datetime | None] = mapped_column(Timestamp, nullable=True)


class LtiNonce(Base):
    """A nonce sent with a login redirect; a launch may use it once, while it is fresh."""

    __tablename__ = "lti_nonces"

    nonce: Mapped[str] = mapped_column(String(128), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utc_now, index=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(Timestamp, nullable=True)


class LtiPassback(Base):
    __tablename__ = "lti_passbacks"
    __table_args__ = (UniqueConstraint("submission_id", "round", name="uq_lti_passback"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    platform_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[str] = mapped_column(String(256))
    lineitem: Mapped[str] = mapped_column(String(2048))
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[dt.datetime] = mapped_column(Timestamp, index=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utc_now)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(Timestamp, nullable=True)


PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
_PASSBACKS = cast(Table, LtiPassback.__table__)
_NONCES = cast(Table, LtiNonce.__table__)


def passback_target(row: Submission) -> tuple[int, str, str] | None:
    """Where the grade of a submission goes: its platform, the platform's user and the line
    item; None for a submission not made through a launch. Only the scope ``lti:<id>``,
    which no token can submit under, is trusted with the ``lti`` metadata."""
    if not row.scope.startswith(LTI_SCOPE):
        return None
    lti = json.loads(row.extra or "{}").get("lti")
    if not isinstance(lti, dict) or not lti.get("lineitem") or not lti.get("user"):
        return None
    platform = row.scope[len(LTI_SCOPE):]
    if not platform.isdigit() or str(lti.get("platform")) != platform:
        return None
    return int(platform), str(lti["user"]), str(lti["lineitem"])


def queue_passback(connection: Connection, row: Submission) -> bool:
    """Write the passback job of a graded submission's round, on ``connection`` (the
    transaction that stores its report, or one of its own); False when it has none or its
    round has one already (exactly once per round)."""
    target = passback_target(row)
    if target is None:
        return False
    platform, user, lineitem = target
    values = {"submission_id": row.id, "round": row.round, "platform_id": platform,
              "user_id": user, "lineitem": lineitem, "status": PENDING, "attempts": 0,
              "next_at": utc_now(), "created_at": utc_now()}
    # One attempt only finishes a round (the store fences the others), so nothing races
    # this check; the unique key stands behind it.
    if connection.execute(select(_PASSBACKS.c.id).where(
            _PASSBACKS.c.submission_id == row.id, _PASSBACKS.c.round == row.round)).first():
        return False
    connection.execute(insert(_PASSBACKS).values(**values))
    return True


def passback_then(first: Callable[[Any], None] | None,
                  row: Submission) -> Callable[[Any], None]:
    """``first`` (what a transaction already does after a report is written), then the
    passback job of ``row``, on the same connection."""

    def both(connection: Connection) -> None:
        if first is not None:
            first(connection)
        queue_passback(connection, row)

    return both


class LtiRows(Database):
    # -- platforms ---------------------------------------------------------------------------

    def add_platform(self, **fields: str) -> LtiPlatform:
        with self._session() as session:
            platform = LtiPlatform(**fields, created_at=utc_now())
            session.add(platform)
            session.flush()
            return platform

    def lti_platforms(self) -> list[LtiPlatform]:
        with self._session() as session:
            return list(session.scalars(select(LtiPlatform).order_by(LtiPlatform.id)))

    def lti_platform(self, platform_id: int) -> LtiPlatform | None:
        with self._session() as session:
            return session.get(LtiPlatform, platform_id)

    def remove_platform(self, platform_id: int) -> bool:
        with self._session() as session:
            gone = session.execute(delete(LtiPlatform).where(LtiPlatform.id == platform_id))
            return bool(gone.rowcount)  # type: ignore[attr-defined]

    def find_platforms(self, issuer: str, client_id: str | None = None,
                       deployment_id: str | None = None) -> list[LtiPlatform]:
        query = select(LtiPlatform).where(LtiPlatform.issuer == issuer)
        if client_id is not None:
            query = query.where(LtiPlatform.client_id == client_id)
        if deployment_id is not None:
            query = query.where(LtiPlatform.deployment_id == deployment_id)
        with self._session() as session:
            return list(session.scalars(query.order_by(LtiPlatform.id)))

    # -- the tool's keys ---------------------------------------------------------------------

    def lti_keys(self) -> list[LtiKey]:
        """Every key, newest first."""
        with self._session() as session:
            return list(session.scalars(select(LtiKey).order_by(LtiKey.created_at.desc())))

    def add_lti_key(self, kid: str, private_pem: str, retire_others: bool) -> None:
        now = utc_now()
        with self._session() as session:
            if retire_others:
                session.execute(update(LtiKey).where(LtiKey.retired_at.is_(None))
                                .values(retired_at=now))
            session.add(LtiKey(kid=kid, private_pem=private_pem, created_at=now))

    # -- nonces ------------------------------------------------------------------------------

    def issue_nonce(self, nonce: str) -> None:
        with self._session() as session:
            session.add(LtiNonce(nonce=nonce, created_at=utc_now()))

    def use_nonce(self, nonce: str, max_age: dt.timedelta) -> bool:
        """Mark a nonce used; False when it was never issued, is used already or too old.
        One statement, so two launches with one nonce cannot both have it."""
        now = utc_now()
        with self.engine.begin() as connection:
            done = connection.execute(update(_NONCES).where(
                _NONCES.c.nonce == nonce[:128], _NONCES.c.used_at.is_(None),
                _NONCES.c.created_at > now - max_age).values(used_at=now))
            connection.execute(delete(_NONCES).where(_NONCES.c.created_at < now - 4 * max_age))
            return done.rowcount == 1

    # -- passbacks ---------------------------------------------------------------------------

    def queue_passback(self, row: Submission) -> bool:
        if passback_target(row) is None:  # most submissions: no transaction at all
            return False
        try:
            with self.engine.begin() as connection:
                return queue_passback(connection, row)
        except IntegrityError:  # written meanwhile by the start's recovery: there it is
            return False

    def unqueued_passbacks(self, limit: int = 1000) -> list[Submission]:
        """Graded launched submissions whose round has no passback job: a server stopped
        between storing a report and writing its job (embedded mode writes it right after)."""
        done = select(_PASSBACKS.c.id).where(_PASSBACKS.c.submission_id == Submission.id,
                                             _PASSBACKS.c.round == Submission.round)
        with self._session() as session:
            return list(session.scalars(select(Submission).where(
                Submission.scope.startswith(LTI_SCOPE), Submission.status == "done",
                ~done.exists()).limit(limit)))

    def passback_of(self, submission_id: str) -> LtiPassback | None:
        """The passback of a submission's newest round, if it has one."""
        with self._session() as session:
            return session.scalars(select(LtiPassback).where(
                LtiPassback.submission_id == submission_id)
                .order_by(LtiPassback.round.desc()).limit(1)).first()

    def due_passbacks(self, limit: int) -> list[LtiPassback]:
        with self._session() as session:
            return list(session.scalars(select(LtiPassback).where(
                LtiPassback.status == PENDING, LtiPassback.next_at <= utc_now())
                .order_by(LtiPassback.next_at).limit(limit)))

    def claim_passback(self, job: LtiPassback, lease: dt.timedelta) -> bool:
        """Take a due job for ``lease``: its ``next_at`` moves on, so that another server
        polling the table does not take it too; False when another one took it first."""
        now = utc_now()
        with self.engine.begin() as connection:
            done = connection.execute(update(_PASSBACKS).where(
                _PASSBACKS.c.id == job.id, _PASSBACKS.c.status == PENDING,
                _PASSBACKS.c.next_at <= now).values(next_at=now + lease))
            return done.rowcount == 1

    def passback_tried(self, job_id: int, delivered: bool, error: str | None,
                       retry_at: dt.datetime | None) -> None:
        """Record an attempt: delivered, to be tried again at ``retry_at``, or (no
        ``retry_at``) given up."""
        values: dict[str, Any] = {"attempts": _PASSBACKS.c.attempts + 1,
                                  "last_error": error[:2000] if error else None}
        if delivered:
            values.update(status=DELIVERED, delivered_at=utc_now())
        elif retry_at is None:
            values.update(status=FAILED)
        else:
            values.update(next_at=retry_at)
        with self.engine.begin() as connection:
            connection.execute(update(_PASSBACKS).where(_PASSBACKS.c.id == job_id)
                               .values(**values))
