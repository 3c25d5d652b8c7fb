"""Embedded mode: this process stores, queues and grades submissions, a bounded number at a time.

Every accepted submission is stored (queued) before grading starts. Grading runs on ``slots``
threads; accepted submissions not yet graded make the backlog, and a full backlog refuses new
ones (``grader.service.admission``). At start, every stored submission that is not finished is
queued again, so a crash loses none. Faults follow ``grader.service.attempt``'s policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, cast

from anyio import to_thread

from grader.catalog.exercises import Catalog, Exercise
from grader.grading.drawings import Drawings
from grader.grading.grade import grade
from grader.grading.report import Report
from grader.sandbox import account
from grader.sandbox.account import Stage, stage
from grader.sandbox.base import NOBODY, Owner, Runner
from grader.service.admission import Counts, Drain, Limits, Refused, Shares, admit
from grader.service.attempt import Fault, Outcome, attempt
from grader.service.callbacks import CallbackSender
from grader.service.graded import graded_of
from grader.service.metrics import Metrics
from grader.service.published import Published
from grader.service.submissions import (
    MAX_GRADING_THREADS,
    KeyReused,
    NewSubmission,
    Submissions,
    finished,
    owner_of,
)
from grader.storage.callbacks import queue_callback
from grader.storage.findings import Known
from grader.storage.status import SubmissionStatus
from grader.storage.store import Store, Submission

log = logging.getLogger("grader.service.embedded")
POLL_STORED = 0.05  # seconds between looks for a row that a grading is about to store


def _retrieved(waited: asyncio.Future[Any]) -> None:
    """A grading's outcome is read once it ends, so that its failure is not reported as never
    retrieved: the grading's own code has logged and stored it."""
    if not waited.cancelled():
        waited.exception()


class GradingService(Submissions):
    def __init__(self, catalog: Catalog, store: Store, runner: Runner, metrics: Metrics | None,
                 callbacks: CallbackSender, slots: int, backlog: int, *,
                 hidden_secret: bytes, learner_limit: int | None = None,
                 token_limit: int | None = None, published: Published | None = None) -> None:
        self.catalog = catalog
        self.published = published  # each submission is graded with the version it records
        self.store = store
        self.runner = runner
        self.metrics = metrics
        self.sender = callbacks
        self.hidden_secret = hidden_secret
        self.limits = Limits(backlog, learner_limit or backlog, token_limit or backlog)
        # A thread for every submission the backlog admits (up to MAX_GRADING_THREADS), and
        # for the runner's two lanes: one waiting for a slow place (parked) holds its thread,
        # and must never keep a new one from a fast place that is free.
        threads = min(max(backlog, 2 * slots + runner.slow_slots), MAX_GRADING_THREADS) + slots
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="grade")
        self._regrades = ThreadPoolExecutor(max_workers=1, thread_name_prefix="regrade")
        self._lock = threading.Lock()
        self._futures: dict[str, Future[Submission | None]] = {}
        self._running: set[str] = set()
        self._reserved = 0  # places in the backlog taken for submissions being stored
        self._regrading: set[str] = set()  # in _futures, but not in the backlog
        self.drain = Drain()  # when recent submissions left the backlog
        self._shares = Shares()  # new submissions waiting or grading, per token and learner
        if metrics is not None and hasattr(runner, "cpu_observer") \
                and hasattr(runner, "fault_observer"):
            runner.cpu_observer = metrics.stage_cpu  # each child's end, once it is reaped
            runner.fault_observer = metrics.child_reaped  # and its page faults

    # -- the interface ----------------------------------------------------------------------

    async def submit(self, new: NewSubmission, idempotency_key: str | None,
                     wait: bool) -> Submission:
        """Synchronous without a key: stored and graded in one step on a grading thread.
        Otherwise stored and queued; with ``wait``, the request then waits for the grading."""
        if wait and idempotency_key is None:
            # graded, or as a fault of the grader's left it: failed, or queued for another try;
            # past the exercise's limit (and some), as it then stands, as the distributed
            # mode's answer is
            submission_id, graded = self.grade_now(new)
            account.pause()
            try:
                return await self._graded_within(submission_id, new.exercise_id, graded)
            finally:
                account.resume(Stage.RESPONSE)
        row, created = await to_thread.run_sync(self.accept, new, idempotency_key)
        if not created and not new.stored_as(row):
            raise KeyReused()
        if wait and not finished(row):
            row = await self._graded(row)
        return row

    @property
    def backlog(self) -> int:
        """New submissions waiting or grading; regrades are not counted: they never shut out
        new work."""
        with self._lock:
            return self._taken()

    def status(self, row: Submission) -> SubmissionStatus:
        """The stored status, or running while this process grades it."""
        with self._lock:
            running = row.id in self._running
        if running and row.status == SubmissionStatus.QUEUED:
            return SubmissionStatus.RUNNING
        return row.status

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

    # -- accepting --------------------------------------------------------------------------

    def accept(self, new: NewSubmission,
               idempotency_key: str | None) -> tuple[Submission, bool]:
        """Store and queue a submission. Returns it and whether it is new (False for a retry
        with a used idempotency key, which is neither stored nor graded again)."""
        self.catalog.get(new.exercise_id)  # raises UnknownExercise
        submission_id = uuid.uuid4().hex
        # Admitted before anything asks the database: a full backlog is refused at once,
        # however busy the database's connections are (a retry of a stored one too).
        self._admit(submission_id, new)
        try:
            existing = None if idempotency_key is None \
                else self.store.by_key(new.scope, idempotency_key)
            if existing is not None:
                self._release(submission_id)
                return existing, False
            row, created = self.store.create(
                **new.fields(), idempotency_key=idempotency_key, submission_id=submission_id,
                exercise_version=self._version(new.exercise_id))
        except BaseException:
            self._release(submission_id)
            raise
        if created:
            self._track(row.id, self._pool, self._grade, row.id, row, admitted=True,
                        owner=owner_of(row.scope, row.learner_id))
        else:
            self._release(submission_id)
        return row, created

    async def _graded_within(self, submission_id: str, exercise_id: str,
                             graded: Future[Submission]) -> Submission:
        """The row once graded; past the exercise's wait, as it then stands (stored as soon as
        a grading thread takes it: there is one for every submission the backlog admits)."""
        found = await self._within_wait(graded, exercise_id)
        while found is None:
            found = await to_thread.run_sync(self.store.get, submission_id)
            if found is None and graded.done():
                found = graded.result()
            elif found is None:
                await asyncio.sleep(POLL_STORED)
        return found

    async def _within_wait(self, graded: Future[Any], exercise_id: str) -> Submission | None:
        """What the grading gives, if it ends within the exercise's wait; else None, and the
        grading goes on (a request that gives up, or its client gone, never cancels it)."""
        waiting: asyncio.Future[Submission | None] = asyncio.wrap_future(graded)
        try:
            return await asyncio.wait_for(asyncio.shield(waiting),
                                          timeout=self.wait_seconds(exercise_id))
        except TimeoutError:
            waiting.add_done_callback(_retrieved)  # its end is the store's to tell, not ours
            return None

    def grade_now(self, new: NewSubmission) -> tuple[str, Future[Submission]]:
        """Store and grade in one step on a grading thread, for a caller that waits for the
        report anyway (and sent no idempotency key): one hand-over instead of two. The
        future's row is graded, or as a fault of the grader's left it (failed, or queued)."""
        with stage(Stage.ADMISSION):
            self.catalog.get(new.exercise_id)  # raises UnknownExercise
            submission_id = uuid.uuid4().hex
            self._admit(submission_id, new)

        stored: list[Submission] = []

        def store() -> None:  # at once, before the wait for a fast place: nothing is lost
            with stage(Stage.ADMISSION):
                row, _ = self.store.create(**new.fields(), submission_id=submission_id,
                                           exercise_version=self._version(new.exercise_id))
            stored.append(row)

        def grade() -> Submission | None:
            row = stored[0]
            return self._grade(submission_id, row) or self.store.get(submission_id) or row

        with stage(Stage.HANDOFF):
            future = self._track(submission_id, self._pool, grade, admitted=True, first=store,
                                 owner=owner_of(new.scope, new.learner_id))
        assert future is not None  # the id is new
        return submission_id, cast("Future[Submission]", future)

    def future(self, submission_id: str) -> Future[Submission | None] | None:
        with self._lock:
            return self._futures.get(submission_id)

    async def _graded(self, row: Submission) -> Submission:
        """The row once graded; past the exercise's limit (and some), as it then stands."""
        future = self.future(row.id)
        graded = None if future is None else await self._within_wait(future, row.exercise_id)
        if graded is None:
            graded = await to_thread.run_sync(self.store.get, row.id)
        return graded or row

    def enqueue(self, submission_id: str, pool: ThreadPoolExecutor | None = None,
                row: Submission | None = None) -> None:
        owner = NOBODY if row is None else owner_of(row.scope, row.learner_id)
        self._track(submission_id, pool or self._pool, self._grade, submission_id, row,
                    owner=owner)

    def _version(self, exercise_id: str) -> int:
        """The version a new submission is accepted with: this process publishes every one,
        so the newest it knows is the newest stored (-1, read from the database, without)."""
        return -1 if self.published is None else self.published.version(exercise_id)

    def _refuse_if_the_sandbox_does(self) -> None:
        refusal = self.runner.refusal
        if refusal is not None:
            raise Refused(refusal)

    def _taken(self) -> int:
        """Places taken in the backlog (under the lock)."""
        return len(self._futures) - len(self._regrading) + self._reserved

    def _admit(self, submission_id: str, new: NewSubmission) -> None:
        """Take a place in the backlog, or refuse (``admission.admit``). Check and take are
        one step under the lock, so concurrent requests cannot all see the last free place.
        The place is handed to the submission by ``_track(..., admitted=True)``, or given
        back by ``_release``."""
        self._refuse_if_the_sandbox_does()
        with self._lock:
            of_token, of_learner = self._shares.count(new.scope, new.learner_id)
            admit(Counts(self._taken(), of_token, of_learner), self.limits,
                  lambda queued: self.drain.retry_after(queued, self.limits.backlog))
            self._reserved += 1
            self._shares.take(submission_id, new.scope, new.learner_id)

    def _release(self, submission_id: str) -> None:
        with self._lock:
            self._reserved -= 1
            self._shares.give_back(submission_id)

    def _disown(self, submission_id: str) -> None:
        """Graded: it no longer counts against its learner and token."""
        with self._lock:
            self._shares.give_back(submission_id)

    def _track(self, submission_id: str, pool: ThreadPoolExecutor,
               task: Callable[..., Submission | None], *args: object, admitted: bool = False,
               first: Callable[[], None] | None = None, owner: Owner = NOBODY,
               ) -> Future[Submission | None] | None:
        """Run ``task`` on ``pool``, counted in the backlog until done; None if that
        submission is already being graded. ``admitted``: it holds a place from ``_admit``,
        which its future now takes over. ``first``: run on the thread before the wait for a
        fast place; ``owner``: whose submission it is (see ``lanes.Places``)."""
        with self._lock:
            if admitted:
                self._reserved -= 1
            if submission_id in self._futures:
                return None
            low = pool is self._regrades
            future = pool.submit(self._in_fast_place, account.current(), low, first, owner,
                                 task, *args)
            self._futures[submission_id] = future
            if low:
                self._regrading.add(submission_id)
        future.add_done_callback(lambda _: self._forget(submission_id))
        return future

    def _in_fast_place(self, charged: account.Account | None, low: bool,
                       first: Callable[[], None] | None, owner: Owner,
                       task: Callable[..., Submission | None],
                       *args: object) -> Submission | None:
        """Run a grading task holding a place in the runner's fast lane: no more submissions
        than slots are worked on at once, storing and comparing included; one that runs long
        moves its place to the slow lane and frees a fast one. ``low`` (a regrade): the place
        is taken only when no new submission waits for one. ``charged``: the CPU account of
        the request that handed it over, if any."""
        with account.using(charged), stage(Stage.GRADING_OTHER), \
                contextlib.ExitStack() as place:
            if first is not None:
                first()
            with stage(Stage.HANDOFF):
                place.enter_context(self.runner.fast_place(low, owner=owner))
            return task(*args)

    def _forget(self, submission_id: str) -> None:
        with self._lock:
            self._shares.give_back(submission_id)
            if self._futures.pop(submission_id, None) is not None:
                if submission_id in self._regrading:
                    self._regrading.discard(submission_id)
                else:
                    self.drain.left()

    # -- grading ----------------------------------------------------------------------------

    def _grade(self, submission_id: str, row: Submission | None = None) -> Submission | None:
        """Grade one stored submission, attempt after attempt as the fault policy allows;
        returns it as stored, once graded. A submission handed over right after it was
        stored skips the write that marks it running (its attempts count from a restart on),
        which keeps inline grading quick."""
        ledger = _Ledger(self, fresh=row is not None)
        row = row or self.store.get(submission_id)
        if row is None:
            return None
        number = row.attempts
        while True:
            number += 1
            result = attempt(row, number, row.exercise_version, exercise_at=self._exercise_at,
                             grade=self._grade_once, ledger=ledger)
            if result.outcome in (Outcome.RETRY, Outcome.FAILED) and self.metrics is not None:
                self.metrics.graded("grader_error", result.seconds)
            if result.outcome is Outcome.RETRY:
                continue
            if result.outcome is not Outcome.GRADED:
                return None
            assert result.report is not None and result.body is not None
            if self.metrics is not None:
                self.metrics.graded("passed" if result.report.passed else "failed",
                                    result.seconds)
            if row.callback_url:
                self.sender.wake()  # its delivery was stored with the report
            row.status, row.report, row.finished_at, row.error = \
                SubmissionStatus.DONE, result.body, result.finished_at, None
            return row

    def _exercise_at(self, exercise_id: str, version: int) -> Exercise:
        if self.published is None:
            return self.catalog.get(exercise_id)
        return self.published.at(exercise_id, version)

    def _grade_once(self, exercise: Exercise, row: Submission, drawings: Drawings) -> Report:
        with self._lock:
            self._running.add(row.id)
        try:
            return grade(exercise, row.source, self.runner, seed=row.seed,
                         hidden_secret=self.hidden_secret, drawings=drawings)
        finally:
            with self._lock:
                self._running.discard(row.id)


class _Ledger:
    """Embedded mode's writes: one process grades each submission, so nothing is fenced."""

    def __init__(self, service: GradingService, fresh: bool) -> None:
        self.service = service
        self.fresh = fresh  # stored just now: its first attempt needs no mark

    def started(self, row: Submission, attempt: int) -> None:
        if not self.fresh or attempt > row.attempts + 1:
            self.service.store.mark_running(row.id)

    def finished(self, row: Submission, attempt: int, body: str,
                 drawings: str | None = None) -> dt.datetime:
        self.service._disown(row.id)
        graded = graded_of(body)
        # Stored just now and graded at the first try: no earlier grading left rows to replace
        known = Known(row.exercise_id, row.learner_id,
                      first=self.fresh and attempt == row.attempts + 1)
        if not row.callback_url:
            finished_at = self.service.store.save_report(row.id, body, graded, known=known,
                                                         drawings=drawings)
        else:  # the callback's delivery is stored with the report: neither without the other
            finished_at = self.service.store.save_report(
                row.id, body, graded, after=lambda c: queue_callback(c, row.id), known=known,
                drawings=drawings)
        self.service.store.queue_passback(row)  # a launch from an LMS: its grade goes back
        return finished_at

    def faulted(self, row: Submission, attempt: int, fault: Fault) -> bool:
        self.service.store.requeue(row.id, fault.error, give_up=fault.give_up)
        return True
