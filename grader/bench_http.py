"""The HTTP rows of the benchmark: a real ``grader serve`` process and concurrent clients."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

import httpx

from grader.bench import Baselines, measure


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http_rows(source: str, count: int, clients: int, baselines: Baselines) -> list[str]:
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
            body = json.dumps({"exercise_id": "conv2d", "source": source}).encode()
            headers = {"Content-Type": "application/json"}
            # One keep-alive connection per client thread, with the stdlib's light client, so
            # that the clients take as little as they can of the CPUs the server runs on.
            local = threading.local()

            def one(_: int) -> None:
                if not hasattr(local, "connection"):
                    local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                local.connection.request("POST", "/v1/submissions", body, headers)
                response = local.connection.getresponse()
                data = response.read()
                assert response.status == 200, data[:500]
                assert json.loads(data)["report"]["passed"], data[:500]

            for _ in range(10):
                one(0)  # warm
            return [measure("(b) HTTP, correct_numpy", n, count, one).line(baselines)
                    for n in sorted({1, 8, clients})]
        finally:
            server.terminate()
            server.wait(timeout=30)
