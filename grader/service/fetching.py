"""How a worker fetches jobs from procrastinate's queue: only with a fast place to give a
grading job, never once it is stopping, again when two workers race for one learner's lock,
and every worker woken when a lock it skipped is free."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from procrastinate import exceptions, manager
from procrastinate import jobs as procrastinate_jobs
from psycopg_pool import AsyncConnectionPool

from grader.storage import jobs
from grader.storage.store import suspect

log = logging.getLogger("grader.service.worker")

LOCK_INDEX = "procrastinate_jobs_lock_idx_v1"  # one ``doing`` job per lock
FETCH_TRIES = 5
# wakes every worker that waits on the job's queue, as a new job does (procrastinate's payload)
WAKE_LOCK = """SELECT pg_notify('procrastinate_queue_v1#' || queue_name,
    json_build_object('type', 'job_inserted', 'job_id', id)::text)
  FROM procrastinate_jobs WHERE lock = %(lock)s AND status = 'todo' LIMIT 1"""
# procrastinate's fetch, and whether another job of the queues waited when it began (the job
# it took was still ``todo`` in the statement's snapshot)
FETCH = """SELECT id, status, task_name, priority, lock, queueing_lock, args, scheduled_at,
    queue_name, attempts, worker_id,
    EXISTS (SELECT 1 FROM procrastinate_jobs other WHERE other.status = 'todo'
            AND other.id <> job.id AND (%(queues)s::varchar[] IS NULL
                                        OR other.queue_name = ANY(%(queues)s::varchar[])))
      AS more
  FROM procrastinate_fetch_job_v2(%(queues)s::varchar[], %(worker_id)s) AS job"""


class GatedJobManager(manager.JobManager):
    """Fetches a grading job only when the worker has a fast place to give it: ``gate``
    counts the places not yet promised to a job. A promise is kept until the job gives its
    fast place back (``give_back``, from the job's thread), or at the latest until the job is
    finished or retried, even if its function never ran.

    Once ``stopping`` is set it fetches nothing more. When a job of a lock ends while another
    job of that lock waits, every worker is woken to fetch it: its insertion woke them while
    the lock was held, and nothing else would until the next poll."""

    def __init__(self, connector: Any, gate: asyncio.Semaphore,
                 refusal: Callable[[], str | None]) -> None:
        super().__init__(connector)
        self.gate = gate
        self.refusal = refusal
        self.promised: set[int] = set()  # ids of the fetched grading jobs holding a place
        self.stopping = asyncio.Event()
        self.heard: dict[tuple[str, ...], int] = {}  # notices received, by listened queues
        # by listened queues: the notices heard when a fetch began that took a job and saw no
        # other waiting (the next fetch has nothing to find unless a notice came since)
        self.drained: dict[tuple[str, ...], int] = {}
        # ids of jobs their function ended with its own commit (``Worker._ended``)
        self.ended: set[int] = set()

    def give_back(self, job_id: int | None) -> None:
        """(in the event loop) The job's promised place, once."""
        if job_id in self.promised:
            self.promised.discard(job_id)
            self.gate.release()

    async def finish_job(self, job: Any, status: Any, delete_job: bool) -> None:
        try:
            if not self.already_ended(job.id):
                await super().finish_job(job=job, status=status, delete_job=delete_job)
        finally:
            self.give_back(job.id)
        await self.wake_lock(job.lock)

    async def retry_job(self, job: Any, retry_at: Any = None, priority: int | None = None,
                        queue: str | None = None, lock: str | None = None) -> None:
        try:
            if not self.already_ended(job.id):
                await super().retry_job(job=job, retry_at=retry_at, priority=priority,
                                        queue=queue, lock=lock)
        finally:
            self.give_back(job.id)
        await self.wake_lock(job.lock)

    def already_ended(self, job_id: int | None) -> bool:
        """Whether the job's function ended it in its report's commit (deleted, as
        procrastinate deletes a job that succeeded): nothing is left to write, and a retry
        asked after that has nothing to retry."""
        if job_id in self.ended:
            self.ended.discard(job_id)
            return True
        return False

    async def wake_lock(self, lock: str | None) -> None:
        if lock is None:
            return
        try:
            await self.connector.execute_query_async(WAKE_LOCK, lock=lock)
        except exceptions.ConnectorException as error:  # the next poll fetches it
            log.info("could not wake the workers for lock %s: %s", lock, error)

    async def fetch_job(self, queues: Any, worker_id: int) -> Any:
        if self.stopping.is_set():
            return None
        if jobs.GRADING_QUEUE not in (queues or ()):
            return await self.fetch_free(queues, worker_id)
        if self.refusal() is not None:
            # the sandbox refuses to grade (a layer lost): take no job; another worker may
            await asyncio.sleep(1.0)
            return None
        if not await self.place():
            return None
        job = None
        try:
            job = await self.fetch_free(queues, worker_id)
        finally:
            if job is None or job.task_name != jobs.GRADE_TASK:
                self.gate.release()
            else:
                assert job.id is not None  # a fetched job has its id
                self.promised.add(job.id)
        if job is not None and self.stopping.is_set():
            # taken as the stop came: back to the queue, for another worker, unstarted
            await self.retry_job(job)
            return None
        return job

    async def place(self) -> bool:
        """A fast place, or False once the worker is stopping (it may wait a long time). A
        place taken by a wait that was cancelled or came too late goes back."""
        acquiring = asyncio.ensure_future(self.gate.acquire())
        stopping = asyncio.ensure_future(self.stopping.wait())
        got = False
        try:
            await asyncio.wait({acquiring, stopping}, return_when=asyncio.FIRST_COMPLETED)
            got = acquiring.done() and not self.stopping.is_set()
            return got
        finally:
            stopping.cancel()
            acquiring.cancel()
            await asyncio.gather(acquiring, return_exceptions=True)
            if not got and acquiring.done() and not acquiring.cancelled():
                self.gate.release()

    async def listen_for_jobs(self, *, on_notification: Any,
                              queues: Iterable[str] | None = None) -> None:
        key = _key(queues)

        async def counted(*, channel: str, notification: Any) -> None:
            self.heard[key] = self.heard.get(key, 0) + 1
            await on_notification(channel=channel, notification=notification)

        await super().listen_for_jobs(on_notification=counted, queues=queues)

    async def fetch_free(self, queues: Any, worker_id: int) -> Any:
        """A job, fetched again when two fetches raced for one lock: each took a different
        job of the lock (priorities within a lock need not follow its order), and
        PostgreSQL's unique index refused the second. Its statement took nothing.

        Fetched again, too, when nothing was found but a notice came while the fetch ran:
        procrastinate clears its wake-up once a fetch returns, and that fetch's snapshot may
        predate the job announced (or the end of the lock that held it back), which would
        then wait for the next poll, five seconds later.

        Not fetched at all when the fetch before took a job, no other job waited then, and
        no notice came since: procrastinate fetches again as soon as it has room (a fast
        place given back), and that query would find nothing. A job that becomes due without
        a notice while that job runs (a retry's time, one the sweep put back) waits for the
        next poll."""
        key = _key(queues)
        if self.drained.pop(key, None) == self.heard.get(key, 0):
            # the fetch after a job that left the queue empty, with no job announced since
            # (the one after this queries again, whatever it heard: the next poll's)
            return None
        for _ in range(FETCH_TRIES):
            heard = self.heard.get(key, 0)
            try:
                row = await self.connector.execute_query_one_async(
                    query=FETCH, queues=list(queues) if queues is not None else None,
                    worker_id=worker_id)
            except exceptions.UniqueViolation as error:
                if error.constraint_name != LOCK_INDEX:
                    raise
                log.info("another worker took a job of the same lock at once: fetching again")
                continue
            if row["id"] is not None:
                if not row["more"]:
                    self.drained[key] = heard
                return procrastinate_jobs.Job.from_row(row)
            if self.heard.get(key, 0) == heard:
                return None
        return None


def _key(queues: Iterable[str] | None) -> tuple[str, ...]:
    return tuple(sorted(queues or ()))


def queue_pool(conninfo: str, application_name: str | None = None) -> AsyncConnectionPool:
    """The queue's connections, named ``application_name`` on the server. One that is
    ``suspect`` is checked before it is handed out (and replaced if the database dropped it);
    one in steady use is not: a check on every query would double the queue's round trips."""
    returned: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()

    async def check(connection: Any) -> None:
        if suspect(connection, time.monotonic() - returned.get(connection, 0.0)):
            await AsyncConnectionPool.check_connection(connection)

    async def reset(connection: Any) -> None:
        returned[connection] = time.monotonic()

    named = {"application_name": application_name} if application_name else None
    return AsyncConnectionPool(conninfo, min_size=2, max_size=8, open=False, check=check,
                               reset=reset, kwargs=named)
