"""A grading job ends in its report's commit: the worker's write of the report deletes the
job (as procrastinate deletes one that succeeded) when it is still the worker's (``doing``),
and tells the worker so that procrastinate's own end of it takes no query. A stale attempt
writes nothing and ends nothing; a job the stalled-job sweep took back is left alone."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from grader.sandbox.fake import FakeRunner
from grader.service.worker import Counters, QueueGrading
from grader.storage import jobs
from grader.storage.store import Store
from tests.conftest import HIDDEN_SECRET
from tests.distributed.conftest import Database

PASSED = '{"passed": true, "cases": []}'  # findings to settle: the report's transaction
FAILED = '{"passed": false, "cases": []}'  # nothing more: one statement


@pytest.mark.parametrize("body", [PASSED, FAILED])
def test_the_report_s_commit_ends_its_job_once_and_only_the_worker_s(make_cluster,
                                                                     body: str) -> None:
    cluster = make_cluster()
    assert cluster.migrate().returncode == 0, cluster.migrate().stderr
    database: Database = cluster.database
    store = Store(make_url(database.url).set(drivername="postgresql+psycopg")
                  .render_as_string(hide_password=False), migrate=False)
    ended: list[int] = []
    work = QueueGrading(store, lambda exercise_id, version: None,  # type: ignore[arg-type,return-value]
                        FakeRunner(None), HIDDEN_SECRET, Counters(),  # type: ignore[arg-type]
                        lambda connection, submission_id, host: None, ended=ended.append)
    deferrer = jobs.client_app(database.url)
    try:
        def queued() -> tuple[str, int]:
            row, _ = store.create(exercise_id="conv2d", source="x", seed=1, scope="t")
            with store.engine.begin() as connection:
                jobs.defer_grading(deferrer, connection, [
                    {"submission_id": row.id, "round": 0, "version": 1}], priority=0)
            (job_id,), = database.sql(
                "UPDATE procrastinate_jobs SET status = 'doing' "
                "WHERE args->>'submission_id' = %s RETURNING id", row.id)
            return row.id, job_id

        def job_ids() -> set[int]:
            return {job_id for job_id, in database.sql("SELECT id FROM procrastinate_jobs")}

        # the worker's job: ended with the report, and the worker told
        submission_id, job_id = queued()
        claimed = store.claim(submission_id, 0)
        assert claimed is not None
        assert work.finished(claimed, claimed.attempts, body, job_id) is not None
        assert ended == [job_id] and job_id not in job_ids()
        assert store.get(submission_id).status == "done"  # type: ignore[union-attr]

        # a stale attempt: nothing written, the job (of the attempt after) left
        submission_id, job_id = queued()
        first = store.claim(submission_id, 0)
        assert first is not None and store.claim(submission_id, 0) is not None
        assert work.finished(first, first.attempts, body, job_id) is None
        assert ended == [ended[0]] and job_id in job_ids()

        # a job the sweep put back in the queue: the report is written, the job left to run
        # (its claim finds nothing to do)
        submission_id, job_id = queued()
        claimed = store.claim(submission_id, 0)
        assert claimed is not None
        database.sql("UPDATE procrastinate_jobs SET status = 'todo' WHERE id = %s", job_id)
        assert work.finished(claimed, claimed.attempts, body, job_id) is not None
        assert len(ended) == 1 and job_id in job_ids()
        assert store.claim(submission_id, 0) is None
    finally:
        store.close()
