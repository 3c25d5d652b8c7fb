"""End to end: a real ``grader serve`` process, real HTTP, the real sandbox."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import select
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook

from tests.conftest import EXERCISES, REFERENCES, Server

pytestmark = pytest.mark.processes

PLATFORM = "platform-token-e2e-0123456789"
INSTRUCTOR = "instructor-token-e2e-0123456789"
SECRET = "callback-secret-e2e-0123456789"
P = {"Authorization": f"Bearer {PLATFORM}"}
I = {"Authorization": f"Bearer {INSTRUCTOR}"}  # noqa: E741
CORRECT = (EXERCISES / "conv2d" / "samples" / "correct_loops.py").read_text()
FLIPPED = (EXERCISES / "conv2d" / "samples" / "flipped_kernel.py").read_text()
SLOW = CORRECT.replace("    return out", "    import time\n    time.sleep(0.25)\n    return out")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("server"), {
        "GRADER_PLATFORM_TOKENS": PLATFORM, "GRADER_INSTRUCTOR_TOKENS": INSTRUCTOR,
        "GRADER_CALLBACK_SECRET": SECRET, "GRADER_MAX_SOURCE_BYTES": "4096",
        "GRADER_CALLBACK_NETWORKS": "127.0.0.0/8", "GRADER_KEEP_ALIVE_SECONDS": "2",
        "GRADER_BODY_SECONDS": "2"}).start()
    yield server
    server.stop()


def submit(server: Server, source: str, **extra: object) -> httpx.Response:
    params = extra.pop("params", None)
    return httpx.post(f"{server.url}/v1/submissions", headers=P, params=params, timeout=60,
                      json={"exercise_id": "conv2d", "source": source, **extra})


def test_a_correct_submission_is_graded_inline(server: Server) -> None:
    response = submit(server, CORRECT, learner_id="ada")
    assert response.status_code == 200
    report = response.json()["report"]
    assert report["passed"] is True and report["score"] == 4


def test_a_flipped_kernel_is_diagnosed_over_http(server: Server) -> None:
    report = submit(server, FLIPPED).json()["report"]
    assert [d["code"] for d in report["diagnosis"]] == ["flipped_kernel"]


def test_background_grading_and_reading_back(server: Server) -> None:
    response = submit(server, CORRECT, params={"wait": "false"})
    assert response.status_code == 202
    location = response.headers["location"]
    end = time.monotonic() + 30
    while time.monotonic() < end:
        body = httpx.get(f"{server.url}{location}", headers=P).json()
        if body["status"] == "done":
            break
        time.sleep(0.05)
    assert body["report"]["passed"] is True


def test_routes_over_http(server: Server) -> None:
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{server.url}/readyz").json()
    assert ready["ready"] and ready["self_test"] == "passed"
    assert ready["sandbox"]["seccomp"] is True
    assert ready["sandbox"]["landlock_abi"] > 0
    exercises = httpx.get(f"{server.url}/v1/exercises", headers=P).json()["items"]
    assert {e["id"] for e in exercises} >= {"conv2d", "maxpool2d"}
    assert httpx.get(f"{server.url}/v1/exercises/conv2d", headers=P).json()["hidden_cases"] == 2
    page = httpx.get(f"{server.url}/v1/submissions", headers=I,
                     params={"exercise_id": "conv2d", "limit": 2}).json()
    assert page["total"] >= 1 and len(page["items"]) <= 2
    assert httpx.get(f"{server.url}/v1/submissions", headers=P).status_code == 200  # its own
    assert httpx.post(f"{server.url}/v1/submissions", json={}).status_code == 401
    regrade = httpx.post(f"{server.url}/v1/exercises/conv2d/regrade", headers=I)
    assert regrade.status_code == 202 and regrade.json()["queued"] >= 1
    assert httpx.get(f"{server.url}/metrics").status_code == 401  # platform tokens are set
    assert httpx.get(f"{server.url}/metrics", headers=P).status_code == 403  # not its kind
    metrics = httpx.get(f"{server.url}/metrics", headers=I).text
    assert "grader_submissions_total" in metrics and "grader_backlog" in metrics
    assert httpx.get(f"{server.url}/docs").status_code == 200


def _pool_bundle(exercise_id: str, mistake: str = "average_pooling",
                 reference: str = "pool") -> dict:
    """A bundle of maxpool2d's reference.py with a spec of its own."""
    spec = f"""
id = "{exercise_id}"
title = "Bigger pooling"
statement = "Max-pool 2x2."
entry_point = "pool"
reference = "{reference}"

[[arguments]]
name = "image"
distribution = "uniform"
low = -5
high = 5

[[cases]]
name = "big"
shapes = {{ image = [16, 16] }}
points = 2

[[cases]]
name = "hidden odd"
shapes = {{ image = [11, 9] }}
visible = false

[[mistakes]]
code = "average_pooling"
function = "{mistake}"
hint = "use the max"
"""
    return {"files": {"exercise.toml": spec,
                      "reference.py": (REFERENCES / "maxpool2d.py").read_text()}}


def test_head_is_answered_as_get_without_the_body(server: Server) -> None:
    with httpx.Client(base_url=server.url, headers=P) as client:
        for path in ("/healthz", "/readyz", "/v1/exercises/conv2d", "/docs"):
            got, head = client.get(path), client.head(path)
            assert head.status_code == got.status_code == 200, path
            assert head.content == b"", path
            assert head.headers["content-type"] == got.headers["content-type"], path
            assert head.headers["content-length"] == str(len(got.content)), path
        assert client.head("/v1/exercises/nope").status_code == 404
        refused = client.head("/v1/exercises/conv2d/regrade")  # POST alone
        assert refused.status_code == 405 and refused.headers["allow"] == "POST"
        assert httpx.head(f"{server.url}/v1/exercises").status_code == 401  # no token


def test_an_instructor_adds_an_exercise_that_survives_a_restart(tmp_path: Path) -> None:
    server = Server(tmp_path, {"GRADER_INSTRUCTOR_TOKENS": INSTRUCTOR}).start()
    try:
        response = httpx.put(f"{server.url}/v1/exercises/bigpool", headers=I, timeout=60,
                             json=_pool_bundle("bigpool"))
        assert response.status_code == 200, response.text
        assert response.json()["hidden_cases"] == 1
        bad = httpx.put(f"{server.url}/v1/exercises/badpool", headers=I, timeout=60,
                        json=_pool_bundle("badpool", mistake="pool"))
        assert bad.status_code == 422
        assert "passes every case" in bad.json()["detail"]
        unknown = httpx.put(f"{server.url}/v1/exercises/nopool", headers=I, timeout=60,
                            json=_pool_bundle("nopool", reference="os:system"))
        assert unknown.status_code == 422
        assert httpx.put(f"{server.url}/v1/exercises/x", headers=I,
                         json=_pool_bundle("bigpool")).status_code == 422
    finally:
        server.stop()
    server = Server(tmp_path, {"GRADER_INSTRUCTOR_TOKENS": INSTRUCTOR}).start()
    try:
        source = (EXERCISES / "maxpool2d" / "samples" / "correct.py").read_text()
        graded = httpx.post(f"{server.url}/v1/submissions", timeout=60,
                            json={"exercise_id": "bigpool", "source": source}).json()
        assert graded["report"]["passed"] is True and graded["report"]["max_score"] == 3
        assert httpx.get(f"{server.url}/v1/exercises/badpool").status_code == 404
    finally:
        server.stop()


class Receiver:
    """A loopback HTTP server that records callbacks; it fails the first one with 500."""

    def __init__(self) -> None:
        received: list[tuple[dict[str, str], bytes]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers), body))
                self.send_response(500 if len(received) == 1 else 204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.http = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_port}/hook"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


def test_a_callback_is_the_submission_signed_retried_and_recorded(server: Server) -> None:
    receiver = Receiver()
    try:
        submission = submit(server, CORRECT, callback_url=receiver.url).json()
        end = time.monotonic() + 20
        while len(receiver.received) < 2 and time.monotonic() < end:
            time.sleep(0.05)
    finally:
        receiver.close()
    assert len(receiver.received) == 2
    (first, _), (headers, body) = receiver.received
    payload = Webhook(SECRET.encode()).verify(body, headers)  # a plain secret: its bytes
    assert headers["webhook-id"] == first["webhook-id"]  # the same callback, sent again
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Grader-Signature"] == expected  # the old header, for one release
    assert headers["X-Grader-Submission"] == submission["id"]
    view = httpx.get(f"{server.url}/v1/submissions/{submission['id']}", headers=P).json()
    attempts = [(a["attempt"], a["status_code"], a["delivered"])
                for a in view["callback_attempts"]]
    assert attempts == [(1, 500, False), (2, 204, True)]
    # the body is the resource as GET gives it (its expiring link signed a moment apart)
    for key in ("callback_attempts", "report_url"):
        view.pop(key), payload.pop(key)
    assert payload == view and payload["report"]["passed"] is True


def test_kill_9_while_queued_loses_no_submission(tmp_path: Path) -> None:
    env = {"GRADER_SLOTS": "1"}
    server = Server(tmp_path, env).start()
    ids = []
    for i in range(6):
        response = httpx.post(f"{server.url}/v1/submissions", params={"wait": "false"},
                              json={"exercise_id": "conv2d", "source": SLOW,
                                    "learner_id": f"l{i}"}, timeout=30)
        assert response.status_code == 202
        ids.append(response.json()["id"])
    server.kill()
    with sqlite3.connect(tmp_path / "grader.db") as db:
        statuses = dict(db.execute("SELECT id, status FROM submissions").fetchall())
    assert set(statuses) == set(ids)
    assert any(s in ("queued", "running") for s in statuses.values())

    server = Server(tmp_path, env).start()
    try:
        end = time.monotonic() + 60
        done: dict[str, dict] = {}
        while len(done) < len(ids) and time.monotonic() < end:
            for submission_id in ids:
                body = httpx.get(f"{server.url}/v1/submissions/{submission_id}").json()
                if body["status"] == "done":
                    done[submission_id] = body
            time.sleep(0.2)
    finally:
        server.stop()
    assert set(done) == set(ids)
    assert all(body["report"]["passed"] for body in done.values())


def test_a_server_that_cannot_build_seccomp_refuses_to_grade(tmp_path: Path) -> None:
    server = Server(tmp_path, {"GRADER_PLATFORM_TOKENS": PLATFORM,
                               "GRADER_SANDBOX_WITHOUT": "seccomp"}).start(probe="/healthz")
    try:
        ready = httpx.get(f"{server.url}/readyz")
        assert ready.status_code == 503
        assert any("seccomp" in reason for reason in ready.json()["reasons"])
        for params in ({}, {"wait": "false"}):
            response = submit(server, CORRECT, params=params)
            assert response.status_code == 503, response.text
            assert "seccomp" in response.json()["detail"]
            assert "retry-after" in response.headers
        with sqlite3.connect(tmp_path / "grader.db") as db:
            assert db.execute("SELECT count(*) FROM submissions").fetchone() == (0,)
    finally:
        server.stop()


# -- what arrives over the wire ---------------------------------------------------------------

LIMIT = 8 * 4096 + 64 * 1024  # the server's body limit with GRADER_MAX_SOURCE_BYTES=4096


def test_a_chunked_body_over_the_limit_is_413(server: Server) -> None:
    def body() -> Iterator[bytes]:
        yield b'{"exercise_id": "conv2d", "source": "'
        for _ in range(LIMIT // 1024 + 1):
            yield b"#" * 1024
        yield b'"}'

    response = httpx.post(f"{server.url}/v1/submissions", content=body(), timeout=30,
                          headers={**P, "Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert f"over {LIMIT} bytes" in response.json()["detail"]


def test_a_chunked_body_within_the_limit_is_graded(server: Server) -> None:
    def body() -> Iterator[bytes]:
        text = json.dumps({"exercise_id": "conv2d", "source": CORRECT}).encode()
        for start in range(0, len(text), 100):
            yield text[start:start + 100]

    response = httpx.post(f"{server.url}/v1/submissions", content=body(), timeout=60,
                          headers={**P, "Content-Type": "application/json"})
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 200 and response.json()["report"]["passed"] is True


@pytest.mark.parametrize(("framing", "status", "words"), [
    (b"Transfer-Encoding: gzip, chunked\r\n", 501, "transfer coding 'gzip, chunked' is not"),
    (b"Transfer-Encoding: chunked\r\nIdempotency-Key: a\r\nIdempotency-Key: b\r\n", 400,
     "idempotency-key is given more than once"),
    (b"Transfer-Encoding: chunked\r\nContent-Type: text/plain\r\n", 400,
     "content-type is given more than once"),
    (b"Transfer-Encoding: chunked\r\nHost: elsewhere\r\n", 400, "host is given more than once"),
])
def test_headers_a_proxy_could_read_otherwise_are_refused(
        server: Server, framing: bytes, status: int, words: str) -> None:
    """A body in a coding the server does not apply, or a header given twice, is refused
    before anything is stored: a proxy in front might read it otherwise."""
    listed = httpx.get(f"{server.url}/v1/submissions", headers=I, timeout=30).json()["total"]
    body = json.dumps({"exercise_id": "conv2d", "source": CORRECT}).encode()
    connection = connect(server)
    connection.sendall(b"POST /v1/submissions HTTP/1.1\r\nHost: grader\r\n"
                       b"Authorization: Bearer " + PLATFORM.encode() + b"\r\n"
                       b"Content-Type: application/json\r\n" + framing + b"\r\n"
                       + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    _, answer = closed_after(connection)
    head, _, rest = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d" % status), answer[:300]
    assert words in json.loads(rest)["detail"]
    assert httpx.get(f"{server.url}/v1/submissions", headers=I,
                     timeout=30).json()["total"] == listed


def connect(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def closed_after(connection: socket.socket, trickle: bytes = b"") -> tuple[float, bytes]:
    """Seconds until the server closes the connection, and what it answered before; meanwhile
    ``trickle`` is sent a byte every 0.1 s."""
    start = time.monotonic()
    connection.setblocking(False)
    answer = b""
    sent = 0
    with connection:
        while time.monotonic() - start < 15:
            if sent < len(trickle):
                with contextlib.suppress(OSError):
                    sent += connection.send(trickle[sent:sent + 1])
            ready, _, _ = select.select([connection], [], [], 0.1)
            if ready:
                try:
                    data = connection.recv(65536)
                except ConnectionResetError:
                    data = b""
                if not data:
                    return time.monotonic() - start, answer
                answer += data
    raise AssertionError(f"the server kept the connection open for 15 s; it answered {answer!r}")


def test_a_connection_that_sends_nothing_is_closed(server: Server) -> None:
    seconds, answer = closed_after(connect(server))
    assert seconds < 4 and answer == b""


def test_an_idle_connection_after_a_response_is_closed(server: Server) -> None:
    connection = connect(server)
    connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: grader\r\n\r\n")
    seconds, answer = closed_after(connection)
    assert seconds < 4 and answer.startswith(b"HTTP/1.1 200")


def test_a_request_head_sent_a_byte_at_a_time_is_closed(server: Server) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: grader\r\nX-Padding: " + b"x" * 200 + b"\r\n\r\n"
    seconds, answer = closed_after(connect(server), trickle=head)
    assert seconds < 4 and answer == b""


def test_a_body_sent_a_byte_at_a_time_is_408(server: Server) -> None:
    connection = connect(server)
    connection.sendall(b"POST /v1/submissions HTTP/1.1\r\nHost: grader\r\n"
                       b"Authorization: Bearer " + PLATFORM.encode() + b"\r\n"
                       b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
    seconds, answer = closed_after(connection, trickle=b"{" + b" " * 998 + b"}")
    assert seconds < 5
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b"did not arrive within 2 s" in answer


def test_a_request_head_over_64_kib_is_431_and_closed(server: Server) -> None:
    connection = connect(server)
    head = (b"GET /healthz HTTP/1.1\r\nHost: grader\r\n"
            + b"".join(b"X-Padding-%d: %s\r\n" % (n, b"x" * 1000) for n in range(200)))
    with contextlib.suppress(OSError):  # the server may close before it has read it all
        connection.sendall(head + b"\r\n")
    _, answer = closed_after(connection)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert b"application/problem+json" in answer and b"65536 bytes" in answer


def test_a_32_mib_request_head_is_431(server: Server) -> None:
    connection = connect(server)
    with contextlib.suppress(OSError):  # the server may close before the end
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: grader\r\nX-Big: ")
        for _ in range(32):
            connection.sendall(b"x" * (1024 * 1024))
    _, answer = closed_after(connection)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert httpx.get(f"{server.url}/healthz", timeout=30).status_code == 200


def sent_before_closed(connection: socket.socket, chunks: Iterator[bytes]) -> int:
    """How many bytes of ``chunks`` could be sent before the server closed the connection."""
    sent = 0
    with connection:
        try:
            for chunk in chunks:
                connection.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
    return sent


MIB = 1024 * 1024


@pytest.mark.parametrize("one_header", [False, True], ids=["many-headers", "one-header"])
def test_a_head_pipelined_behind_a_request_being_answered_is_bounded(
        server: Server, one_header: bool) -> None:
    """While a request is answered (a slow grading) the next one's head is read by the parser
    ahead of it: past 64 KiB the connection is closed, whether the head comes as many headers
    or as one that never ends (which the parser would keep whole). 64 MiB would be taken
    otherwise, all of it kept in memory."""
    body = json.dumps({"exercise_id": "conv2d", "source": SLOW}).encode()
    connection = connect(server)
    connection.sendall(b"POST /v1/submissions HTTP/1.1\r\nHost: grader\r\n"
                       b"Authorization: Bearer " + PLATFORM.encode() + b"\r\n"
                       b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                       % len(body) + body
                       + b"GET /healthz HTTP/1.1\r\nHost: grader\r\n"
                       + (b"X-Big: " if one_header else b""))
    line = b"x" * 8192 if one_header else b"X-Padding: " + b"x" * 8179 + b"\r\n"
    sent = sent_before_closed(connection, (line * 128 for _ in range(64)))
    assert sent < 32 * MIB, sent
    assert httpx.get(f"{server.url}/healthz", timeout=30).status_code == 200


def test_a_chunked_body_s_trailers_are_bounded_and_nothing_is_stored(server: Server) -> None:
    listed = httpx.get(f"{server.url}/v1/submissions", headers=I, timeout=30).json()["total"]
    body = json.dumps({"exercise_id": "conv2d", "source": CORRECT}).encode()
    connection = connect(server)
    connection.sendall(b"POST /v1/submissions?wait=false HTTP/1.1\r\nHost: grader\r\n"
                       b"Authorization: Bearer " + PLATFORM.encode() + b"\r\n"
                       b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                       + b"%x\r\n%s\r\n0\r\n" % (len(body), body))
    line = b"X-Trailer: " + b"x" * 8179 + b"\r\n"
    sent = sent_before_closed(connection, (line * 128 for _ in range(64)))
    assert sent < 32 * MIB, sent
    assert httpx.get(f"{server.url}/v1/submissions", headers=I,
                     timeout=30).json()["total"] == listed


def read_until(connection: socket.socket, ends: bytes, seconds: float = 30.0) -> bytes:
    """What arrives until ``ends`` is in it (or the connection closes, or ``seconds``)."""
    connection.settimeout(seconds)
    got = b""
    with contextlib.suppress(OSError):
        while ends not in got:
            data = connection.recv(65536)
            if not data:
                break
            got += data
    return got


def test_a_trailer_sent_in_one_large_read_is_bounded_too(server: Server) -> None:
    """The parser takes a read whole; what follows its last callback in that read counts as
    well: 130,000 bytes of one trailer, then 60,000 more, are refused, not held."""
    body = json.dumps({"exercise_id": "conv2d", "source": CORRECT}).encode()
    connection = connect(server)
    connection.sendall(b"POST /v1/submissions?wait=false HTTP/1.1\r\nHost: grader\r\n"
                       b"Authorization: Bearer " + PLATFORM.encode() + b"\r\n"
                       b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                       + b"%x\r\n%s\r\n0\r\nX-T: " % (len(body), body) + b"t" * 130_000)
    with connection:
        with contextlib.suppress(OSError):
            connection.sendall(b"t" * 60_000)
        # closed at once, without an answer; held, it would meet the body's deadline (408)
        rest = read_until(connection, b"HTTP/1.1")
    assert b"HTTP/1.1" not in rest, rest


def test_trailers_over_the_bound_after_the_answer_close_without_a_second_answer(
        server: Server) -> None:
    """A request answered before its body's end (refused before it is read: a NUL in its
    path), whose trailers then pass 64 KiB: the connection is closed, no 431 follows."""
    connection = connect(server)
    with connection:
        connection.sendall(b"POST /v1/submissions/a%00b HTTP/1.1\r\nHost: grader\r\n"
                           b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                           b"\r\n2\r\n{}\r\n0\r\nX-T: ")
        answered = read_until(connection, b"}")  # after the refusal's lingering read
        assert answered.startswith(b"HTTP/1.1 422"), answered
        with contextlib.suppress(OSError):
            connection.sendall(b"t" * 100_000)
        rest = read_until(connection, b"HTTP/1.1")
    assert b"HTTP/1.1" not in rest, rest


def test_a_request_head_within_64_kib_is_served(server: Server) -> None:
    response = httpx.get(f"{server.url}/healthz", headers={"X-Padding": "x" * 40_000},
                         timeout=30)
    assert response.status_code == 200


@pytest.mark.parametrize("request_bytes", [
    b"POST /v1/submissions HTTP/1.1\r\nHost: grader\r\nTransfer-Encoding: chunked\r\n"
    b"Content-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n",  # two framings: a smuggling attempt
    b"POST /v1/submissions HTTP/1.1\r\nHost: grader\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"zz\r\nhello\r\n0\r\n\r\n",  # a chunk size that is not hex
    b"POST /v1/submissions HTTP/1.1\r\nHost: grader\r\nContent-Length: -1\r\n\r\n",
    b"GET /v1/submissions/a\x00b HTTP/1.1\r\nHost: grader\r\n\r\n",
    b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\x00" * 64,  # TLS to a plain port
], ids=["te-and-cl", "bad-chunk", "negative-length", "nul-in-target", "tls-hello"])
def test_a_request_http_cannot_parse_is_400_problem_json_and_closed(
        server: Server, request_bytes: bytes) -> None:
    connection = connect(server)
    connection.sendall(request_bytes)
    _, answer = closed_after(connection)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), answer[:300]
    assert b"content-type: application/problem+json" in head.lower()
    problem = json.loads(body)
    assert problem["status"] == 400 and "not valid HTTP/1.1" in problem["detail"]
    assert httpx.get(f"{server.url}/healthz", timeout=30).status_code == 200
