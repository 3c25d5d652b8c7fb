"""Fencing: one report per submission. Each step of the distributed queue is fenced by the
attempt and the round, in the real store and in the fake the other service tests use (which
is held to the real one here), and the worker's grading keeps to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scipy.signal import correlate2d

from grader.catalog.exercises import Catalog, Exercise
from grader.sandbox.fake import FakeRunner
from grader.service.worker import Counters, QueueGrading
from grader.storage.status import SubmissionStatus
from grader.storage.store import Store
from tests.conftest import EXERCISES, HIDDEN_SECRET
from tests.service.fakes import MemoryStore

DONE, FAILED, QUEUED = SubmissionStatus.DONE, SubmissionStatus.FAILED, SubmissionStatus.QUEUED


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryStore()
        return
    real = Store(f"sqlite:///{tmp_path / 'grader.db'}")
    yield real
    real.close()


def stored(store: Any) -> str:
    row, _ = store.create(exercise_id="conv2d", source="x", seed=1, scope="t")
    return str(row.id)


def test_only_the_newest_attempt_writes_its_report(store: Any) -> None:
    submission_id = stored(store)
    first = store.claim(submission_id, 0)
    second = store.claim(submission_id, 0)  # the first one's worker was taken for dead
    assert (first.attempts, second.attempts) == (1, 2)
    assert store.finish(submission_id, 1, '{"late": true}', round_=0) is None
    assert store.fault(submission_id, 1, "late", give_up=True, round_=0) is False
    assert store.finish(submission_id, 2, '{"score": 1}', round_=0) is not None
    row = store.get(submission_id)
    assert (row.status, row.report) == (DONE, '{"score": 1}')
    assert store.claim(submission_id, 0) is None  # graded: nothing more to do


def test_a_new_round_fences_the_attempts_of_the_old(store: Any) -> None:
    submission_id = stored(store)
    store.claim(submission_id, 0)
    store.finish(submission_id, 1, "{}", round_=0)
    again = store.claim(submission_id, 0)
    assert again is None
    store.new_round("conv2d", 1, lambda *_: None)  # a regrade
    assert store.claim(submission_id, 0) is None  # the old round's job: nothing to do
    claimed = store.claim(submission_id, 1)
    assert (claimed.round, claimed.attempts) == (1, 1)
    assert store.finish(submission_id, 1, "{}", round_=0) is None
    assert store.finish(submission_id, 1, '{"new": 1}', round_=1) is not None


def test_a_fault_queues_again_counted_or_not_or_fails(store: Any) -> None:
    submission_id = stored(store)
    store.claim(submission_id, 0)
    assert store.fault(submission_id, 1, "refused", give_up=False, round_=0, uncount=True)
    row = store.get(submission_id)
    assert (row.status, row.attempts, row.error) == (QUEUED, 0, "refused")
    store.claim(submission_id, 0)
    assert store.fault(submission_id, 1, "broke", give_up=True, round_=0)
    row = store.get(submission_id)
    assert (row.status, row.error) == (FAILED, "broke") and row.finished_at is not None
    assert store.claim(submission_id, 0) is None


# -- the worker's grading, on the fake store -------------------------------------------------


def correct(image: Any, kernel: Any) -> Any:
    return correlate2d(image, kernel, mode="valid")


@pytest.fixture(scope="module")
def conv2d() -> Exercise:
    return Catalog(EXERCISES).get("conv2d")


def grading(store: MemoryStore, conv2d: Exercise, deferred: list[str]) -> QueueGrading:
    return QueueGrading(store, lambda exercise_id, version: conv2d, FakeRunner(correct),
                        HIDDEN_SECRET, Counters(),
                        lambda connection, submission_id, host: deferred.append(host))


def test_a_job_of_a_replaced_attempt_drops_its_report(conv2d: Exercise) -> None:
    memory, deferred = MemoryStore(), []
    work = grading(memory, conv2d, deferred)
    row, _ = memory.create(exercise_id="conv2d", source="def conv(a, b): pass", seed=3,
                           scope="t", callback_url="https://LMS.example/hook")

    class Replaced(FakeRunner):
        def run(self, job: Any) -> Any:
            memory.claim(row.id, 0)  # meanwhile, the sweep gave the job to another worker
            return super().run(job)

    work.runner = Replaced(correct)
    assert work.grade(row.id, 0, 0) == "fenced"
    assert memory.get(row.id).report is None and memory.events["fenced"] == 1
    assert deferred == [] and memory.notified == []  # no callback, no notice
    work.runner = FakeRunner(correct)
    assert work.grade(row.id, 0, 0) == "graded"  # the job of the newest attempt
    assert work.counters.values == {"fenced": 1, "graded": 1}
    assert deferred == ["lms.example"] and memory.notified == [row.id]
