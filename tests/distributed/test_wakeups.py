"""Wake-ups come by notification, never by the five-second poll: a job announced while a
worker's fetch runs (and whose fetch's snapshot missed it) is fetched at once, on real
PostgreSQL with its real notices."""

from __future__ import annotations

import asyncio
from typing import Any

import procrastinate
import psycopg
from psycopg_pool import AsyncConnectionPool

from grader.service.fetching import GatedJobManager
from grader.storage import jobs
from tests.distributed.conftest import Database


class AnnouncedMeanwhile(procrastinate.PsycopgConnector):
    """The first fetch finds nothing; as it returns, a job is deferred by another process,
    and its notice heard: procrastinate's worker would clear that wake-up right after."""

    def __init__(self, database: Database) -> None:
        super().__init__()
        self.database = database
        self.manager: GatedJobManager | None = None
        self.fetches = 0

    async def execute_query_one_async(self, query: str, **arguments: Any) -> dict[str, Any]:
        row = await super().execute_query_one_async(query, **arguments)
        if "procrastinate_fetch_job" not in query:
            return row
        self.fetches += 1
        if self.fetches == 1:
            assert row["id"] is None and self.manager is not None
            heard = sum(self.manager.heard.values())
            with psycopg.connect(self.database.libpq, autocommit=True) as other:
                other.execute("SELECT procrastinate_defer_jobs_v1(ARRAY[ROW("
                              "%s, 'grader.grade', 0, NULL, NULL, '{}'::jsonb, NULL"
                              ")::procrastinate_job_to_defer_v1])", (jobs.GRADING_QUEUE,))
            while sum(self.manager.heard.values()) == heard:
                await asyncio.sleep(0.01)
        return row


def test_a_job_announced_during_an_empty_fetch_is_fetched_at_once(make_cluster) -> None:
    cluster = make_cluster()
    assert cluster.migrate().returncode == 0
    database: Database = cluster.database

    async def scenario() -> None:
        pool = AsyncConnectionPool(database.libpq, open=False)
        await pool.open()
        connector = AnnouncedMeanwhile(database)
        app = procrastinate.App(connector=connector)
        manager = GatedJobManager(connector, asyncio.Semaphore(1), lambda: None)
        connector.manager = manager
        app.job_manager = manager
        async with pool, app.open_async(pool):
            worker_id = await manager.register_worker()

            async def ignore(**_: Any) -> None:
                pass

            listening = asyncio.create_task(manager.listen_for_jobs(
                on_notification=ignore, queues=[jobs.GRADING_QUEUE]))
            while not manager.heard:  # listening: a notice of no kind is heard
                database.sql("SELECT pg_notify(%s, '{\"type\": \"probe\"}')",
                             f"procrastinate_queue_v1#{jobs.GRADING_QUEUE}")
                await asyncio.sleep(0.05)
            job = await asyncio.wait_for(
                manager.fetch_job(queues=[jobs.GRADING_QUEUE], worker_id=worker_id), 60)
            listening.cancel()
            assert job is not None and job.task_name == jobs.GRADE_TASK
            assert connector.fetches == 2  # once more, on the notice alone

    asyncio.run(scenario())
