"""A cluster on loopback: API replicas and workers as real processes, on a PostgreSQL database
of their own (made for the test, dropped after)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import sqlalchemy as sa

from tests.conftest import EXERCISES, POSTGRES, Server

PLATFORM = "platform-token-cluster-0123456789"
OTHER = "platform-token-cluster-other-98765"
INSTRUCTOR = "instructor-token-cluster-0123456789"
P = {"Authorization": f"Bearer {PLATFORM}"}
I = {"Authorization": f"Bearer {INSTRUCTOR}"}  # noqa: E741
CORRECT = (EXERCISES / "conv2d" / "samples" / "correct_numpy.py").read_text()
FLIPPED = (EXERCISES / "conv2d" / "samples" / "flipped_kernel.py").read_text()
# about three seconds asleep before it answers (correct): long enough to kill a worker in it.
# Asleep, not computing: a job past its fast budget runs at the lowest CPU priority, where on a
# machine other suites keep busy computing could starve until a case's wall-clock limit.
SLOW = CORRECT.replace("def conv(", "def _conv(") + (
    "\n\ndef conv(image, kernel):\n"
    "    import time\n"
    "    time.sleep(0.7)\n"
    "    return _conv(image, kernel)\n")


class Database:
    """A fresh PostgreSQL database; ``url`` for the grader, ``sql`` to look inside."""

    def __init__(self) -> None:
        self.name = f"grader_cluster_{uuid.uuid4().hex[:12]}"
        admin = sa.make_url(POSTGRES)
        self.admin = admin.set(drivername="postgresql").render_as_string(hide_password=False)
        self.url = admin.set(database=self.name).render_as_string(hide_password=False)
        self.libpq = admin.set(drivername="postgresql", database=self.name).render_as_string(
            hide_password=False)

    def create(self) -> Database:
        try:
            with psycopg.connect(self.admin, autocommit=True, connect_timeout=5) as admin:
                admin.execute(f'CREATE DATABASE "{self.name}"')
        except psycopg.OperationalError as error:
            if os.environ.get("CI"):
                pytest.fail(f"CI must run the distributed tests on PostgreSQL: {error}")
            pytest.skip(f"no PostgreSQL at {POSTGRES}")
        return self

    def drop(self) -> None:
        with psycopg.connect(self.admin, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def admin_sql(self, query: str, *params: object) -> None:
        """On the server's admin database: for what no session of this database may do."""
        with psycopg.connect(self.admin, autocommit=True) as admin:
            admin.execute(query, params or None)

    def sql(self, query: str, *params: object) -> list[tuple]:
        with psycopg.connect(self.libpq, autocommit=True) as connection:
            cursor = connection.execute(query, params or None)
            return cursor.fetchall() if cursor.description else []


def worker(data_dir: Path, env: dict[str, str], concurrency: int = 1) -> Server:
    """``grader worker``, with its health port as the server's port."""
    return Server(data_dir, env, lambda port: [
        "worker", "--concurrency", str(concurrency), "--health-port", str(port)], grace=40)


class Cluster:
    def __init__(self, database: Database, data_dir: Path, **env: str) -> None:
        self.database = database
        self.data_dir = data_dir
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GRADER_QUEUE": "procrastinate",
            "GRADER_DATABASE_URL": database.url, "GRADER_DATA_DIR": str(data_dir),
            "GRADER_HIDDEN_SECRET": "hidden-secret-of-the-cluster-0123",
            "GRADER_PLATFORM_TOKENS": f"{PLATFORM},{OTHER}", "GRADER_INSTRUCTOR_TOKENS": INSTRUCTOR,
            "GRADER_LOG_LEVEL": "INFO", "GRADER_STALLED_SECONDS": "5", "GRADER_SLOTS": "1",
            "GRADER_BACKLOG": "2000", "GRADER_LEARNER_LIMIT": "50",
            "GRADER_CALLBACK_NETWORKS": "127.0.0.0/8", **env}
        self.apis: list[Server] = []
        self.workers: list[Server] = []

    def migrate(self) -> subprocess.CompletedProcess[str]:
        return self.command("migrate")

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "grader.cli", *args], env=self.env,
                              capture_output=True, text=True, timeout=120)

    def api(self) -> Server:
        server = Server(self.data_dir, self.env).start()
        self.apis.append(server)
        return server

    def worker(self, concurrency: int = 1) -> Server:
        process = worker(self.data_dir, self.env, concurrency).start(probe="/healthz")
        self.workers.append(process)
        return process

    def explain(self) -> str:
        """The ends of every process's log and the queue's jobs, for a failing test."""
        parts = [f"--- worker {w.port}\n{w.read_log(3000)}" for w in self.workers]
        parts += [f"--- api {a.port}\n{a.read_log(2000)}" for a in self.apis]
        parts.append(str(self.database.sql(
            "SELECT id, status, attempts, worker_id, lock FROM procrastinate_jobs")))
        return "\n".join(parts)

    def worker_logs(self) -> str:
        return "".join(w.read_log(tail=None) for w in self.workers)

    def stop(self) -> None:
        for process in [*self.apis, *self.workers]:
            process.stop()


@pytest.fixture
def make_cluster(tmp_path: Path) -> Iterator[Callable[..., Cluster]]:
    made: list[Cluster] = []

    def make(**env: str) -> Cluster:
        cluster = Cluster(Database().create(), tmp_path, **env)
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.stop()
        cluster.database.drop()


def submit(api: Server, source: str = CORRECT, *, wait: bool = True, key: str | None = None,
           token: str = PLATFORM, **extra: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return httpx.post(f"{api.url}/v1/submissions", headers=headers, timeout=90,
                      params=None if wait else {"wait": "false"},
                      json={"exercise_id": "conv2d", "source": source, **extra})


def wait_done(api: Server, ids: list[str], seconds: float = 120) -> dict[str, dict]:
    """Every submission's view once finished (done or failed), or fail the test."""
    done: dict[str, dict] = {}
    end = time.monotonic() + seconds
    with httpx.Client(base_url=api.url, headers=I, timeout=30) as client:
        while len(done) < len(ids) and time.monotonic() < end:
            for submission_id in ids:
                if submission_id in done:
                    continue
                body = client.get(f"/v1/submissions/{submission_id}").json()
                if body["status"] in ("done", "failed"):
                    done[submission_id] = body
            time.sleep(0.2)
    missing = set(ids) - set(done)
    assert not missing, f"{len(missing)} not finished in {seconds} s, e.g. {sorted(missing)[:3]}"
    return done
