"""``Submissions``: the one interface the API takes submissions through, in either mode.

Two implementations: ``grader.service.embedded.GradingService`` (this process stores, queues
and grades) and ``grader.service.queued.QueueService`` (this process stores and defers; workers
grade). ``grader.service.assembly.assemble`` picks one from the settings' mode.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from grader.catalog.exercises import Catalog
from grader.errors import InvalidInput, NotFound
from grader.sandbox.base import Owner
from grader.sandbox.clocks import WAIT_FACTOR
from grader.storage.status import FINISHED, SubmissionStatus
from grader.storage.store import CallbackAttempt, Store, Submission

# how much longer than an exercise's time limit a synchronous submission waits for its report
WAIT_MARGIN = 30.0
# The most gradings a process holds at once (threads, or a worker's jobs), however large its
# backlog: past them, new submissions wait in the order they came.
MAX_GRADING_THREADS = 1024


class UnknownSubmission(NotFound):
    """No submission of that id, or none the caller may see."""

    def __init__(self, submission_id: str) -> None:
        super().__init__(f"no submission {submission_id!r}")


class KeyReused(InvalidInput):
    """An idempotency key sent again with another request."""

    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was used with another request; send a new key "
                         "for a new submission")


def owner_of(scope: str, learner_id: str | None) -> Owner:
    """Whose submission it is, for the fast lane's turns: a platform token, and a learner of it
    ("" for a submission that names none)."""
    return (scope, learner_id or "")


@dataclass(frozen=True)
class NewSubmission:
    """What a new submission is stored with."""

    exercise_id: str
    source: str
    seed: int
    scope: str  # who sent it: a platform token's digest, or "open"
    learner_id: str | None
    callback_url: str | None
    metadata: dict[str, Any]

    def fields(self) -> dict[str, Any]:
        return {"exercise_id": self.exercise_id, "source": self.source, "seed": self.seed,
                "scope": self.scope, "learner_id": self.learner_id,
                "callback_url": self.callback_url, "metadata": self.metadata}

    def stored_as(self, row: Submission) -> bool:
        """Whether a stored submission is what this one would store (an idempotent retry).
        Metadata are compared as JSON, not as Python values: 1, 1.0 and true are equal in
        Python and three values in JSON."""
        return (row.exercise_id, row.source, row.learner_id, row.callback_url,
                _as_json(row.metadata_)) == (self.exercise_id, self.source, self.learner_id,
                                             self.callback_url, _as_json(self.metadata))


def _as_json(value: object) -> str:
    """One text for one JSON value, whatever the order of its objects' names."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def finished(row: Submission) -> bool:
    return row.status in FINISHED


class Submissions(ABC):
    """Accepts, reads and regrades submissions; how they are graded is the implementation's."""

    store: Store
    catalog: Catalog
    hidden_secret: bytes

    @abstractmethod
    async def submit(self, new: NewSubmission, idempotency_key: str | None,
                     wait: bool) -> Submission:
        """Store a submission and have it graded. With ``wait``, the row once graded (or
        failed), or as it stands after the exercise's time limit and ``WAIT_MARGIN``;
        without, at once. A used ``idempotency_key`` gives the first submission's row
        (``KeyReused`` if it was another request). Raises ``Unavailable`` when refused."""

    @abstractmethod
    def status(self, row: Submission) -> SubmissionStatus:
        """What a reader is told of the row's status."""

    @property
    @abstractmethod
    def backlog(self) -> int:
        """New submissions waiting or being graded."""

    @abstractmethod
    def regrade(self, exercise_id: str) -> int:
        """Grade every stored submission of the exercise again; returns how many."""

    @abstractmethod
    def recover(self) -> int:
        """At start: take up what was left unfinished; returns how many."""

    async def start(self) -> None:  # noqa: B027 - most implementations have nothing to start
        """In the event loop that serves, once it runs."""

    async def stop(self) -> None:  # noqa: B027
        """In that event loop, before it stops."""

    @abstractmethod
    def close(self) -> None: ...

    def get(self, submission_id: str) -> Submission | None:
        return self.store.get(submission_id)

    def page(self, exercise_id: str | None, learner_id: str | None, limit: int,
             offset: int, scope: str | None = None) -> tuple[list[Submission], int]:
        return self.store.page(exercise_id, learner_id, limit, offset, scope)

    def callbacks(self, submission_id: str) -> list[CallbackAttempt]:
        return self.store.callbacks(submission_id)

    def wait_seconds(self, exercise_id: str) -> float:
        """How long a synchronous submission of the exercise waits for its report: as long as
        its run may take on a busy machine (``clocks``), and a margin."""
        limit = self.catalog.get(exercise_id).spec.limits.submission_seconds
        return (1 + WAIT_FACTOR) * limit + WAIT_MARGIN
