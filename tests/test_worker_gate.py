"""The worker's gate, on PostgreSQL: a grading job is fetched only with a fast place to give
it, and its place comes back once, however the job ends; and the fetch that would find the
queue empty after a job is not sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import procrastinate
import pytest
from psycopg_pool import AsyncConnectionPool

from grader.service.fetching import GatedJobManager
from grader.storage import jobs
from grader.storage.store import Store

Setup = Callable[..., AbstractAsyncContextManager[
    tuple[procrastinate.App, GatedJobManager, asyncio.Semaphore]]]


@pytest.fixture
def setup(postgres_url: str) -> Iterator[Setup]:
    Store(postgres_url).close()  # migrated: the queue's schema

    @asynccontextmanager
    async def opened(places: int, refusal: str | None = None
                     ) -> AsyncIterator[tuple[procrastinate.App, GatedJobManager,
                                              asyncio.Semaphore]]:
        connector = procrastinate.PsycopgConnector()
        app = procrastinate.App(connector=connector)
        gate = asyncio.Semaphore(places)
        manager = GatedJobManager(connector, gate, lambda: refusal)
        app.job_manager = manager
        pool = AsyncConnectionPool(jobs.conninfo(postgres_url), open=False)
        await pool.open()
        async with pool, app.open_async(pool):
            yield app, manager, gate

    yield opened


async def _defer(app: procrastinate.App, count: int, task: str = jobs.GRADE_TASK,
                 queue: str = jobs.GRADING_QUEUE) -> None:
    for i in range(count):
        await app.configure_task(task, queue=queue).defer_async(
            submission_id=f"s{i}", round=0, version=0)


async def _fetch(manager: GatedJobManager, queues: list[str], seconds: float = 0.2):  # type: ignore[no-untyped-def]
    worker_id = await manager.register_worker()
    try:
        return await asyncio.wait_for(manager.fetch_job(queues=queues, worker_id=worker_id),
                                      seconds)
    except TimeoutError:
        return None


def test_a_grading_job_is_fetched_only_with_a_free_place(setup: Setup) -> None:
    async def scenario() -> None:
        async with setup(places=1) as (app, manager, gate):
            await _defer(app, 3)
            first = await _fetch(manager, [jobs.GRADING_QUEUE])
            assert first is not None and manager.promised == {first.id}
            assert await _fetch(manager, [jobs.GRADING_QUEUE]) is None  # waits for the place
            manager.give_back(first.id)  # the job moved to the slow lane, say
            manager.give_back(first.id)  # and then ended: the place comes back once
            second = await _fetch(manager, [jobs.GRADING_QUEUE])
            assert second is not None and second.id != first.id
            assert await _fetch(manager, [jobs.GRADING_QUEUE]) is None
            # a job whose function never ran gives its place back when it is finished
            await manager.finish_job(second, procrastinate.jobs.Status.FAILED, False)
            assert manager.promised == set()
            assert await _fetch(manager, [jobs.GRADING_QUEUE]) is not None

    asyncio.run(scenario())


def test_other_queues_do_not_wait_and_a_refusing_sandbox_takes_nothing(setup: Setup) -> None:
    async def scenario() -> None:
        async with setup(places=1, refusal="seccomp is missing") as (app, manager, gate):
            await _defer(app, 1)
            await _defer(app, 1, task=jobs.CALLBACK_TASK, queue=jobs.CALLBACK_QUEUE)
            assert await _fetch(manager, [jobs.GRADING_QUEUE], seconds=2) is None
            callback = await _fetch(manager, [jobs.CALLBACK_QUEUE])
            assert callback is not None and callback.task_name == jobs.CALLBACK_TASK
            assert manager.promised == set() and not gate.locked()

    asyncio.run(scenario())


def test_the_fetch_after_a_job_that_left_the_queue_empty_is_not_sent(setup: Setup) -> None:
    """Unless a job was announced since; and only that one fetch: the next (the poll's)
    queries whatever it heard. A fetch that saw another job waiting is sent."""
    key = (jobs.GRADING_QUEUE,)

    async def scenario() -> None:
        async with setup(places=2) as (app, manager, gate):
            def free() -> None:
                for job_id in list(manager.promised):
                    manager.give_back(job_id)

            def announced() -> None:  # as this manager's listener counts a notice
                manager.heard[key] = manager.heard.get(key, 0) + 1

            await _defer(app, 1)
            assert await _fetch(manager, [jobs.GRADING_QUEUE]) is not None
            # a job deferred now, unheard (this manager does not listen): not fetched by
            # the fetch after the job, fetched by the one after that
            await _defer(app, 1)
            assert await _fetch(manager, [jobs.GRADING_QUEUE]) is None
            assert await _fetch(manager, [jobs.GRADING_QUEUE]) is not None
            # the same, but announced: fetched at once
            free()
            await _defer(app, 1)
            announced()
            assert await _fetch(manager, [jobs.GRADING_QUEUE]) is not None
            # two waiting: the fetch after the first is sent
            free()
            await _defer(app, 2)
            announced()
            assert await _fetch(manager, [jobs.GRADING_QUEUE]) is not None
            assert await _fetch(manager, [jobs.GRADING_QUEUE]) is not None

    asyncio.run(scenario())
