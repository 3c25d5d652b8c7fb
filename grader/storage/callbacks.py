"""Callbacks as rows: each delivery to send (``callback_deliveries``) and each attempt at it
(``callback_attempts``, shown with the submission).

A delivery is written in the transaction that stores its report. A sender claims due
deliveries in one short transaction that also records each claimed attempt, before anything
is sent: an attempt cut short by a killed process is counted, and its delivery is due again
once its lease (``in_flight_until``) runs out. A claim respects every host's places across all
senders (on PostgreSQL, claims take turns under an advisory lock).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

from sqlalchemy import Table, and_, func, insert, select, text, update
from sqlalchemy.engine import Connection

from grader.storage.database import Database
from grader.storage.status import DeliveryState
from grader.storage.tables import CallbackAttempt, CallbackDelivery, Submission, utc_now

_D = cast(Table, CallbackDelivery.__table__)
_A = cast(Table, CallbackAttempt.__table__)
_S = cast(Table, Submission.__table__)
PENDING = DeliveryState.PENDING.value
NO_OUTCOME = "sent; no outcome recorded (the sender stopped during the attempt)"
CLAIM_LOCK = 0x4752_4342_0000  # "GRCB": one claim at a time across the senders
CALLBACK_CHANNEL = "grader_callbacks"  # told of a new delivery or a freed place (PostgreSQL)


@dataclass(frozen=True)
class Claim:
    """One attempt at a delivery, recorded and leased to the sender that claimed it."""

    delivery_id: int
    attempt_id: int
    submission_id: str
    round: int
    webhook_id: str
    url: str
    attempt: int


def webhook_id(submission_id: str, round_: int) -> str:
    """One id per submission and grading round, the same for every attempt."""
    return f"msg_{submission_id}_{round_}"


def host_of(url: str) -> str:
    """What shares a host's places: its name, whatever the port or path."""
    return (urlsplit(url).hostname or "").lower()[:255]


def queue_callback(connection: Connection, submission_id: str) -> None:
    """In the transaction that stores the report: a delivery of the submission's current
    round to its ``callback_url`` (none without one; once per round)."""
    row = connection.execute(select(_S.c.round, _S.c.callback_url)
                             .where(_S.c.id == submission_id)).one_or_none()
    if row is None or not row.callback_url:
        return
    known = connection.execute(select(_D.c.id).where(
        _D.c.submission_id == submission_id, _D.c.round == row.round)).first()
    if known is not None:
        return
    now = utc_now()
    connection.execute(insert(_D).values(
        submission_id=submission_id, round=row.round, webhook_id=webhook_id(
            submission_id, row.round), url=row.callback_url, host=host_of(row.callback_url),
        state=PENDING, attempts=0, next_attempt_at=now, in_flight_until=None, created_at=now))
    _tell(connection)


def _tell(connection: Connection) -> None:
    """Wake the senders listening on other connections, when the transaction commits."""
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_notify(CALLBACK_CHANNEL, "")))


class CallbackRows(Database):
    def record_callback(self, submission_id: str, attempt: int, status_code: int | None,
                        error: str | None, delivered: bool) -> None:
        with self._session() as session:
            session.add(CallbackAttempt(
                submission_id=submission_id, attempt=attempt, status_code=status_code,
                error=error, delivered=delivered, at=utc_now()))

    def callbacks(self, submission_id: str) -> list[CallbackAttempt]:
        """A submission's callback attempts, oldest first."""
        with self._session() as session:
            return list(session.scalars(select(CallbackAttempt).where(
                CallbackAttempt.submission_id == submission_id).order_by(CallbackAttempt.id)))

    def queue_callback(self, submission_id: str) -> None:
        """A delivery of the submission's current round, in a transaction of its own."""
        with self.engine.begin() as connection:
            queue_callback(connection, submission_id)

    def claim_callbacks(self, limit: int, per_host: int, lease: float,
                        attempts: int) -> list[Claim]:
        """Up to ``limit`` due deliveries, at most ``per_host`` in flight to a host across
        every sender: each one's attempt counted and recorded, its place leased for
        ``lease`` seconds. Deliveries out of attempts are given up; those of a round that a
        regrade replaced are left."""
        now = utc_now()
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                   {"key": CLAIM_LOCK})
            _tidy(connection, now, attempts)
            picked = _pick(connection, now, limit, per_host, attempts)
            if not picked:
                return []
            until = now + dt.timedelta(seconds=lease)
            connection.execute(update(_D).where(_D.c.id.in_(picked)).values(
                attempts=_D.c.attempts + 1, next_attempt_at=until, in_flight_until=until))
            rows = connection.execute(select(_D).where(_D.c.id.in_(picked))
                                      .order_by(_D.c.next_attempt_at, _D.c.id)).all()
            claims = []
            for row in rows:
                attempt_id = connection.execute(insert(_A).values(
                    submission_id=row.submission_id, attempt=row.attempts, at=now,
                    status_code=None, error=NO_OUTCOME, delivered=False)
                    .returning(_A.c.id)).scalar_one()
                claims.append(Claim(row.id, attempt_id, row.submission_id, row.round,
                                    row.webhook_id, row.url, row.attempts))
            return claims

    def settle_callback(self, claim: Claim, status_code: int | None, error: str | None,
                        delivered: bool, retry_at: dt.datetime | None) -> None:
        """An attempt's outcome: delivered, due again at ``retry_at``, or given up (None).
        A failure does not touch a delivery that another sender has claimed since."""
        with self.engine.begin() as connection:
            connection.execute(update(_A).where(_A.c.id == claim.attempt_id).values(
                status_code=status_code, error=error, delivered=delivered))
            _tell(connection)  # a place is free
            mine = and_(_D.c.id == claim.delivery_id, _D.c.state == PENDING)
            if delivered:
                connection.execute(update(_D).where(mine).values(
                    state=DeliveryState.DELIVERED.value, in_flight_until=None))
                return
            values: dict[str, object] = {"in_flight_until": None}
            if retry_at is None:
                values["state"] = DeliveryState.GIVEN_UP.value
            else:
                values["next_attempt_at"] = retry_at
            connection.execute(update(_D).where(
                mine, _D.c.attempts == claim.attempt).values(**values))

    def next_callback_at(self, attempts: int) -> dt.datetime | None:
        """When the earliest delivery is due (past: due now, waiting for a place)."""
        with self.engine.connect() as connection:
            return cast(dt.datetime | None, connection.execute(
                select(func.min(_D.c.next_attempt_at)).where(
                    _D.c.state == PENDING, _D.c.attempts < attempts)).scalar())

    def deliveries(self, submission_id: str) -> list[CallbackDelivery]:
        """A submission's deliveries, one per grading round that had a callback."""
        with self._session() as session:
            return list(session.scalars(select(CallbackDelivery).where(
                CallbackDelivery.submission_id == submission_id).order_by(
                CallbackDelivery.round)))


def _tidy(connection: Connection, now: dt.datetime, attempts: int) -> None:
    """Give up deliveries whose last attempt's lease ran out; leave those of old rounds."""
    connection.execute(update(_D).where(
        _D.c.state == PENDING, _D.c.attempts >= attempts, _D.c.next_attempt_at <= now)
        .values(state=DeliveryState.GIVEN_UP.value, in_flight_until=None))
    current = select(_S.c.round).where(_S.c.id == _D.c.submission_id).scalar_subquery()
    connection.execute(update(_D).where(_D.c.state == PENDING, _D.c.round < current)
                       .values(state=DeliveryState.SUPERSEDED.value, in_flight_until=None))


def _pick(connection: Connection, now: dt.datetime, limit: int, per_host: int,
          attempts: int) -> list[int]:
    """Due deliveries, earliest first, within every host's free places."""
    busy: dict[str, int] = {host: int(count) for host, count in connection.execute(
        select(_D.c.host, func.count()).where(_D.c.state == PENDING,
                                              _D.c.in_flight_until > now)
        .group_by(_D.c.host))}
    rank = func.row_number().over(partition_by=_D.c.host,
                                  order_by=(_D.c.next_attempt_at, _D.c.id)).label("rank")
    full = [host for host, count in busy.items() if count >= per_host]
    due = select(_D.c.id, _D.c.host, _D.c.next_attempt_at, rank).where(
        _D.c.state == PENDING, _D.c.attempts < attempts, _D.c.next_attempt_at <= now,
        _D.c.host.not_in(full)).subquery()
    candidates = connection.execute(
        select(due.c.id, due.c.host).where(due.c.rank <= per_host)
        .order_by(due.c.next_attempt_at, due.c.id).limit(limit * per_host)).all()
    picked: list[int] = []
    for delivery_id, host in candidates:
        if len(picked) >= limit:
            break
        if busy.get(host, 0) < per_host:
            busy[host] = busy.get(host, 0) + 1
            picked.append(delivery_id)
    return picked
