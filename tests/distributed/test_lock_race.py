"""Two fetches racing for one learner's lock, on real PostgreSQL: the second is refused by
procrastinate's unique index over running jobs, and a worker takes that as nothing fetched;
when the lock's job ends, the workers are woken for the next."""

from __future__ import annotations

import asyncio
import json
import time

import procrastinate
import psycopg
from psycopg_pool import AsyncConnectionPool

from grader.service.fetching import GatedJobManager
from grader.storage import jobs
from tests.distributed.conftest import Database

LOCK = "learner:scope:someone"


def test_a_lock_race_fetches_again_and_a_lock_s_end_wakes_the_workers(make_cluster) -> None:
    cluster = make_cluster()
    assert cluster.migrate().returncode == 0
    database: Database = cluster.database

    async def scenario() -> None:
        pool = AsyncConnectionPool(database.libpq, open=False)
        await pool.open()
        app = procrastinate.App(connector=procrastinate.PsycopgConnector())
        manager = GatedJobManager(app.connector, asyncio.Semaphore(2), lambda: None)
        app.job_manager = manager
        async with pool, app.open_async(pool):
            worker_id = await manager.register_worker()

            async def defer(priority: int) -> int:
                return await app.configure_task(
                    jobs.GRADE_TASK, queue=jobs.GRADING_QUEUE, lock=LOCK,
                    priority=priority).defer_async(submission_id="s", round=0, version=0)

            earlier = await defer(-5)
            # another worker's fetch takes the earlier job, its transaction still open ...
            other = await psycopg.AsyncConnection.connect(database.libpq)
            taken = await (await other.execute(
                "SELECT id FROM procrastinate_fetch_job_v2(%s, %s)",
                ([jobs.GRADING_QUEUE], worker_id))).fetchone()
            assert taken == (earlier,)
            # ... when the learner's next job comes, ranked above it (a shorter backlog)
            later = await defer(0)
            fetching = asyncio.create_task(
                manager.fetch_job(queues=[jobs.GRADING_QUEUE], worker_id=worker_id))
            end = time.monotonic() + 60
            while not database.sql("SELECT 1 FROM pg_stat_activity WHERE datname = "
                                   "current_database() AND wait_event_type = 'Lock'"):
                assert time.monotonic() < end and not fetching.done(), "the fetch never waited"
                await asyncio.sleep(0.05)
            await other.commit()  # the unique index refuses the waiting fetch's job
            assert await asyncio.wait_for(fetching, 60) is None  # nothing taken, no error
            await other.close()
            assert database.sql("SELECT id, status FROM procrastinate_jobs ORDER BY id") == [
                (earlier, "doing"), (later, "todo")]
            assert manager.gate._value == 2  # its place given back
            # the earlier job ends: every worker listening on the queue is told of the later
            # one (its insertion was told while the lock was held)
            listener = await psycopg.AsyncConnection.connect(database.libpq, autocommit=True)
            await listener.execute(f'LISTEN "procrastinate_queue_v1#{jobs.GRADING_QUEUE}"')
            done = await manager.list_jobs_async(id=earlier)
            await manager.finish_job(done[0], procrastinate.jobs.Status.SUCCEEDED, True)
            told = await asyncio.wait_for(anext(listener.notifies()), 60)
            assert json.loads(told.payload) == {"type": "job_inserted", "job_id": later}
            await listener.close()
            job = await manager.fetch_job(queues=[jobs.GRADING_QUEUE], worker_id=worker_id)
            assert job is not None and job.id == later

    asyncio.run(scenario())
