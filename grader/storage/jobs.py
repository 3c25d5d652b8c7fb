"""The job queue of the distributed mode: procrastinate, on the grader's own PostgreSQL.

Jobs are deferred on the connection of the transaction that stores what they work on, so a
submission is never stored without its grading job.

The policy, in one place:

- Grading jobs go to the ``grading`` queue. Their priority is minus the number of the same
  platform token's submissions already waiting: a burst from one token is served after the
  first submissions of every other token, whatever came first. Regrades come after all new
  work.
- A learner's submissions run one at a time (procrastinate's lock), in no set order.
- Callbacks are not jobs but rows, stored with the report (``grader.storage.callbacks``);
  a callback job left in the ``callbacks`` queue by the previous release becomes one.
"""

from __future__ import annotations

import os
import socket
import zlib
from typing import Any

import procrastinate
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

GRADE_TASK = "grader.grade"
CALLBACK_TASK = "grader.callback"
SWEEP_TASK = "grader.sweep"
GRADING_QUEUE = "grading"
CALLBACK_QUEUE = "callbacks"
MAINTENANCE_QUEUE = "maintenance"
REGRADE_PRIORITY = -(2**30)
DONE_CHANNEL = "grader_done"  # payload: a submission id, once it is graded or failed
EXERCISE_CHANNEL = "grader_exercises"  # payload: "<exercise id> <version>", once published


# What each connection of a worker process to the queue is named (PostgreSQL's
# application_name), followed by its host and pid: the worker processes are counted by it.
WORKER_APPLICATION = "grader-worker"


def worker_application_name() -> str:
    """This process's name on the queue's connections (at most 63 characters, as kept)."""
    return f"{WORKER_APPLICATION} {socket.gethostname()[:40]}:{os.getpid()}"[:63]


def conninfo(url: str) -> str:
    """libpq's form of a SQLAlchemy PostgreSQL URL (options, such as a search path, kept)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def driver_connection(connection: Connection) -> Any:
    """The psycopg connection under a SQLAlchemy one: procrastinate defers on it, inside the
    transaction SQLAlchemy has open."""
    return connection.connection.driver_connection


def client_app(url: str) -> procrastinate.App:
    """An app that only defers, on connections it is given (no pool of its own)."""
    return procrastinate.App(connector=procrastinate.SyncPsycopgConnector(conninfo=conninfo(url)))


def learner_lock(scope: str, learner_id: str | None) -> str | None:
    return None if learner_id is None else f"learner:{scope}:{learner_id}"


def defer_grading(app: procrastinate.App, connection: Connection,
                  jobs: list[dict[str, Any]], *, priority: int,
                  lock: str | None = None) -> None:
    """Defer grading jobs (``submission_id``, ``round``, ``version``) in ``connection``'s
    transaction."""
    if not jobs:
        return
    app.configure_task(GRADE_TASK, queue=GRADING_QUEUE, priority=priority, lock=lock,
                       connection=driver_connection(connection)).batch_defer(*jobs)


def defer_callback(app: procrastinate.App, connection: Connection, submission_id: str,
                   host: str) -> None:
    app.configure_task(CALLBACK_TASK, queue=CALLBACK_QUEUE, lock=f"callback-host:{host}",
                       connection=driver_connection(connection)).defer(
        submission_id=submission_id)


def notify(connection: Connection, channel: str, payload: str) -> None:
    """Sent when the transaction commits, to every listening process."""
    connection.execute(text("SELECT pg_notify(:channel, :payload)"),
                       {"channel": channel, "payload": payload})


def scope_lock(connection: Connection, scope: str) -> None:
    """Admissions of one platform token, one at a time across replicas (until the
    transaction ends), so that its caps hold exactly."""
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                       {"key": zlib.crc32(scope.encode()) + 0x4752_0000_0000})
