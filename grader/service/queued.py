"""The API's side of the distributed mode: it stores submissions and defers their grading jobs,
in one transaction each, and learns that they are graded from PostgreSQL's notifications.

Nothing here grades. Any number of these processes may run against one database; whatever
one of them accepts is graded once by some worker (``grader worker``), whichever dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import procrastinate
import psycopg
from anyio import to_thread
from sqlalchemy.engine import Connection

from grader.service.admission import (
    DRAIN_WINDOW,
    Counts,
    Limits,
    admit,
    drain_rate,
    retry_after,
)
from grader.service.published import Published
from grader.service.submissions import KeyReused, NewSubmission, Submissions, finished
from grader.storage import jobs
from grader.storage.database import log_failure
from grader.storage.status import SubmissionStatus
from grader.storage.store import Regraded, Store, Submission

log = logging.getLogger("grader.service.queued")
POLL_SECONDS = 1.0  # a waiting request also reads its row this often, in case a notice is lost


class DoneListener:
    """One connection that LISTENs for graded submissions and wakes whoever waits for them.
    It reconnects when the connection is lost; waiters poll meanwhile."""

    def __init__(self, url: str) -> None:
        self.conninfo = jobs.conninfo(url)
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._task: asyncio.Task[None] | None = None
        # called (and awaited in a task of their own) on a new version, and on each connection
        self.exercise_changed: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self._refreshing: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._listen(), name="listen")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def waiter(self, submission_id: str) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(submission_id, []).append(future)
        return future

    def forget(self, submission_id: str, future: asyncio.Future[None]) -> None:
        waiting = self._waiters.get(submission_id, [])
        if future in waiting:
            waiting.remove(future)
        if not waiting:
            self._waiters.pop(submission_id, None)

    def _changed(self) -> None:
        for changed in self.exercise_changed:
            task = asyncio.get_running_loop().create_task(changed())
            self._refreshing.add(task)
            task.add_done_callback(self._refreshing.discard)

    async def _listen(self) -> None:
        delay = 0.1
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                        self.conninfo, autocommit=True) as connection:
                    await connection.execute(f"LISTEN {jobs.DONE_CHANNEL}")
                    await connection.execute(f"LISTEN {jobs.EXERCISE_CHANNEL}")
                    self._changed()
                    delay = 0.1
                    async for notice in connection.notifies():
                        if notice.channel == jobs.DONE_CHANNEL:
                            for future in self._waiters.pop(notice.payload, []):
                                if not future.done():
                                    future.set_result(None)
                        else:
                            self._changed()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - any loss of the connection: again
                log.warning("listening for graded submissions failed (%s); again in %.1f s",
                            error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)


class QueueService(Submissions):
    """Accepts submissions into the job queue; ``grader worker`` processes grade them."""

    def __init__(self, published: Published, store: Store, url: str, *, backlog: int,
                 learner_limit: int, token_limit: int, hidden_secret: bytes) -> None:
        self.started = time.monotonic()  # for the drain rate: how long it has looked
        self.published = published
        self.catalog = published.catalog
        self.store = store
        self.limits = Limits(backlog, learner_limit, token_limit)
        self.hidden_secret = hidden_secret
        self.app: procrastinate.App = jobs.client_app(url)
        self.listener = DoneListener(url)
        self.listener.exercise_changed.append(self._refresh)

    async def submit(self, new: NewSubmission, idempotency_key: str | None,
                     wait: bool) -> Submission:
        """Store and defer; with ``wait``, wait for a worker's report (told by a
        notification) up to the exercise's limit and a margin, then answer as it stands."""
        submission_id = uuid.uuid4().hex
        # listening before the row exists: the report may come before the insert returns
        waiter = self.listener.waiter(submission_id) if wait else None
        try:
            row, created = await to_thread.run_sync(self.accept, new, idempotency_key,
                                                    submission_id)
        except BaseException:
            if waiter is not None:
                self.listener.forget(submission_id, waiter)
            raise
        if not created:  # a retry with a used key: the first submission's row
            if waiter is not None:
                self.listener.forget(submission_id, waiter)
                waiter = self.listener.waiter(row.id)
            if not new.stored_as(row):
                if waiter is not None:
                    self.listener.forget(row.id, waiter)
                raise KeyReused()
        if waiter is None:
            return row
        return await self.wait(row, self.wait_seconds(row.exercise_id), waiter)

    async def start(self) -> None:
        self.listener.start()

    async def stop(self) -> None:
        await self.listener.stop()

    async def _refresh(self) -> None:
        """Take in new exercise versions: on a notice, and on every (re)connection of the
        listener, since notices sent while it was away are lost."""
        try:
            await asyncio.to_thread(self.published.refresh)
        except Exception as error:  # noqa: BLE001 - the next notice or connection tries again
            log_failure(log, "reading new exercise versions failed", error)

    @property
    def backlog(self) -> int:
        return self.store.backlog(self.limits.backlog)

    def status(self, row: Submission) -> SubmissionStatus:
        return row.status

    def accept(self, new: NewSubmission, idempotency_key: str | None,
               submission_id: str | None = None) -> tuple[Submission, bool]:
        """Store a submission and defer its grading job, in one transaction, or refuse it:
        ``Busy`` when the queue is full, ``OverLimit`` when this learner or token already
        has as many waiting as allowed. Returns the row and whether it is new; the database's
        unique constraint decides between concurrent requests with one idempotency key."""
        self.published.get(new.exercise_id)  # raises UnknownExercise
        lock = jobs.learner_lock(new.scope, new.learner_id)
        priority = 0

        def before(connection: Connection) -> dict[str, Any]:
            nonlocal priority
            jobs.scope_lock(connection, new.scope)
            of_token, of_learner, queued, version = Store.admission(
                connection, scope=new.scope, learner_id=new.learner_id,
                exercise_id=new.exercise_id, backlog_cap=self.limits.backlog,
                cap=max(self.limits.token, self.limits.learner))
            admit(Counts(queued, of_token, of_learner), self.limits, self._retry_after)
            priority = -of_token
            return {"exercise_version": version}

        def defer(connection: Connection, values: dict[str, Any]) -> None:
            jobs.defer_grading(self.app, connection, [{
                "submission_id": values["id"], "round": 0,
                "version": values["exercise_version"]}], priority=priority, lock=lock)

        return self.store.create(
            **new.fields(), idempotency_key=idempotency_key,
            submission_id=submission_id or uuid.uuid4().hex, before=before, after=defer)

    def _retry_after(self, queued: int) -> int:
        done = self.store.finished_since(DRAIN_WINDOW)  # by every worker
        # the whole window is known once this process has been up for it
        span = DRAIN_WINDOW if done >= 2 else min(time.monotonic() - self.started, DRAIN_WINDOW)
        return retry_after(queued, self.limits.backlog, drain_rate(done, span))

    async def wait(self, row: Submission, seconds: float,
                   waiter: asyncio.Future[None] | None = None) -> Submission:
        """The row once graded (or failed), or as it stands after ``seconds``."""
        future = waiter or self.listener.waiter(row.id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        try:
            while not finished(row):
                left = deadline - loop.time()
                if left <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(future), min(POLL_SECONDS, left))
                fresh = await asyncio.to_thread(self.store.get, row.id)
                if fresh is not None:
                    row = fresh
        finally:
            self.listener.forget(row.id, future)
        return row

    def regrade(self, exercise_id: str) -> int:
        """Every stored submission of the exercise, graded again with its newest version, in
        a new round: jobs of the lowest priority, spread over the workers."""
        self.published.get(exercise_id)

        def defer(connection: Connection, rounds: list[Regraded], version: int) -> None:
            jobs.defer_grading(self.app, connection, [
                {"submission_id": r.submission_id, "round": r.round, "version": version}
                for r in rounds], priority=jobs.REGRADE_PRIORITY)

        # the newest version as the database has it, whatever this replica has seen
        return self.store.new_round(exercise_id, None, defer)

    def recover(self) -> int:
        return 0  # the queue keeps every job; the workers' sweep retries stalled ones

    def close(self) -> None:
        pass

