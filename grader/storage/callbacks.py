"""Callback attempts: each delivery of a report to its submission's ``callback_url``, kept to
be shown with the submission."""

from __future__ import annotations

from sqlalchemy import select

from grader.storage.database import Database
from grader.storage.tables import CallbackAttempt, utc_now


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
