"""The database away: 503 with Retry-After and a problem body, never 500; and a full backlog
refused before any request waits for one of the database's connections."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import uvicorn

from grader.api.app import create_app
from grader.service.admission import Busy, BusyMemory
from tests.api.conftest import SlowRunner, settings_for
from tests.conftest import Server, free_port

SUBMISSION = {"exercise_id": "conv2d", "source": "def conv(image, kernel): ...",
              "learner_id": "ada"}
PROBLEM = "application/problem+json"


class Relay:
    """A TCP relay to the database on a port of its own; ``close`` stops listening and
    drops every connection through it, as a database that went away would."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, upstream]
                if self.closed:  # accepted just before it closed
                    self._drop()
                    return
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.listener.close()
        with self.lock:
            self.closed = True
            self._drop()

    def _drop(self) -> None:
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def through(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2
                                     else host))


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["status"] == 503
    assert "database" in response.json()["detail"]


@pytest.mark.processes
def test_a_database_that_went_away_is_503_with_retry_after(postgres_url: str,
                                                           tmp_path: Path) -> None:
    target = urlsplit(postgres_url)
    relay = Relay(target.hostname or "127.0.0.1", target.port or 5432)
    server = Server(tmp_path, {"GRADER_DATABASE_URL": through(postgres_url, relay.port)})
    try:
        server.start()
        before = httpx.post(f"{server.url}/v1/submissions?wait=false", json=SUBMISSION,
                            timeout=30)
        assert before.status_code == 202, before.text
        relay.close()  # the database's address is now a closed port
        for _ in range(2):  # pooled connections dropped, then new ones refused
            assert_unavailable(httpx.get(f"{server.url}/v1/submissions", timeout=30))
            refused = httpx.post(f"{server.url}/v1/submissions?wait=false", json=SUBMISSION,
                                 timeout=30)
            assert refused.json().get("id") != before.json()["id"]
            assert_unavailable(refused)
            assert_unavailable(httpx.get(f"{server.url}/v1/submissions/{before.json()['id']}",
                                         timeout=30))
        assert "Traceback" not in server.read_log(None)
    finally:
        server.stop()
        relay.close()


@pytest.fixture
def served(tmp_path: Path, database_url: str) -> Iterator[tuple[str, Any, SlowRunner]]:
    """A real uvicorn server, in this process so that the test can reach its pool, grading
    with a runner that holds every job until released; a backlog of two."""
    runner = SlowRunner()
    app = create_app(settings_for(tmp_path, database_url=database_url, backlog=2, slots=1),
                     runner=runner)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        threading.Event().wait(0.1)
    try:
        yield url, app, runner
    finally:
        runner.release.set()
        server.should_exit = True
        thread.join(timeout=30)


def test_a_full_backlog_is_refused_without_waiting_for_a_connection(served) -> None:
    url, app, runner = served
    for _ in range(2):  # the backlog: both held by the runner
        assert httpx.post(f"{url}/v1/submissions?wait=false", json=SUBMISSION,
                          timeout=30).status_code == 202
    engine = app.state.grader.store.engine
    pool = engine.pool
    held = [engine.connect() for _ in range(pool.size() + max(pool._max_overflow, 0))]
    try:
        assert pool.checkedout() == len(held)  # any request that asked for one would wait

        def submit(number: int) -> httpx.Response:
            # half of them retries with a key, which must not be looked up first either
            headers = {"Idempotency-Key": f"key-{number}"} if number % 2 else {}
            return httpx.post(f"{url}/v1/submissions", json=SUBMISSION, headers=headers,
                              params={"wait": "false"} if number % 4 == 1 else {},
                              timeout=pool.timeout() - 5)

        with ThreadPoolExecutor(max_workers=40) as threads:
            answers = list(threads.map(submit, range(40)))
        assert [a.status_code for a in answers] == [503] * 40
        assert all(a.headers["content-type"].startswith(PROBLEM) for a in answers)
        assert all(int(a.headers["Retry-After"]) >= 1 for a in answers)
        assert pool.checkedout() == len(held)
    finally:
        for connection in held:
            connection.close()
        runner.release.set()


def test_a_full_backlog_counted_in_the_database_is_remembered_for_a_moment() -> None:
    memory = BusyMemory(enabled=True, seconds=60)
    memory.check()  # nothing refused yet
    memory.refused(Busy(retry_after=7))
    with pytest.raises(Busy) as refused:
        memory.check()
    assert refused.value.retry_after == 7
    idle = BusyMemory(enabled=False)  # counted in memory: asked again each time
    idle.refused(Busy(retry_after=7))
    idle.check()
