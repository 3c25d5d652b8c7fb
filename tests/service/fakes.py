"""Fakes for the layers below the service, so that its rules are tested in seconds.

``MemoryStore`` keeps submissions in a dict with the semantics of ``grader.storage.store.Store``
for what the service calls (``test_store_contract`` holds it to the real one on SQLite): every
step of the distributed queue is fenced by the attempt and the round. ``FakeQueue`` is
procrastinate's part: it runs grading jobs one at a time and runs again one that raises
``RetryLater``.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from grader.errors import RetryLater
from grader.storage.lti import passback_target
from grader.storage.rows import Graded
from grader.storage.status import SubmissionStatus
from grader.storage.store import Submission

DONE, FAILED = SubmissionStatus.DONE, SubmissionStatus.FAILED
QUEUED, RUNNING = SubmissionStatus.QUEUED, SubmissionStatus.RUNNING


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Connection:
    """What a transaction's hook is given: it records the statements run on it."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, dict[str, Any]]] = []

    def execute(self, statement: Any, parameters: dict[str, Any] | None = None) -> None:
        self.statements.append((str(statement), parameters or {}))


class MemoryStore:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.events: Counter[str] = Counter()
        self.graded: dict[str, Graded | None] = {}  # what each grading found, as stored
        self.drawings: dict[str, str | None] = {}  # the visible cases' arrays, as stored
        self.notified: list[str] = []  # notices sent (``notify``, or by a hook), by id
        self.connection = Connection()  # every hook's
        self.passbacks: set[tuple[str, int]] = set()  # LTI grade passbacks: id, round
        self._lock = threading.Lock()

    def _row(self, values: dict[str, Any]) -> Submission:
        return Submission(**values)  # a copy, detached, as the real store gives

    def create(self, *, exercise_id: str, source: str, seed: int, scope: str,
               learner_id: str | None = None, callback_url: str | None = None,
               metadata: dict[str, Any] | None = None, idempotency_key: str | None = None,
               submission_id: str | None = None, exercise_version: int = 0,
               before: Callable[[Any], dict[str, Any] | None] | None = None,
               after: Callable[[Any, dict[str, Any]], None] | None = None,
               ) -> tuple[Submission, bool]:
        with self._lock:
            if idempotency_key is not None:
                for values in self.rows.values():
                    if (values["scope"], values["idempotency_key"]) == (scope, idempotency_key):
                        return self._row(values), False
            values = {
                "id": submission_id or uuid.uuid4().hex, "exercise_id": exercise_id,
                "learner_id": learner_id, "source": source, "seed": seed, "status": QUEUED,
                "report": None, "extra": json.dumps(metadata or {}),
                "callback_url": callback_url, "scope": scope,
                "idempotency_key": idempotency_key, "attempts": 0,
                "exercise_version": max(exercise_version, 0), "round": 0, "error": None,
                "created_at": _now(), "started_at": None, "finished_at": None}
            if before is not None:
                values.update(before(self.connection) or {})
            if after is not None:
                after(self.connection, values)
            self.rows[values["id"]] = values
            return self._row(values), True

    def get(self, submission_id: str) -> Submission | None:
        with self._lock:
            values = self.rows.get(submission_id)
            return None if values is None else self._row(values)

    def by_key(self, scope: str, key: str) -> Submission | None:
        with self._lock:
            for values in self.rows.values():
                if (values["scope"], values["idempotency_key"]) == (scope, key):
                    return self._row(values)
        return None

    def callbacks(self, submission_id: str) -> list[Any]:
        return []

    # -- embedded mode's steps --------------------------------------------------------------

    def mark_running(self, submission_id: str) -> None:
        with self._lock:
            values = self.rows[submission_id]
            values.update(status=RUNNING, started_at=_now(), attempts=values["attempts"] + 1)

    def save_report(self, submission_id: str, report_json: str,
                    graded: Graded | None = None, known: Any = None,
                    drawings: str | None = None) -> dt.datetime:
        finished = _now()
        with self._lock:
            self.rows[submission_id].update(status=DONE, report=report_json, error=None,
                                            finished_at=finished)
            self.drawings[submission_id] = drawings
            self.graded[submission_id] = graded
        return finished

    def queue_passback(self, row: Submission) -> bool:
        """As the store: one passback job per launched submission and round."""
        if passback_target(row) is None:
            return False
        with self._lock:
            if (row.id, row.round) in self.passbacks:
                return False
            self.passbacks.add((row.id, row.round))
        return True

    def requeue(self, submission_id: str, error: str, give_up: bool) -> None:
        with self._lock:
            self.rows[submission_id].update(status=FAILED if give_up else QUEUED,
                                            error=error[:2000])

    def unfinished(self, regrades: bool = False) -> list[str]:
        with self._lock:
            return [i for i, v in sorted(self.rows.items(), key=lambda r: r[1]["created_at"])
                    if v["status"] in (QUEUED, RUNNING) and (v["report"] is not None) == regrades]

    # -- the distributed queue's steps, fenced ----------------------------------------------

    def claim(self, submission_id: str, round_: int) -> Submission | None:
        with self._lock:
            values = self.rows.get(submission_id)
            if values is None or values["round"] != round_ or \
                    values["status"] not in (QUEUED, RUNNING):
                return None
            values.update(status=RUNNING, started_at=_now(), attempts=values["attempts"] + 1)
            return self._row(values)

    def _holds(self, submission_id: str, attempt: int, round_: int | None) -> bool:
        values = self.rows.get(submission_id)
        return values is not None and values["attempts"] == attempt and \
            values["status"] == RUNNING and (round_ is None or values["round"] == round_)

    def finish(self, submission_id: str, attempt: int, report_json: str,
               after: Callable[[Any], None] | None = None, notify: str | None = None,
               round_: int | None = None, graded: Graded | None = None,
               drawings: str | None = None) -> dt.datetime | None:
        with self._lock:
            if not self._holds(submission_id, attempt, round_):
                return None
            finished = _now()
            self.rows[submission_id].update(status=DONE, report=report_json, error=None,
                                            finished_at=finished)
            self.drawings[submission_id] = drawings
            self.graded[submission_id] = graded
            if notify is not None:
                self.notified.append(submission_id)
        if after is not None:
            after(self.connection)
        return finished

    def finish_job(self, submission_id: str, attempt: int, report_json: str,
                   job_id: int | None, after: Callable[[Any], None] | None = None,
                   notify: str | None = None, round_: int | None = None,
                   graded: Graded | None = None, drawings: str | None = None,
                   ) -> tuple[dt.datetime | None, bool]:
        """``finish``: the jobs are ``FakeQueue``'s, not rows here, so none is ended with it."""
        return self.finish(submission_id, attempt, report_json, after, notify, round_,
                           graded, drawings), False

    def fault(self, submission_id: str, attempt: int, error: str, give_up: bool,
              after: Callable[[Any], None] | None = None, round_: int | None = None,
              uncount: bool = False) -> bool:
        with self._lock:
            if not self._holds(submission_id, attempt, round_):
                return False
            values = self.rows[submission_id]
            values.update(status=FAILED if give_up else QUEUED, error=error[:2000],
                          finished_at=_now() if give_up else None,
                          attempts=values["attempts"] - (1 if uncount else 0))
        if after is not None:
            after(self.connection)
        return True

    def new_round(self, exercise_id: str, version: int | None,
                  after: Callable[[Any, list[tuple[str, int]], int], None]) -> int:
        with self._lock:
            pairs = []
            for values in self.rows.values():
                if values["exercise_id"] == exercise_id and (
                        values["status"] in (DONE, FAILED) or values["report"] is not None):
                    values.update(round=values["round"] + 1, status=QUEUED, attempts=0,
                                  exercise_version=version or values["exercise_version"])
                    pairs.append((values["id"], values["round"]))
        after(self.connection, pairs, version or 0)
        return len(pairs)

    def count_event(self, name: str, count: int = 1) -> None:
        with self._lock:
            self.events[name] += count


class FakeQueue:
    """Grading jobs run one at a time, in order; a job that raises ``RetryLater`` goes to the
    back of the queue, ``retries`` times at most (procrastinate's retry strategy)."""

    def __init__(self, run: Callable[[str, int, int], str], retries: int = 7) -> None:
        self.run = run
        self.retries = retries
        self.jobs: list[tuple[str, int, int, int]] = []  # id, round, version, tries so far
        self.results: list[str] = []

    def defer(self, submission_id: str, round_: int = 0, version: int = 0) -> None:
        self.jobs.append((submission_id, round_, version, 0))

    def work(self) -> list[str]:
        while self.jobs:
            submission_id, round_, version, tries = self.jobs.pop(0)
            try:
                self.results.append(self.run(submission_id, round_, version))
            except RetryLater:
                self.results.append("retry")
                if tries < self.retries:
                    self.jobs.append((submission_id, round_, version, tries + 1))
        return self.results
