"""The HTTP rows of the benchmark: a real ``grader serve`` process and concurrent clients."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from grader.bench.floor import measured_apart
from grader.bench.measure import Baselines, free_port, measure
from grader.bench.stages import snapshot, stat, table
from grader.catalog.spec import ExerciseSpec


def start(command: list[str], env: dict[str, str], probe: str | None) -> subprocess.Popen[bytes]:
    """A grader process; waits until ``probe`` (a URL) answers 200."""
    process = subprocess.Popen([sys.executable, "-m", "grader.cli", *command], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 60
    while probe is not None and time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError(f"grader {' '.join(command)} exited with {process.returncode}")
        try:
            if httpx.get(probe, timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def poster(port: int, source: str) -> Callable[[int], None]:
    """One synchronous POST of a correct submission, checked, per call; one keep-alive
    connection per client thread, with the stdlib's light client, so that the clients take as
    little as they can of the CPUs the server runs on."""
    body = json.dumps({"exercise_id": "conv2d", "source": source}).encode()
    headers = {"Content-Type": "application/json"}
    local = threading.local()

    def one(_: int) -> None:
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        local.connection.request("POST", "/v1/submissions", body, headers)
        response = local.connection.getresponse()
        data = response.read()
        assert response.status == 200, data[:500]
        assert json.loads(data)["report"]["passed"], data[:500]

    return one


# A course's submissions, one cycle of 20 in the bench's order: 12 right (in six styles), 6
# wrong (known mistakes, each diagnosed), 2 broken (a crash, an import the sandbox lacks).
COURSE_MIX = (
    ("correct_numpy", 4), ("correct_loops", 4), ("correct_lists", 1), ("correct_tensordot", 1),
    ("correct_as_strided", 1), ("correct_kernel_loop", 1), ("flipped_kernel", 2),
    ("same_padding", 1), ("kernel_transposed", 1), ("loop_range_h_minus_1", 1),
    ("integer_truncation", 1), ("python2_xrange", 1), ("imports_matplotlib", 1),
)


def course_cycle() -> list[str]:
    """One cycle of the mix: each sample's name as many times as it comes, in order."""
    return [name for name, times in COURSE_MIX for _ in range(times)]


def sample_verdicts(spec: ExerciseSpec) -> dict[str, list[str]]:
    """Each sample's name (its file without ``.py``) and the verdicts it declares."""
    return {sample.file.removesuffix(".py"): sample.expect for sample in spec.samples}


class CoursePoster:
    """One POST per call of the mix's next submission, checked against its sample's expected
    verdicts per case; one keep-alive connection per client thread."""

    def __init__(self, port: int, samples: Path, expected: dict[str, list[str]]) -> None:
        self.port = port
        self.cycle = course_cycle()
        self.bodies = {name: json.dumps({"exercise_id": "conv2d",
                                         "source": (samples / f"{name}.py").read_text()}).encode()
                       for name in set(self.cycle)}
        self.expected = expected
        self.local = threading.local()
        self.connections: list[http.client.HTTPConnection] = []

    def __call__(self, i: int) -> None:
        name = self.cycle[i % len(self.cycle)]
        if not hasattr(self.local, "connection"):
            self.local.connection = http.client.HTTPConnection("127.0.0.1", self.port,
                                                               timeout=60)
            self.connections.append(self.local.connection)
        self.local.connection.request("POST", "/v1/submissions", self.bodies[name],
                                      {"Content-Type": "application/json"})
        response = self.local.connection.getresponse()
        data = response.read()
        assert response.status == 200, data[:500]
        got = [case["status"] for case in json.loads(data)["report"]["cases"]]
        assert got == self.expected[name], (name, got)

    def close(self) -> None:
        for connection in self.connections:
            connection.close()


def web_floor(port: int, server_pid: int, count: int = 1000) -> float:
    """The server's CPU time, in ms, for one ``GET /healthz`` (which does no work of its own):
    what the HTTP layer, the middleware, the routing and a JSON answer cost any request."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        before, _ = stat(server_pid)
        for _ in range(count):
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            response.read()
            assert response.status == 200, response.status
        after, _ = stat(server_pid)
    finally:
        connection.close()
    return (after - before) * 1000 / count


def base_env(data: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GRADER_DATA_DIR": data,
            "GRADER_LOG_LEVEL": "WARNING", "GRADER_BACKLOG": "1000"}


def http_rows(source: str, count: int, clients: int, baselines: Baselines,
              course: Baselines | None = None,
              mix: Callable[[int], CoursePoster] | None = None) -> list[str]:
    """The HTTP rows of one correct submission, 1, 8 and ``clients`` clients, then (given
    ``mix``, which makes a poster for a port) a course's mix at 8 clients, compared with
    ``course``, the mix's baseline; each with its CPU account by stage."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as data:
        server = start(["serve", "--port", str(port)], base_env(data),
                       f"http://127.0.0.1:{port}/readyz")
        try:
            one = poster(port, source)
            for _ in range(10):
                one(0)  # warm
            rows, accounts = [], []
            rows.append(f"(b) the web layer's floor: a GET /healthz takes the server "
                        f"{web_floor(port, server.pid):.3f} ms of CPU (HTTP, middleware, "
                        f"routing, a JSON answer; no work of its own)")
            floor = measured_apart()
            rows.append(f"(b) a child's floor: in a process with the learner modules loaded "
                        f"(RSS {floor.rss_mib:.1f} MiB), a fork and an exit with no work "
                        f"{floor.fork_exit_ms:.2f} ms of CPU, each page written after the "
                        f"fork {floor.page_us:.2f} us")
            for n in sorted({1, 8, clients}):
                before = snapshot(port, server.pid)
                rows.append(measure("(b) HTTP, correct_numpy", n, count, one).line(baselines))
                time.sleep(0.3)  # the last children reaped
                accounts.append((f"{n} clients", table(before, snapshot(port, server.pid),
                                                       count, floor)))
            if mix is not None:
                mixed = mix(port)
                try:
                    for i in range(len(mixed.cycle)):
                        mixed(i)  # warm: each kind's first grading
                    before = snapshot(port, server.pid)
                    rows.append(measure("(b) HTTP, a course's mix", 8, count,
                                        mixed).line(course or baselines))
                finally:
                    mixed.close()
                time.sleep(0.3)
                accounts.append(("a course's mix, 8 clients",
                                 table(before, snapshot(port, server.pid), count, floor)))
            for what, lines in accounts:
                rows.append(f"(b) HTTP, {what}: " + lines[0])
                rows.extend(lines[1:])
            return rows
        finally:
            stop(server)
