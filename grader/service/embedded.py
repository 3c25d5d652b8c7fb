"""The grading service: stores, queues and grades submissions, a bounded number at a time.

Every accepted submission is stored (queued) before grading starts. Grading runs on ``slots``
threads; accepted submissions not yet graded make the backlog, and a full backlog refuses new
ones (the API answers 503). At start, every stored submission that is not finished is queued
again, so a crash loses none. A grader fault (the sandbox failing) leaves the submission
queued for another try, and marks it failed after three.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import cast

from grader.catalog.exercises import Catalog, UnknownExercise
from grader.grading.grade import grade
from grader.sandbox.base import Runner, SandboxError, SandboxUnavailable
from grader.service.callbacks import CallbackSender
from grader.service.metrics import Metrics
from grader.service.published import Published
from grader.storage.status import SubmissionStatus
from grader.storage.store import Store, Submission

log = logging.getLogger("grader.service.embedded")
MAX_ATTEMPTS = 3
DRAIN_SAMPLE = 256  # how many recent departures from the backlog give its drain rate
DRAIN_WINDOW = 30.0  # seconds: older departures do not count
MAX_RETRY_AFTER = 600


class Unavailable(Exception):
    """The service takes no submissions now; try again later."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OverLimit(Unavailable):
    """One learner or one platform token has as many submissions waiting as allowed (429)."""

    @classmethod
    def learner(cls, count: int) -> OverLimit:
        return cls(f"this learner has {count} submissions waiting or being graded, the most "
                   "allowed; send this one when one is graded", retry_after=5)

    @classmethod
    def token(cls, count: int) -> OverLimit:
        return cls(f"this platform token has {count} submissions waiting or being graded, "
                   "the most allowed", retry_after=5)


class Busy(Unavailable):
    """The backlog is full."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"the grader is busy; retry after {retry_after} s", retry_after)


def retry_after(waiting: int, limit: int, rate: float | None) -> int:
    """Seconds until a backlog of ``waiting`` has drained below ``limit`` at ``rate`` a second
    (None, not measured yet: a guess of 10 a second)."""
    return max(1, min(MAX_RETRY_AFTER, math.ceil((waiting - limit + 1) / (rate or 10.0))))


class GradingService:
    def __init__(self, catalog: Catalog, store: Store, runner: Runner, metrics: Metrics | None,
                 callbacks: CallbackSender, slots: int, backlog: int, *,
                 hidden_secret: bytes, learner_limit: int | None = None,
                 token_limit: int | None = None, published: Published | None = None) -> None:
        self.catalog = catalog
        self.published = published  # each submission is graded with the version it records
        self.store = store
        self.runner = runner
        self.metrics = metrics
        self.callbacks = callbacks
        self.hidden_secret = hidden_secret
        self.limit = backlog
        self.learner_limit = learner_limit or backlog
        self.token_limit = token_limit or backlog
        # Enough threads for the runner's fast lane, its slow lane (past a short budget,
        # a submission frees its fast place and goes on there) and as many parked again.
        threads = 2 * slots + runner.slow_slots
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="grade")
        self._regrades = ThreadPoolExecutor(max_workers=1, thread_name_prefix="regrade")
        self._lock = threading.Lock()
        self._futures: dict[str, Future[Submission | None]] = {}
        self._running: set[str] = set()
        self._reserved = 0  # places in the backlog taken for submissions being stored
        self._regrading: set[str] = set()  # in _futures, but not in the backlog
        # when recent submissions left the backlog, for the drain rate behind Retry-After
        self._drained: deque[float] = deque(maxlen=DRAIN_SAMPLE)
        # new submissions waiting or grading, per platform token and per learner of a token
        self._owners: dict[str, tuple[str, str | None]] = {}
        self._of_token: Counter[str] = Counter()
        self._of_learner: Counter[tuple[str, str]] = Counter()

    @property
    def backlog(self) -> int:
        """New submissions waiting or grading; regrades are not counted: they never shut out
        new work."""
        with self._lock:
            return self._taken()

    def _taken(self) -> int:
        """Places taken in the backlog (under the lock)."""
        return len(self._futures) - len(self._regrading) + self._reserved

    def _refuse_if_the_sandbox_does(self) -> None:
        refusal = self.runner.refusal
        if refusal is not None:
            raise Unavailable(f"grading is refused: {refusal}", retry_after=60)

    def status(self, row: Submission) -> SubmissionStatus:
        """The stored status, or running while this process grades it."""
        with self._lock:
            running = row.id in self._running
        if running and row.status == SubmissionStatus.QUEUED:
            return SubmissionStatus.RUNNING
        return row.status

    def future(self, submission_id: str) -> Future[Submission | None] | None:
        with self._lock:
            return self._futures.get(submission_id)

    def accept(self, *, exercise_id: str, source: str, seed: int, scope: str,
               learner_id: str | None, callback_url: str | None, metadata: dict[str, object],
               idempotency_key: str | None) -> tuple[Submission, bool]:
        """Store and queue a submission. Returns it and whether it is new (False for a retry
        with a used idempotency key, which is neither stored nor graded again)."""
        self.catalog.get(exercise_id)  # raises UnknownExercise
        if idempotency_key is not None:
            existing = self.store.by_key(scope, idempotency_key)
            if existing is not None:
                return existing, False
        submission_id = uuid.uuid4().hex
        self._admit(submission_id, scope, learner_id)
        try:
            row, created = self.store.create(
                exercise_id=exercise_id, source=source, seed=seed, scope=scope,
                learner_id=learner_id, callback_url=callback_url, metadata=metadata,
                idempotency_key=idempotency_key, submission_id=submission_id,
                exercise_version=self._version(exercise_id))
        except BaseException:
            self._release(submission_id)
            raise
        if created:
            self._track(row.id, self._pool, self._grade, row.id, row, admitted=True)
        else:
            self._release(submission_id)
        return row, created

    def grade_now(self, *, exercise_id: str, source: str, seed: int, scope: str,
                  learner_id: str | None, callback_url: str | None,
                  metadata: dict[str, object]) -> Future[Submission]:
        """Store and grade in one step on a grading thread, for a caller that waits for the
        report anyway (and sent no idempotency key): one hand-over instead of two. The
        future's row is graded, or as a fault of the grader's left it (failed, or queued)."""
        self.catalog.get(exercise_id)  # raises UnknownExercise
        submission_id = uuid.uuid4().hex
        self._admit(submission_id, scope, learner_id)

        def store_and_grade() -> Submission | None:
            row, _ = self.store.create(
                exercise_id=exercise_id, source=source, seed=seed, scope=scope,
                learner_id=learner_id, callback_url=callback_url, metadata=metadata,
                submission_id=submission_id, exercise_version=self._version(exercise_id))
            return self._grade(submission_id, row) or self.store.get(submission_id) or row

        future = self._track(submission_id, self._pool, store_and_grade, admitted=True)
        assert future is not None  # the id is new
        return cast("Future[Submission]", future)

    def enqueue(self, submission_id: str, pool: ThreadPoolExecutor | None = None,
                row: Submission | None = None) -> None:
        self._track(submission_id, pool or self._pool, self._grade, submission_id, row)

    def _version(self, exercise_id: str) -> int:
        """The version a new submission is accepted with: this process publishes every one,
        so the newest it knows is the newest stored (-1, read from the database, without)."""
        return -1 if self.published is None else self.published.version(exercise_id)

    def _admit(self, submission_id: str, scope: str, learner_id: str | None) -> None:
        """Take a place in the backlog, or refuse: ``OverLimit`` when the learner or the
        platform token has as many waiting as allowed, ``Busy`` when the backlog is full.
        Check and take are one step under the lock, so concurrent requests cannot all see the
        last free place. The place is handed to the submission by ``_track(...,
        admitted=True)``, or given back by ``_release``."""
        self._refuse_if_the_sandbox_does()
        with self._lock:
            taken = self._taken()
            if taken >= self.limit:
                raise Busy(retry_after=self._retry_after(taken))
            if learner_id is not None and \
                    self._of_learner[(scope, learner_id)] >= self.learner_limit:
                raise OverLimit.learner(self.learner_limit)
            if self._of_token[scope] >= self.token_limit:
                raise OverLimit.token(self.token_limit)
            self._reserved += 1
            self._owners[submission_id] = (scope, learner_id)
            self._of_token[scope] += 1
            if learner_id is not None:
                self._of_learner[(scope, learner_id)] += 1

    def _disown(self, submission_id: str) -> None:
        """(under the lock) The submission no longer counts against its token and learner."""
        owner = self._owners.pop(submission_id, None)
        if owner is None:
            return
        scope, learner_id = owner
        self._of_token[scope] -= 1
        if self._of_token[scope] <= 0:
            del self._of_token[scope]
        if learner_id is not None:
            self._of_learner[(scope, learner_id)] -= 1
            if self._of_learner[(scope, learner_id)] <= 0:
                del self._of_learner[(scope, learner_id)]

    def _retry_after(self, waiting: int) -> int:
        """Seconds until the backlog has drained enough for one more, from the rate at which
        it drained lately (called under the lock); a guess of 10 a second before any."""
        now = time.monotonic()
        recent = [t for t in self._drained if now - t <= DRAIN_WINDOW]
        measured = len(recent) >= 2 and now > recent[0]
        return retry_after(waiting, self.limit,
                           len(recent) / (now - recent[0]) if measured else None)

    def _release(self, submission_id: str) -> None:
        with self._lock:
            self._reserved -= 1
            self._disown(submission_id)

    def _track(self, submission_id: str, pool: ThreadPoolExecutor,
               task: Callable[..., Submission | None], *args: object, admitted: bool = False,
               ) -> Future[Submission | None] | None:
        """Run ``task`` on ``pool``, counted in the backlog until done; None if that
        submission is already being graded. ``admitted``: it holds a place from ``_admit``,
        which its future now takes over."""
        with self._lock:
            if admitted:
                self._reserved -= 1
            if submission_id in self._futures:
                return None
            low = pool is self._regrades
            future = pool.submit(self._in_fast_place, low, task, *args)
            self._futures[submission_id] = future
            if low:
                self._regrading.add(submission_id)
        future.add_done_callback(lambda _: self._forget(submission_id))
        return future

    def _in_fast_place(self, low: bool, task: Callable[..., Submission | None],
                       *args: object) -> Submission | None:
        """Run a grading task holding a place in the runner's fast lane: no more submissions
        than slots are worked on at once, storing and comparing included; one that runs long
        moves its place to the slow lane and frees a fast one. ``low`` (a regrade): the place
        is taken only when no new submission waits for one."""
        with self.runner.fast_place(low):
            return task(*args)

    def _forget(self, submission_id: str) -> None:
        with self._lock:
            self._disown(submission_id)
            if self._futures.pop(submission_id, None) is not None:
                if submission_id in self._regrading:
                    self._regrading.discard(submission_id)
                else:
                    self._drained.append(time.monotonic())

    def _grade(self, submission_id: str, row: Submission | None = None) -> Submission | None:
        """Grade one stored submission; returns it as stored, once graded.

        A submission handed over right after it was stored skips the write that marks it
        running (its attempts count from a restart on), which keeps inline grading quick."""
        fresh = row is not None
        row = row or self.store.get(submission_id)
        if row is None:
            return None
        try:
            exercise = self.published.at(row.exercise_id, row.exercise_version) \
                if self.published is not None else self.catalog.get(row.exercise_id)
        except UnknownExercise:
            self.store.requeue(submission_id, f"exercise {row.exercise_id!r} is gone", True)
            return None
        if row.attempts >= MAX_ATTEMPTS:
            self.store.requeue(submission_id, "grading was interrupted too many times", True)
            return None
        for attempt in range(row.attempts + 1, MAX_ATTEMPTS + 1):
            if not fresh or attempt > 1:
                self.store.mark_running(submission_id)
            started = time.perf_counter()
            with self._lock:
                self._running.add(submission_id)
            try:
                report = grade(exercise, row.source, self.runner, seed=row.seed,
                               hidden_secret=self.hidden_secret)
            except SandboxUnavailable as error:
                # not this submission's fault, nor a fault a retry mends: it stays queued
                log.error("grading %s is refused: %s", submission_id, error)
                self.store.requeue(submission_id, str(error), give_up=False)
                return None
            except Exception as error:  # noqa: BLE001 - any fault of ours: the row is kept, retried
                if not isinstance(error, SandboxError):
                    log.exception("grading %s failed (attempt %d)", submission_id, attempt)
                else:
                    log.error("grading %s failed (attempt %d): %s", submission_id, attempt, error)
                self.store.requeue(submission_id, str(error), give_up=attempt >= MAX_ATTEMPTS)
                if self.metrics is not None:
                    self.metrics.graded("grader_error", time.perf_counter() - started)
                continue
            finally:
                with self._lock:
                    self._running.discard(submission_id)
            body = report.model_dump_json()
            with self._lock:  # graded: it no longer counts against its learner and token
                self._disown(submission_id)
            finished = self.store.save_report(submission_id, body)
            seconds = time.perf_counter() - started
            if self.metrics is not None:
                self.metrics.graded("passed" if report.passed else "failed", seconds)
            log.info("graded %s (%s): %g/%g in %.0f ms", submission_id, row.exercise_id,
                     report.score, report.max_score, seconds * 1000)
            if row.callback_url:
                self.callbacks.schedule(submission_id, row.callback_url, body.encode())
            row.status, row.report, row.finished_at, row.error = (
                SubmissionStatus.DONE, body, finished, None)
            return row
        return None

    def recover(self) -> int:
        """Queue every stored submission that is not finished; returns how many. A regrade
        that was under way goes on where it was, as a regrade: only its unfinished ones."""
        fresh, regrades = self.store.unfinished(), self.store.unfinished(regrades=True)
        for submission_id in fresh:
            self.enqueue(submission_id)
        for submission_id in regrades:
            self.enqueue(submission_id, self._regrades)
        if fresh or regrades:
            log.info("queued %d unfinished submissions and %d regrades from before the "
                     "restart", len(fresh), len(regrades))
        return len(fresh) + len(regrades)

    def regrade(self, exercise_id: str) -> int:
        """Grade every stored submission of an exercise again with its newest version, which
        they then record."""
        self.catalog.get(exercise_id)
        self._refuse_if_the_sandbox_does()
        ids = self.store.ids_for_exercise(exercise_id)
        self.store.set_queued(ids, self.published.version(exercise_id)
                              if self.published is not None else None)
        for submission_id in ids:
            self.enqueue(submission_id, self._regrades)
        return len(ids)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._regrades.shutdown(wait=False, cancel_futures=True)
