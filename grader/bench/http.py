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

import httpx

from grader.bench.measure import Baselines, free_port, measure
from grader.bench.stages import snapshot, table


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


def base_env(data: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GRADER_DATA_DIR": data,
            "GRADER_LOG_LEVEL": "WARNING", "GRADER_BACKLOG": "1000"}


def http_rows(source: str, count: int, clients: int, baselines: Baselines) -> list[str]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as data:
        server = start(["serve", "--port", str(port)], base_env(data),
                       f"http://127.0.0.1:{port}/readyz")
        try:
            one = poster(port, source)
            for _ in range(10):
                one(0)  # warm
            rows, accounts = [], []
            for n in sorted({1, 8, clients}):
                before = snapshot(port, server.pid)
                rows.append(measure("(b) HTTP, correct_numpy", n, count, one).line(baselines))
                time.sleep(0.3)  # the last children reaped
                accounts.append((n, table(before, snapshot(port, server.pid), count)))
            for n, lines in accounts:
                rows.append(f"(b) HTTP, {n} clients: " + lines[0])
                rows.extend(lines[1:])
            return rows
        finally:
            stop(server)
