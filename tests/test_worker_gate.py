"""The worker's gate: a grading job is fetched only with a fast place to give it, and its
place comes back once, however the job ends."""

from __future__ import annotations

import asyncio

import procrastinate
from procrastinate import testing

from grader.service.fetching import GatedJobManager
from grader.storage import jobs


def _setup(places: int, refusal: str | None = None
           ) -> tuple[procrastinate.App, GatedJobManager, asyncio.Semaphore]:
    connector = testing.InMemoryConnector()
    app = procrastinate.App(connector=connector)
    gate = asyncio.Semaphore(places)
    manager = GatedJobManager(connector, gate, lambda: refusal)
    app.job_manager = manager
    return app, manager, gate


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


def test_a_grading_job_is_fetched_only_with_a_free_place() -> None:
    async def scenario() -> None:
        app, manager, gate = _setup(places=1)
        async with app.open_async():
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


def test_other_queues_do_not_wait_and_a_refusing_sandbox_takes_nothing() -> None:
    async def scenario() -> None:
        app, manager, gate = _setup(places=1, refusal="seccomp is missing")
        async with app.open_async():
            await _defer(app, 1)
            await _defer(app, 1, task=jobs.CALLBACK_TASK, queue=jobs.CALLBACK_QUEUE)
            assert await _fetch(manager, [jobs.GRADING_QUEUE], seconds=2) is None
            callback = await _fetch(manager, [jobs.CALLBACK_QUEUE])
            assert callback is not None and callback.task_name == jobs.CALLBACK_TASK
            assert manager.promised == set() and not gate.locked()

    asyncio.run(scenario())
