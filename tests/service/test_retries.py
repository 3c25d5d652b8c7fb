"""Retries in both modes, by one fault policy: a grader fault is retried up to the last
attempt, a refusal of the sandbox is retried uncounted, a learner's verdict never is. The
distributed mode's jobs run on a fake queue, embedded mode's on its own threads, both on the
in-memory store."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from scipy.signal import correlate2d

from grader.catalog.exercises import Catalog
from grader.sandbox.base import SandboxError, SandboxUnavailable
from grader.sandbox.fake import FakeRunner
from grader.service.attempt import MAX_ATTEMPTS
from grader.service.embedded import GradingService
from grader.service.submissions import NewSubmission
from grader.service.worker import Counters, QueueGrading
from grader.storage.status import SubmissionStatus
from tests.conftest import EXERCISES, HIDDEN_SECRET
from tests.service.fakes import FakeQueue, MemoryStore

DONE, FAILED = SubmissionStatus.DONE, SubmissionStatus.FAILED


def correct(image: Any, kernel: Any) -> Any:
    return correlate2d(image, kernel, mode="valid")


def flipped(image: Any, kernel: Any) -> Any:
    return correlate2d(image, kernel[::-1, ::-1], mode="valid")


class Flaky(FakeRunner):
    """Fails the first ``faults`` jobs with ``error``, then runs them."""

    def __init__(self, faults: int, error: Exception, function: Any = correct) -> None:
        super().__init__(function)
        self.faults = faults
        self.error = error
        self.tries = 0

    def run(self, job: Any) -> Any:
        self.tries += 1
        if self.tries <= self.faults:
            raise self.error
        return super().run(job)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog(EXERCISES)


# -- the distributed mode: a worker's jobs on a fake queue -----------------------------------


def queued(catalog: Catalog, runner: FakeRunner) -> tuple[MemoryStore, QueueGrading, str]:
    store = MemoryStore()
    row, _ = store.create(exercise_id="conv2d", source="def conv(a, b): ...", seed=5,
                          scope="t")
    grading = QueueGrading(store, lambda exercise_id, version: catalog.get(exercise_id),
                           runner, HIDDEN_SECRET, Counters(), lambda *_: None)
    return store, grading, str(row.id)


@pytest.mark.parametrize("faults", range(MAX_ATTEMPTS))
def test_a_job_is_retried_after_a_fault_until_graded(catalog: Catalog, faults: int) -> None:
    store, grading, submission_id = queued(catalog, Flaky(faults, SandboxError("died")))
    queue = FakeQueue(grading.grade)
    queue.defer(submission_id)
    assert queue.work() == ["retry"] * faults + ["graded"]
    row = store.get(submission_id)
    assert row is not None and (row.status, row.attempts) == (DONE, faults + 1)
    assert store.events["retries"] == faults and grading.counters.values.get("faults", 0) == faults


def test_a_job_that_faults_in_every_attempt_fails_the_submission(catalog: Catalog) -> None:
    store, grading, submission_id = queued(catalog, Flaky(99, RuntimeError("a bug")))
    queue = FakeQueue(grading.grade)
    queue.defer(submission_id)
    assert queue.work() == ["retry"] * (MAX_ATTEMPTS - 1) + ["failed"]
    row = store.get(submission_id)
    assert row is not None and (row.status, row.error) == (FAILED, "a bug")
    told = [parameters for _, parameters in store.connection.statements]
    assert told == [{"channel": "grader_done", "payload": submission_id}]  # whoever waits


def test_a_refusing_sandbox_never_uses_up_the_attempts(catalog: Catalog) -> None:
    refusals = MAX_ATTEMPTS + 2
    store, grading, submission_id = queued(
        catalog, Flaky(refusals, SandboxUnavailable("seccomp lost")))
    queue = FakeQueue(grading.grade)
    queue.defer(submission_id)
    assert queue.work() == ["retry"] * refusals + ["graded"]
    row = store.get(submission_id)
    assert row is not None and (row.status, row.attempts) == (DONE, 1)


def test_a_learners_wrong_answer_is_a_verdict_not_retried(catalog: Catalog) -> None:
    store, grading, submission_id = queued(catalog, FakeRunner(flipped))
    queue = FakeQueue(grading.grade)
    queue.defer(submission_id)
    queue.defer(submission_id)  # the same job twice (delivered again): graded once
    assert queue.work() == ["graded", "nothing to do"]
    row = store.get(submission_id)
    assert row is not None and row.status == DONE and '"passed":false' in (row.report or "")


# -- embedded mode: the same policy, in this process -----------------------------------------


class Sender:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def schedule(self, submission_id: str, url: str, body: bytes) -> None:
        self.sent.append(submission_id)


def embedded(catalog: Catalog, runner: FakeRunner) -> GradingService:
    return GradingService(catalog, MemoryStore(), runner, None, Sender(),  # type: ignore[arg-type]
                          slots=1, backlog=4, hidden_secret=HIDDEN_SECRET)


def submit(service: GradingService) -> Any:
    new = NewSubmission(exercise_id="conv2d", source="x", seed=5, scope="t",
                        learner_id="ann", callback_url=None, metadata={})
    return asyncio.run(service.submit(new, None, wait=True))


@pytest.mark.parametrize(("faults", "status"), [(MAX_ATTEMPTS - 1, DONE),
                                                 (MAX_ATTEMPTS, FAILED)])
def test_embedded_mode_retries_a_fault_in_place(catalog: Catalog, faults: int,
                                                status: str) -> None:
    runner = Flaky(faults, SandboxError("died"))
    service = embedded(catalog, runner)
    try:
        row = submit(service)
        assert row.status == status and runner.tries == MAX_ATTEMPTS
        assert service.backlog == 0  # the place in the backlog is given back either way
    finally:
        service.close()


def test_embedded_mode_leaves_a_refused_submission_queued(catalog: Catalog) -> None:
    service = embedded(catalog, Flaky(1, SandboxUnavailable("landlock lost")))
    try:
        row = submit(service)
        assert (row.status, row.attempts, row.error) == ("queued", 0, "landlock lost")
    finally:
        service.close()
