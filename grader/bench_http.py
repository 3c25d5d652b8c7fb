"""The HTTP rows of the benchmark: a real ``grader serve`` process and concurrent clients."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time

import httpx

from grader.bench import Figures, measure


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http_rows(source: str, count: int, clients: int, baseline: Figures) -> list[str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as data:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GRADER_DATA_DIR": data,
               "GRADER_LOG_LEVEL": "WARNING", "GRADER_BACKLOG": "1000"}
        server = subprocess.Popen([sys.executable, "-m", "grader.cli", "serve", "--port",
                                   str(port)], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            end = time.monotonic() + 60
            while time.monotonic() < end:
                try:
                    if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            body = {"exercise_id": "conv2d", "source": source}
            rows = []
            with httpx.Client(base_url=url, timeout=60,
                              limits=httpx.Limits(max_connections=64)) as client:

                def one(_: int) -> None:
                    response = client.post("/v1/submissions", json=body)
                    assert response.status_code == 200, response.text
                    assert response.json()["report"]["passed"], response.text

                for _ in range(10):
                    one(0)  # warm
                for n in sorted({1, 8, clients}):
                    rows.append(measure("(b) HTTP, correct_numpy", n, count, one)
                                .line(baseline))
            return rows
        finally:
            server.terminate()
            server.wait(timeout=30)
