"""Passback jobs in the database (SQLite and PostgreSQL): written once per graded round, in
the transaction that stores the report, only for submissions made through a launch; then
claimed by one deliverer at a time and recorded attempt by attempt."""

from __future__ import annotations

import datetime as dt

import pytest

from grader.lti.keys import ToolKeys
from grader.lti.passback import Deliverer
from grader.sandbox.fake import FakeRunner
from grader.service.worker import Counters, QueueGrading
from grader.storage.lti import passback_then
from grader.storage.status import SubmissionStatus
from grader.storage.store import Store, Submission
from tests.conftest import HIDDEN_SECRET

LINEITEM = "https://lms.example/lineitems/9"


@pytest.fixture
def store(database_url: str):  # type: ignore[no-untyped-def]
    found = Store(database_url)
    yield found
    found.close()


def launched(store: Store, scope: str = "lti:1", platform: object = 1) -> Submission:
    row, _ = store.create(exercise_id="conv2d", source="x", seed=1, scope=scope,
                          learner_id="lti:1:ada", metadata={"lti": {
                              "platform": platform, "user": "ada", "lineitem": LINEITEM}})
    return row


def test_a_launched_submission_has_one_passback_per_round(store: Store) -> None:
    row = launched(store)
    assert store.queue_passback(row) is True
    assert store.queue_passback(row) is False  # the same round again: nothing more
    job = store.passback_of(row.id)
    assert job is not None
    assert (job.status, job.attempts, job.user_id, job.lineitem) == ("pending", 0, "ada",
                                                                     LINEITEM)
    row.round = 1
    assert store.queue_passback(row) is True
    assert store.passback_of(row.id).round == 1  # type: ignore[union-attr]


@pytest.mark.parametrize(("scope", "platform"), [
    ("3f2a" * 8, 1),  # a platform token's scope: its metadata is not trusted
    ("open", 1),
    ("lti:2", 1),  # metadata naming another platform than the scope
])
def test_metadata_alone_makes_no_passback(store: Store, scope: str, platform: int) -> None:
    row = launched(store, scope, platform)
    assert store.queue_passback(row) is False
    assert store.passback_of(row.id) is None


def test_the_passback_is_written_with_the_report_or_not_at_all(store: Store) -> None:
    row = launched(store)
    claimed = store.claim(row.id, 0)
    assert claimed is not None
    assert store.finish(row.id, claimed.attempts, '{"x": 1}', round_=0,
                        after=passback_then(None, claimed)) is not None
    assert store.passback_of(row.id) is not None
    stale = launched(store)
    assert store.finish(stale.id, 5, "{}", round_=0,
                        after=passback_then(None, stale)) is None  # a stale attempt
    assert store.passback_of(stale.id) is None
    assert store.get(row.id).status == SubmissionStatus.DONE  # type: ignore[union-attr]


def test_a_job_is_claimed_once_and_its_attempts_are_counted(store: Store) -> None:
    row = launched(store)
    store.queue_passback(row)
    [job] = store.due_passbacks(limit=5)
    assert store.claim_passback(job, dt.timedelta(seconds=60)) is True
    assert store.claim_passback(job, dt.timedelta(seconds=60)) is False
    assert store.due_passbacks(limit=5) == []
    store.passback_tried(job.id, False, "HTTP 503", dt.datetime.now(dt.UTC))
    store.passback_tried(job.id, True, None, None)
    done = store.passback_of(row.id)
    assert done is not None and (done.status, done.attempts) == ("delivered", 2)


def test_the_workers_finish_writes_the_passback_with_the_report(postgres_url: str) -> None:
    """Distributed mode (PostgreSQL only): ``QueueGrading.finished`` commits the report, the
    notice to waiting requests and the passback job together."""
    store = Store(postgres_url)
    try:
        worker_finishes(store)
    finally:
        store.close()


def worker_finishes(store: Store) -> None:
    deferred: list[str] = []
    work = QueueGrading(store, lambda exercise_id, version: None,  # type: ignore[arg-type,return-value]
                        FakeRunner(None), HIDDEN_SECRET, Counters(),
                        lambda connection, submission_id, host: deferred.append(host))
    row = launched(store)
    claimed = store.claim(row.id, 0)
    assert claimed is not None
    assert work.finished(claimed, claimed.attempts, '{"score": 4}') is not None
    job = store.passback_of(row.id)
    assert job is not None and (job.round, job.status) == (0, "pending")
    assert deferred == []  # no callback_url: no callback job
    assert work.finished(claimed, claimed.attempts, "{}") is None  # done: nothing again
    plain, _ = store.create(exercise_id="conv2d", source="x", seed=1, scope="t")
    claimed = store.claim(plain.id, 0)
    assert claimed is not None and work.finished(claimed, 1, "{}") is not None
    assert store.passback_of(plain.id) is None


def test_an_embedded_regrade_is_a_new_round_with_its_own_passback(store: Store) -> None:
    row = launched(store)
    store.save_report(row.id, "{}")
    assert store.queue_passback(row)
    store.set_queued([row.id])
    again = store.get(row.id)
    assert again is not None and again.round == 1
    assert store.queue_passback(again) is True


def test_a_report_stored_without_its_job_is_found_at_the_next_start(store: Store) -> None:
    row = launched(store)
    store.save_report(row.id, "{}")  # and the server stopped before writing the job
    other = launched(store)
    store.save_report(other.id, "{}")
    store.queue_passback(other)
    store.create(exercise_id="conv2d", source="x", seed=1, scope="t")
    assert [r.id for r in store.unqueued_passbacks()] == [row.id]
    assert Deliverer(store, ToolKeys(store)).recover() == 1
    assert store.unqueued_passbacks() == []
