"""The job queue as the database has it, for the distributed mode's sweep and metrics: the
SQL that reads procrastinate's tables (PostgreSQL only), and counters of events kept by every
process. Task and queue names are ``grader.storage.jobs``'s."""

from __future__ import annotations

from typing import Any, cast

from procrastinate.jobs import Status as JobStatus
from sqlalchemy import Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from grader.storage import jobs
from grader.storage.database import Database
from grader.storage.rows import Orphan
from grader.storage.status import SubmissionStatus
from grader.storage.tables import EventCounter

_ORPHANS = text("""
    SELECT s.id, s.round, s.exercise_version FROM submissions s
    WHERE s.status IN (:queued, :running)
      AND coalesce(s.started_at, s.created_at) < now() - make_interval(secs => :age)
      AND NOT EXISTS (
        SELECT 1 FROM procrastinate_jobs j
        WHERE j.task_name = :task
          AND j.status IN (CAST(:todo AS procrastinate_job_status),
                           CAST(:doing AS procrastinate_job_status))
          AND j.args->>'submission_id' = s.id
          AND (j.args->>'round')::int = s.round)
    ORDER BY s.created_at LIMIT :limit""").bindparams(
    queued=SubmissionStatus.QUEUED.value, running=SubmissionStatus.RUNNING.value,
    task=jobs.GRADE_TASK, todo=JobStatus.TODO.value, doing=JobStatus.DOING.value)

_JOBS = text("SELECT queue_name, status, count(*) FROM procrastinate_jobs "
             "GROUP BY queue_name, status")
_WAITING = text(
    "SELECT count(*), coalesce(extract(epoch FROM now() - min(e.at)), 0) "
    "FROM procrastinate_jobs j LEFT JOIN LATERAL (SELECT min(at) AS at "
    "FROM procrastinate_events WHERE job_id = j.id) e ON true "
    "WHERE j.queue_name = :queue AND j.status = CAST(:todo AS procrastinate_job_status)"
).bindparams(queue=jobs.GRADING_QUEUE, todo=JobStatus.TODO.value)
# Worker processes: those connected to this database under their name (each one runs several
# procrastinate workers, each with a heartbeat of its own), and the oldest heartbeat.
_WORKERS = text(
    "SELECT (SELECT count(DISTINCT application_name) FROM pg_stat_activity "
    "WHERE datname = current_database() AND application_name LIKE :named), "
    "(SELECT coalesce(extract(epoch FROM now() - min(last_heartbeat)), 0) "
    "FROM procrastinate_workers)"
).bindparams(named=f"{jobs.WORKER_APPLICATION} %")


class QueueRows(Database):
    def orphans(self, older_than: float, limit: int = 500) -> list[Orphan]:
        """Unfinished submissions (PostgreSQL, distributed mode) with no grading job waiting
        or running for their round, unchanged for ``older_than`` seconds. None should exist;
        a job whose retries ran out, or a row left by embedded mode, would be one."""
        with self.engine.connect() as connection:
            rows = connection.execute(_ORPHANS, {"age": older_than, "limit": limit})
            return [Orphan(r.id, int(r.round), int(r.exercise_version)) for r in rows]

    def queue_facts(self) -> dict[str, Any]:
        """The procrastinate queue as it stands, for the metrics (PostgreSQL only)."""
        with self.engine.connect() as connection:
            counted = {(queue, status): int(count)
                       for queue, status, count in connection.execute(_JOBS)}
            depth, oldest = connection.execute(_WAITING).one()
            workers, age = connection.execute(_WORKERS).one()
        return {"jobs": counted, "depth": int(depth), "oldest": float(oldest),
                "workers": int(workers), "heartbeat_age": float(age),
                "counters": self.counters()}

    def count_event(self, name: str, count: int = 1) -> None:
        table = cast(Table, EventCounter.__table__)
        with self.engine.begin() as connection:
            added = connection.execute(update(table).where(table.c.name == name)
                                       .values(value=table.c.value + count))
            if added.rowcount == 0:
                try:
                    with connection.begin_nested():
                        connection.execute(insert(table).values(name=name, value=count))
                except IntegrityError:  # another process made it just now
                    connection.execute(update(table).where(table.c.name == name)
                                       .values(value=table.c.value + count))

    def counters(self) -> dict[str, int]:
        with self.engine.connect() as connection:
            return {r.name: int(r.value) for r in connection.execute(
                select(EventCounter.name, EventCounter.value))}
