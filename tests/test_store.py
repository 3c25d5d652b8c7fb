"""Storage on real databases: SQLite always, PostgreSQL where one answers (always in CI)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from grader.api.schemas import SubmissionView
from grader.storage import jobs
from grader.storage.database import log_failure, revisions
from grader.storage.status import SubmissionStatus
from grader.storage.store import Store, Submission, upgrade

QUEUED, RUNNING = SubmissionStatus.QUEUED, SubmissionStatus.RUNNING
DONE, FAILED = SubmissionStatus.DONE, SubmissionStatus.FAILED


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    yield store
    store.close()


def new(store: Store, **overrides):  # type: ignore[no-untyped-def]
    values = {"exercise_id": "conv2d", "source": "def conv(i, k): pass", "seed": 2**62 + 5,
              "scope": "platform-a"}
    values.update(overrides)
    return store.create(**values)


def test_a_submission_is_stored_queued_with_everything_it_came_with(store: Store) -> None:
    row, created = new(store, learner_id="ada", metadata={"course": "x"},
                       callback_url="http://127.0.0.1:9/hook")
    assert created
    stored = store.get(row.id)
    assert stored is not None
    assert (stored.status, stored.seed, stored.learner_id) == (QUEUED, 2**62 + 5, "ada")
    assert stored.metadata_ == {"course": "x"}
    assert stored.callback_url == "http://127.0.0.1:9/hook"
    assert stored.created_at is not None


def test_the_lifecycle_running_done(store: Store) -> None:
    row, _ = new(store)
    store.mark_running(row.id)
    assert store.get(row.id).status == RUNNING  # type: ignore[union-attr]
    assert store.unfinished() == [row.id]
    store.save_report(row.id, '{"passed": true}')
    done = store.get(row.id)
    assert done is not None and done.status == DONE and done.report == '{"passed": true}'
    assert done.attempts == 1 and done.finished_at is not None
    assert store.unfinished() == []


def test_every_timestamp_reads_back_in_utc(store: Store) -> None:
    row, _ = new(store)
    store.mark_running(row.id)
    store.save_report(row.id, "{}")
    store.record_callback(row.id, 1, 204, None, True)
    store.put_exercise("conv2d", "{}")
    stored = store.get(row.id)
    assert stored is not None
    listed = store.page(None, None, 10, 0)[0][0]
    stamps = [stored.created_at, stored.started_at, stored.finished_at, listed.created_at,
              store.callbacks(row.id)[0].at]
    assert all(stamp is not None and stamp.utcoffset() == dt.timedelta(0) for stamp in stamps)
    assert abs(dt.datetime.now(dt.UTC) - stored.created_at) < dt.timedelta(minutes=1)


def test_a_grader_fault_requeues_then_gives_up(store: Store) -> None:
    row, _ = new(store)
    store.requeue(row.id, "zygote died", give_up=False)
    assert store.get(row.id).status == QUEUED  # type: ignore[union-attr]
    store.requeue(row.id, "zygote died", give_up=True)
    failed = store.get(row.id)
    assert failed is not None and failed.status == FAILED and failed.error == "zygote died"


def test_an_idempotency_key_returns_the_first_submission(store: Store) -> None:
    first, created = new(store, idempotency_key="k1")
    again, created_again = new(store, idempotency_key="k1", source="different")
    other_scope, created_other = new(store, idempotency_key="k1", scope="platform-b")
    assert created and not created_again and created_other
    assert again.id == first.id and again.source == first.source
    assert other_scope.id != first.id


def test_concurrent_retries_store_one_submission(store: Store) -> None:
    ids: list[str] = []
    barrier = threading.Barrier(8)

    def retry() -> None:
        barrier.wait()
        ids.append(new(store, idempotency_key="race")[0].id)

    threads = [threading.Thread(target=retry) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 1
    assert store.page(None, None, 100, 0)[1] == 1


def test_pages_filter_and_count(store: Store) -> None:
    for learner in ["ada", "bob", "ada"]:
        new(store, learner_id=learner)
    new(store, exercise_id="maxpool2d", learner_id="ada")
    rows, total = store.page("conv2d", "ada", 1, 0)
    assert total == 2 and len(rows) == 1
    rows, total = store.page(None, None, 10, 0)
    assert total == 4 and len(rows) == 4
    assert store.ids_for_exercise("maxpool2d") == [rows[-1].id]


def test_exercises_and_callback_attempts_are_kept(store: Store) -> None:
    assert store.put_exercise("pool", '{"id": "pool"}') == 1
    assert store.put_exercise("pool", '{"id": "pool", "v": 2}') == 2
    assert store.exercises() == [("pool", 2, '{"id": "pool", "v": 2}')]
    assert store.exercise_version("pool", 1) == '{"id": "pool"}'  # versions are kept
    assert [v[0] for v in store.versions("pool")] == [1, 2]
    row, _ = new(store)
    store.record_callback(row.id, 1, 500, "HTTP 500", False)
    store.record_callback(row.id, 2, 200, None, True)
    attempts = store.callbacks(row.id)
    assert [(a.attempt, a.status_code, a.delivered) for a in attempts] == [
        (1, 500, False), (2, 200, True)]


def test_migrations_run_again_without_change(store: Store) -> None:
    upgrade(store.engine)
    with store.engine.connect() as connection:
        version = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    assert version == revisions(store.engine)[1]  # the newest migration's


def test_a_pushed_version_keeps_its_files_and_a_restore_copies_them(store: Store) -> None:
    files = '{"exercise.toml": "id = 1", "reference.py": "def f(): ..."}'
    assert store.put_exercise("pool", '{"id": "pool"}', files_json=files) == 1
    assert store.exercise_row("pool", 1) == ('{"id": "pool"}', files)
    assert store.put_exercise("pool", '{"id": "pool", "v": 2}') == 2
    assert store.restore_exercise("pool", 1, None) == 3
    assert store.exercise_row("pool", 3) == ('{"id": "pool"}', files)
    assert store.restore_exercise("pool", 0, '{"id": "builtin"}') == 4
    assert store.exercise_row("pool", 4) == ('{"id": "builtin"}', None)
    assert store.restore_exercise("pool", 9, None) is None
    assert [(v[0], v[2], v[3]) for v in store.versions("pool")] == [
        (1, True, None), (2, False, None), (3, True, 1), (4, False, 0)]
    assert store.newest_rows() == [("pool", 4, '{"id": "builtin"}', None)]


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'g.db'}")
    with store.engine.connect() as connection:
        assert connection.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
    store.close()


def test_only_the_newest_attempt_may_write_the_report(store: Store) -> None:
    """Fencing: an attempt taken for dead that comes back cannot write over its successor."""
    row, _ = new(store)
    first = store.claim(row.id, 0)
    second = store.claim(row.id, 0)  # the job was retried: a new attempt
    assert first is not None and second is not None
    assert (first.attempts, second.attempts) == (1, 2)
    assert store.finish(row.id, first.attempts, '{"from": "stale"}') is None
    assert not store.fault(row.id, first.attempts, "late fault", give_up=True)
    assert store.finish(row.id, second.attempts, '{"from": "newest"}') is not None
    stored = store.get(row.id)
    assert stored is not None and stored.report == '{"from": "newest"}'
    assert store.claim(row.id, 0) is None  # graded: nothing left to do
    assert store.finish(row.id, second.attempts, '{"again": true}') is None  # once only


KEPT = '{"format":1,"cases":{}}'


def test_a_grading_s_drawings_are_read_apart_and_written_with_its_report(store: Store) -> None:
    row, _ = new(store)
    assert store.drawings(row.id) is None and store.drawings("no-such-id") is None
    store.save_report(row.id, "{}", drawings=KEPT)
    assert store.drawings(row.id) == KEPT
    stored = store.get(row.id)
    assert stored is not None and "drawings" not in vars(stored)  # not read with the row
    assert store.drawings(row.id, stored.finished_at) == KEPT
    assert store.drawings(row.id, stored.finished_at - dt.timedelta(microseconds=1)) is None
    store.save_report(row.id, "{}")  # graded again, keeping none: the old ones go
    assert store.drawings(row.id) is None


def test_only_the_attempt_that_writes_the_report_writes_its_drawings(store: Store) -> None:
    row, _ = new(store)
    first, second = store.claim(row.id, 0), store.claim(row.id, 0)
    assert first is not None and second is not None and "drawings" not in vars(second)
    assert store.finish(row.id, first.attempts, "{}", drawings='{"stale":1}') is None
    assert store.drawings(row.id) is None
    assert store.finish(row.id, second.attempts, "{}", drawings=KEPT) is not None
    assert store.drawings(row.id) == KEPT


def test_a_regrade_starts_a_new_round_and_ends_the_old_one(store: Store) -> None:
    row, _ = new(store)
    first = store.claim(row.id, 0)
    assert first is not None and store.finish(row.id, first.attempts, "{}", round_=0)
    ungraded, _ = new(store)  # not graded yet: left to its own job
    deferred: list[tuple[str, int]] = []
    versions: list[int] = []

    def defer(_: object, pairs: list[tuple[str, int]], version: int) -> None:
        deferred.extend(pairs)
        versions.append(version)

    assert store.new_round(row.exercise_id, 3, defer) == 1
    assert deferred == [(row.id, 1)] and versions == [3]
    assert store.claim(row.id, 0) is None  # the old round's job has nothing to do
    in_round_1 = store.claim(row.id, 1)
    assert in_round_1 is not None and in_round_1.exercise_version == 3
    # a second regrade while round 1 is being graded: round 2's first attempt has the same
    # number as round 1's, and only the round tells them apart
    assert store.new_round(row.exercise_id, None, defer) == 1
    assert versions[-1] == 0  # None: the newest stored version (none stored here)
    in_round_2 = store.claim(row.id, 2)
    assert in_round_2 is not None and in_round_2.attempts == in_round_1.attempts == 1
    assert store.finish(row.id, 1, '{"round": 1}', round_=1) is None
    assert not store.fault(row.id, 1, "late", give_up=True, round_=1)
    assert store.finish(row.id, 1, '{"round": 2}', round_=2) is not None
    stored = store.get(row.id)
    assert stored is not None and stored.report == '{"round": 2}'
    assert store.get(ungraded.id).round == 0  # type: ignore[union-attr]


def test_a_worker_s_one_statement_finish_writes_the_drawings_too(postgres_url: str) -> None:
    """The write, the notice and the job's end in one statement (PostgreSQL)."""
    store = Store(postgres_url)
    try:
        row, _ = new(store)
        claimed = store.claim(row.id, 0)
        assert claimed is not None
        finished, _ = store.finish_job(row.id, claimed.attempts, "{}", None,
                                       notify=jobs.DONE_CHANNEL, round_=0, drawings=KEPT)
        assert finished is not None and store.drawings(row.id) == KEPT
    finally:
        store.close()


def test_an_unfinished_submission_without_a_job_is_an_orphan(postgres_url: str) -> None:
    store = Store(postgres_url)
    try:
        row, _ = new(store)
        assert store.orphans(older_than=60) == []  # too recent to tell
        with store.engine.begin() as connection:
            connection.execute(sa.text("UPDATE submissions SET created_at = now() - "
                                       "interval '2 minutes' WHERE id = :id"), {"id": row.id})
        orphans = store.orphans(older_than=60)
        assert orphans == [(row.id, 0, 0)]
        assert (orphans[0].submission_id, orphans[0].round, orphans[0].version) == (row.id, 0, 0)
        with store.engine.begin() as connection:
            jobs.defer_grading(jobs.client_app(postgres_url), connection, [
                {"submission_id": row.id, "round": 0, "version": 0}], priority=0)
        assert store.orphans(older_than=60) == []  # its job waits
    finally:
        store.close()


def test_the_queue_facts_count_the_grading_jobs_waiting(postgres_url: str) -> None:
    store = Store(postgres_url)
    try:
        empty = store.queue_facts()
        assert (empty["jobs"], empty["depth"], empty["counters"]) == ({}, 0, {})
        row, _ = new(store)
        with store.engine.begin() as connection:
            jobs.defer_grading(jobs.client_app(postgres_url), connection, [
                {"submission_id": row.id, "round": 0, "version": 0}], priority=0)
            jobs.defer_callback(jobs.client_app(postgres_url), connection, row.id, "h")
        store.count_event("retries", 2)
        facts = store.queue_facts()
        assert facts["jobs"] == {(jobs.GRADING_QUEUE, "todo"): 1, (jobs.CALLBACK_QUEUE, "todo"): 1}
        assert facts["depth"] == 1 and facts["oldest"] >= 0  # the callback is not grading
        assert facts["counters"] == {"retries": 2}
    finally:
        store.close()


def test_the_status_words_are_those_stored_and_those_of_the_api(store: Store) -> None:
    """Every status a submission goes through is written as the enum's word, read back as
    its member, and the API's schema offers exactly those words."""
    words = [status.value for status in SubmissionStatus]
    assert words == ["queued", "running", "done", "failed"]
    queued, _ = new(store)
    running, _ = new(store)
    done, _ = new(store)
    failed, _ = new(store)
    for row in (running, done, failed):
        assert store.claim(row.id, 0) is not None
    assert store.finish(done.id, 1, "{}") is not None
    assert store.fault(failed.id, 1, "zygote died", give_up=True)
    with store.engine.connect() as connection:
        stored = dict(connection.execute(sa.text("SELECT id, status FROM submissions")).all())
    assert stored == {queued.id: "queued", running.id: "running", done.id: "done",
                      failed.id: "failed"}
    assert {row.id: row.status for row in store.page(None, None, 10, 0).rows} == {
        queued.id: QUEUED, running.id: RUNNING, done.id: DONE, failed.id: FAILED}
    assert all(type(row.status) is SubmissionStatus for row in store.page(None, None, 10, 0).rows)
    schema = SubmissionView.model_json_schema()
    assert schema["$defs"]["SubmissionStatus"]["enum"] == words


def test_a_status_that_is_not_one_of_the_words_is_neither_written_nor_read(
        store: Store) -> None:
    row, _ = new(store)
    table = Submission.__table__
    with (pytest.raises(sa.exc.StatementError, match="'paused' is not a valid SubmissionStatus"),
          store.engine.begin() as connection):
        connection.execute(sa.update(table).values(status="paused"))
    with store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE submissions SET status = 'paused'"))
    with pytest.raises(ValueError, match="'paused' is not a valid SubmissionStatus"):
        store.get(row.id)


def test_a_background_failure_is_one_line_when_the_database_is_away(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A poll that meets a database restart logs a warning without a traceback; any other
    failure keeps its traceback, to be looked into."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'missing' / 'no.db'}")
    with pytest.raises(sa.exc.OperationalError) as away:
        engine.connect()
    logger = logging.getLogger("tests.background")
    with caplog.at_level(logging.WARNING, logger="tests.background"):
        log_failure(logger, "polling failed", away.value)
        try:
            raise ValueError("a bug")
        except ValueError as error:
            log_failure(logger, "polling failed", error)
    outage, bug = caplog.records
    assert outage.levelno == logging.WARNING and outage.exc_info is None
    assert outage.getMessage().startswith("polling failed: the database cannot be reached: ")
    assert "\n" not in outage.getMessage()
    assert bug.levelno == logging.ERROR and bug.exc_info is not None
    assert bug.exc_info[0] is ValueError
