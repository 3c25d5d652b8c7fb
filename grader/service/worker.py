"""``grader worker``: grades the jobs of the distributed mode's queue in the sandbox.

Any number of workers, on any number of machines, take jobs from one PostgreSQL database.

- A worker takes a grading job only when it has a place in its fast lane to give it, so it
  never holds jobs that another worker could start at once. A job that runs past the fast
  lane's budget moves on to the slow lane and frees its place for the next job, as in
  embedded mode.
- Every attempt at a submission is counted in its row, and only the newest attempt may write
  its report (fencing): a worker taken for dead that comes back cannot write over the attempt
  that replaced it. The report, its callback's delivery and the notices commit together; the
  worker's callback sender (``grader.service.callbacks``) sends it.
- A grader fault (the sandbox failing) is retried, three attempts in all; a learner's verdict
  never is.
- Each worker sends a heartbeat; a sweep, every few seconds on some worker, puts the jobs of
  workers silent for ``GRADER_STALLED_SECONDS`` back in the queue (freeing their learners'
  locks).
- A lost database is waited for (1, 2, 4 ... 30 s apart, forever), with /healthz at 503; SIGTERM
  lets the jobs under way end and takes no new one. The process exits 0 when stopped, and 3
  only for a fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import procrastinate
import psycopg
from procrastinate import exceptions
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from grader.catalog.exercises import Catalog, Exercise
from grader.errors import RetryLater
from grader.grading.drawings import Drawings
from grader.grading.grade import grade
from grader.grading.report import Report
from grader.pages.links import ReportLinks
from grader.sandbox.base import Runner
from grader.service.attempt import Fault, Outcome, attempt
from grader.service.callbacks import CallbackSender
from grader.service.fetching import GatedJobManager, queue_pool
from grader.service.graded import graded_of
from grader.service.published import Published
from grader.service.secret import hidden_secret
from grader.service.submissions import MAX_GRADING_THREADS, owner_of
from grader.settings import Settings
from grader.storage import jobs
from grader.storage.callbacks import queue_callback
from grader.storage.database import log_failure
from grader.storage.lti import passback_target, passback_then
from grader.storage.store import Store, Submission

log = logging.getLogger("grader.service.worker")
MAX_BACKOFF = 30.0  # seconds between two tries at a lost database, at most
MAINTENANCE_PLACES = 2  # the sweep, and callback jobs deferred by an earlier release


class Counters:
    """What this worker did, for its health answer and its log."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: dict[str, int] = {}

    def add(self, name: str, count: int = 1) -> None:
        with self.lock:
            self.values[name] = self.values.get(name, 0) + count


class QueueGrading:
    """A grading job's work: claim an attempt, grade, and write its end fenced by the attempt
    and the round (``grader.service.attempt`` decides what a fault leaves). A fault that
    leaves the submission queued raises ``RetryLater``: procrastinate retries the job."""

    def __init__(self, store: Store, exercise_at: Callable[[str, int], Exercise],
                 runner: Runner, hidden_secret: bytes, counters: Counters,
                 defer_callback: Callable[[Any, str, str], None],
                 ended: Callable[[int], None] | None = None) -> None:
        self.store = store
        self.exercise_at = exercise_at
        self.runner = runner
        self.hidden_secret = hidden_secret
        self.counters = counters
        self.defer_callback = defer_callback
        self.ended = ended  # told the id of a job ended with its report's commit

    def grade(self, submission_id: str, round_: int, version: int,
              freed: Callable[[], None] | None = None, job_id: int | None = None) -> str:
        row = self.store.claim(submission_id, round_)
        if row is None:
            return "nothing to do"  # graded already, given up, or regraded since

        def graded(exercise: Exercise, row: Submission, drawings: Drawings) -> Report:
            with self.runner.fast_place(low=row.round > 0, freed=freed,
                                        owner=owner_of(row.scope, row.learner_id)):
                return grade(exercise, row.source, self.runner, seed=row.seed,
                             hidden_secret=self.hidden_secret, drawings=drawings)

        result = attempt(row, row.attempts, version, exercise_at=self.exercise_at,
                         grade=graded, ledger=_JobLedger(self, job_id))
        done = result.outcome
        if result.error is not None:  # a fault in grading, fenced or not
            self.counters.add("faults")
        if done is Outcome.FENCED and result.error is None:
            self.counters.add("fenced")
            self.store.count_event("fenced")
        if done is Outcome.GRADED:
            self.counters.add("graded")
        if done in (Outcome.RETRY, Outcome.REFUSED):
            self.store.count_event("retries")
            raise RetryLater(result.error)
        return done.value

    # -- the ledger of attempts ---------------------------------------------------------------

    def started(self, row: Submission, attempt: int) -> None:
        pass  # the claim started it

    def finished(self, row: Submission, attempt: int, body: str,
                 job_id: int | None = None, drawings: str | None = None,
                 ) -> dt.datetime | None:
        """The report written, with the visible cases' ``drawings``, its callback, passback
        and notice; and the job ``job_id`` ended in the same commit (``self.ended`` is
        told)."""
        def callback(connection: Any) -> None:
            host = (urlsplit(row.callback_url or "").hostname or "").lower()
            self.defer_callback(connection, row.id, host)

        after: Callable[[Any], None] | None = callback if row.callback_url else None
        if passback_target(row) is not None:  # a launch from an LMS: its grade goes back
            after = passback_then(after, row)
        finished, ended = self.store.finish_job(row.id, attempt, body, job_id, after=after,
                                                notify=jobs.DONE_CHANNEL, round_=row.round,
                                                graded=graded_of(body), drawings=drawings)
        if ended and job_id is not None and self.ended is not None:
            self.ended(job_id)
        return finished

    def faulted(self, row: Submission, attempt: int, fault: Fault) -> bool:
        def notify(connection: Any) -> None:
            jobs.notify(connection, jobs.DONE_CHANNEL, row.id)

        return self.store.fault(row.id, attempt, fault.error, give_up=fault.give_up,
                                after=notify if fault.give_up else None, round_=row.round,
                                uncount=not fault.counts)


class _JobLedger:
    """``QueueGrading``'s ledger for one job: its report's commit ends the job too."""

    def __init__(self, grading: QueueGrading, job_id: int | None) -> None:
        self.grading = grading
        self.job_id = job_id

    def started(self, row: Submission, attempt: int) -> None:
        self.grading.started(row, attempt)

    def finished(self, row: Submission, attempt: int, body: str,
                 drawings: str | None = None) -> dt.datetime | None:
        return self.grading.finished(row, attempt, body, self.job_id, drawings)

    def faulted(self, row: Submission, attempt: int, fault: Fault) -> bool:
        return self.grading.faulted(row, attempt, fault)


class Worker:
    def __init__(self, settings: Settings, runner: Runner, concurrency: int) -> None:
        self.settings = settings
        self.runner = runner
        self.concurrency = concurrency
        self.store = Store(settings.database, migrate=False)  # raises OldSchema
        self.published = Published(Catalog.from_settings(settings), self.store)
        self.hidden_secret = hidden_secret(settings)
        self.callbacks = CallbackSender.from_settings(
            settings, self.store, ReportLinks(self.hidden_secret, settings.report_link_seconds))
        self.counters = Counters()
        self.app = procrastinate.App(connector=procrastinate.PsycopgConnector())
        # defers on the connection of a transaction of ours (the worker's app is async)
        self.deferrer = jobs.client_app(settings.database)
        self.grading = QueueGrading(
            self.store, self.published.at, runner, self.hidden_secret, self.counters,
            lambda connection, submission_id, host: queue_callback(connection, submission_id),
            ended=self._ended)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._gate: asyncio.Semaphore | None = None
        self._manager: GatedJobManager | None = None
        self.failure: BaseException | None = None
        self.outages: dict[str, str] = {}  # why a procrastinate worker is not running
        self._register()

    # -- tasks ------------------------------------------------------------------------------

    def _register(self) -> None:
        app = self.app
        # attempt.MAX_ATTEMPTS attempts at grading, counted in the row; the rest for the database:
        # 2, 4, 8 ... 256 s apart (the sweep of orphans takes over after that)
        retry = procrastinate.RetryStrategy(max_attempts=8, exponential_wait=2,
                                            retry_exceptions={RetryLater})
        app.task(name=jobs.GRADE_TASK, queue=jobs.GRADING_QUEUE, retry=retry,
                 pass_context=True)(self.grade_job)
        app.task(name=jobs.CALLBACK_TASK, queue=jobs.CALLBACK_QUEUE)(self.callback_job)
        sweep = app.task(name=jobs.SWEEP_TASK, queue=jobs.MAINTENANCE_QUEUE,
                         queueing_lock=jobs.SWEEP_TASK)(self.sweep_job)
        # cron with a sixth field, of seconds: every five seconds
        app.periodic(cron="* * * * * */5", periodic_id="stalled")(sweep)

    def grade_job(self, context: procrastinate.JobContext, submission_id: str, round: int,
                  version: int) -> str:
        freed = self._freer(context.job.id)
        try:
            return self.grading.grade(submission_id, round, version, freed, context.job.id)
        except RetryLater:
            raise
        except Exception as error:  # the database, before the claim or in a fault's write
            log_failure(log, f"grading {submission_id}: the job is tried again", error)
            raise RetryLater(str(error)) from error
        finally:
            freed()

    def _freer(self, job_id: int | None) -> Any:
        """Gives the job's promised fast place back to the fetching loop (once: the manager
        keeps count)."""
        loop, manager_ = self._loop, self._manager

        def free() -> None:
            if loop is not None and manager_ is not None:
                loop.call_soon_threadsafe(manager_.give_back, job_id)
        return free

    def _ended(self, job_id: int) -> None:
        """(from the job's thread, before its function returns) The job was ended with its
        report: procrastinate's end of it takes no query."""
        if self._manager is not None:
            self._manager.ended.add(job_id)

    async def callback_job(self, submission_id: str) -> str:
        """A callback job deferred by an earlier release: its delivery, stored, is sent by
        the callback sender (``grader.service.callbacks``) like any other."""
        await asyncio.to_thread(self.store.queue_callback, submission_id)
        self.callbacks.wake()
        return "handed to the callback sender"

    async def sweep_job(self, timestamp: int) -> int:
        """Put the jobs of workers silent too long back in the queue."""
        stalled = list(await self.app.job_manager.get_stalled_jobs(
            seconds_since_heartbeat=self.settings.stalled_seconds))
        for job in stalled:
            log.warning("job %s (%s) was on a worker silent for over %d s: queued again",
                        job.id, job.task_name, self.settings.stalled_seconds)
            await self.app.job_manager.retry_job(job)
        if stalled:
            await asyncio.to_thread(self.store.count_event, "stalled_recovered", len(stalled))
        orphans = await asyncio.to_thread(self._requeue_orphans)
        return len(stalled) + orphans

    def _requeue_orphans(self) -> int:
        """Defer a job again for every unfinished submission that has none (retries run out
        while the database was away, a job deleted by a worker taken for dead, a row from
        embedded mode): no submission waits forever."""
        # as long as a stalled worker's job may wait for the sweep, and as long again
        orphans = self.store.orphans(older_than=2.0 * self.settings.stalled_seconds)
        for submission_id, round_, version in orphans:
            log.warning("submission %s (round %d) had no job: queued again", submission_id,
                        round_)
            with self.store.engine.begin() as connection:
                jobs.defer_grading(self.deferrer, connection, [
                    {"submission_id": submission_id, "round": round_, "version": version}],
                    priority=jobs.REGRADE_PRIORITY if round_ > 0 else 0)
        if orphans:
            self.store.count_event("orphans_requeued", len(orphans))
        return len(orphans)

    # -- running ----------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Grade until ``stop`` is set (or SIGTERM/SIGINT without it): the jobs under way end,
        and no new one is taken. A lost database is waited for, never a reason to exit; any
        other failure of the queue's worker is ``failure``."""
        self._loop = asyncio.get_running_loop()
        self._gate = asyncio.Semaphore(self.concurrency)
        # a job for every submission the backlog admits, and the lanes' own: one parked for a
        # slow place holds its job, and must never keep the worker from a fast place that is free
        total = min(max(self.settings.backlog, self.concurrency + self.runner.slow_slots + 2),
                    MAX_GRADING_THREADS) + self.concurrency
        # the callback sender's database calls take threads of their own, one per attempt
        self._loop.set_default_executor(ThreadPoolExecutor(
            total + MAINTENANCE_PLACES + min(self.callbacks.in_flight, 32) + 4, "job"))
        self._manager = GatedJobManager(self.app.connector, self._gate,
                                        lambda: self.runner.refusal)
        self.app.job_manager = self._manager
        stop = stop or self._signalled()
        pool = queue_pool(jobs.conninfo(self.settings.database),
                          jobs.worker_application_name())
        await pool.open(wait=False)
        async with pool, self.app.open_async(pool):
            # Grading, and apart from it the sweep and the callbacks: the sweep does not wait
            # for a fast place, and receivers slow to answer never hold a grading one.
            kept = [
                asyncio.create_task(self._keep(pool, "grader-worker", total,
                                               [jobs.GRADING_QUEUE])),
                asyncio.create_task(self._keep(pool, "grader-maintenance", MAINTENANCE_PLACES,
                                               [jobs.CALLBACK_QUEUE, jobs.MAINTENANCE_QUEUE])),
                # ends by itself once stopping is set: the attempts in flight end first
                sending := asyncio.create_task(self.callbacks.run(
                    self._manager.stopping, grace=self.settings.callback_timeout_seconds))]
            waiting = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait({*kept, waiting}, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not waiting and not task.cancelled() and task.exception():
                    self.failure = task.exception()
                    log.error("the queue's worker failed: %r", self.failure)
            log.info("stopping: the jobs under way end, no new one starts")
            self._manager.stopping.set()
            for task in (*kept, waiting):
                if task is not sending:
                    task.cancel()  # procrastinate stops its worker gracefully when cancelled
            await asyncio.gather(*kept, waiting, return_exceptions=True)

    def _signalled(self) -> asyncio.Event:
        """An event set by SIGTERM or SIGINT (one handler for both procrastinate workers)."""
        event = asyncio.Event()
        assert self._loop is not None
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._loop.add_signal_handler(signum, event.set)
        return event

    async def _keep(self, pool: AsyncConnectionPool, name: str, concurrency: int,
                    queues: list[str]) -> None:
        """Run one procrastinate worker, and run it again whenever it stops on a lost
        database (procrastinate stops its worker, without an error, when its listener or
        heartbeat loses the connection): 1, 2, 4 ... 30 s apart, for as long as it takes.
        Meanwhile ``outages`` says why, and /healthz answers 503."""
        assert self._manager is not None
        heartbeat = max(1.0, self.settings.stalled_seconds / 4)
        delay = 1.0
        while True:
            if name in self.outages:
                try:
                    async with pool.connection(timeout=10) as connection:
                        await connection.execute("SELECT 1")
                except (psycopg.Error, PoolTimeout) as error:
                    self.outages[name] = f"no database: {error}".strip()
                    await self._backoff(delay)
                    delay = min(2 * delay, MAX_BACKOFF)
                    continue
                log.info("%s: the database answers again: fetching jobs", name)
                del self.outages[name]
            started = time.monotonic()
            try:
                await self.app.run_worker_async(
                    concurrency=concurrency, name=f"{name}-{id(self):x}", queues=queues,
                    update_heartbeat_interval=heartbeat, install_signal_handlers=False,
                    stalled_worker_timeout=self.settings.stalled_seconds,
                    delete_jobs="successful", shutdown_graceful_timeout=30)
                reason = "the queue's worker stopped (its connection was lost)"
            except (exceptions.ConnectorException, psycopg.Error, PoolTimeout) as error:
                reason = f"the database failed: {error}".strip()
            if self._manager.stopping.is_set():
                return
            if time.monotonic() - started > 10 * MAX_BACKOFF:
                delay = 1.0
            self.outages[name] = reason
            log.warning("%s: %s; trying again in %.0f s", name, reason, delay)
            await self._backoff(delay)
            delay = min(2 * delay, MAX_BACKOFF)

    async def _backoff(self, seconds: float) -> None:
        assert self._manager is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._manager.stopping.wait(), seconds)

    def close(self) -> None:
        self.runner.close()
        self.store.close()


async def serve_health(worker: Worker, port: int) -> asyncio.Server:
    """A tiny /healthz for one worker: 200 when its sandbox grades, its database answers and
    its queue's workers run; else 503, with the reason."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            refusal = worker.runner.refusal
            try:
                database = await asyncio.to_thread(worker.store.ping)
            except Exception:  # noqa: BLE001 - any failure: not healthy
                database = False
            outages = "; ".join(worker.outages.values())
            ok = refusal is None and database and not outages
            with worker.counters.lock:
                body = json.dumps({"ok": ok, "sandbox": refusal or "ok",
                                   "database": "ok" if database else "no answer",
                                   "queue": outages or "ok",
                                   **worker.counters.values}).encode()
            head = (f"HTTP/1.1 {'200 OK' if ok else '503 Service Unavailable'}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                    "Connection: close\r\n\r\n").encode()
            writer.write(head + body)
            await writer.drain()
        except Exception:  # noqa: BLE001 - a bad request just closes
            pass
        finally:
            writer.close()

    return await asyncio.start_server(answer, "127.0.0.1", port)


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where it is installed (uvicorn's standard extras bring it): the queue's event
    loop turns over for every job, and uvloop's costs less CPU per turn."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(settings: Settings, concurrency: int, health_port: int | None) -> int:
    from grader.service.assembly import runner_from_settings

    runner = runner_from_settings(settings, concurrency)
    if runner.refusal is not None:
        log.error("the sandbox refuses to grade: %s", runner.refusal)
        runner.close()
        return 3
    try:
        worker = Worker(settings, runner, concurrency)
    except Exception:
        runner.close()
        raise

    async def main() -> None:
        server = None
        if health_port is not None:
            server = await serve_health(worker, health_port)
        try:
            await worker.run()
        finally:
            if server is not None:
                server.close()

    log.info("worker: %d fast places, %d slow, on %s", concurrency, runner.slow_slots,
             jobs.conninfo(settings.database).split("@")[-1])
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as loop:
            loop.run(main())
    finally:
        worker.close()
    return 0 if worker.failure is None else 3
