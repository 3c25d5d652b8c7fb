"""``make serve`` listens where HOST and PORT say."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.skipif(shutil.which("make") is None or not (ROOT / "Makefile").exists(),
                                reason="no make, or no Makefile (an installed package)")


def test_make_serve_passes_host_and_port_on() -> None:
    shown = subprocess.run(["make", "-n", "serve", "HOST=0.0.0.0", "PORT=8100"], cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert "grader serve --host 0.0.0.0 --port 8100" in shown.stdout
    default = subprocess.run(["make", "-n", "serve"], cwd=ROOT, capture_output=True, text=True,
                             timeout=60, env={k: v for k, v in os.environ.items()
                                              if k not in ("HOST", "PORT")})
    assert "grader serve --host 127.0.0.1 --port 8000" in default.stdout


@pytest.mark.processes
@pytest.mark.skipif(not (ROOT / ".venv" / ".installed").exists(),
                    reason="no .venv made by `make install` in the checkout")
def test_make_serve_answers_on_the_port_given(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "GRADER_DATA_DIR": str(tmp_path / "data"), "GRADER_SLOTS": "1"}
    with open(tmp_path / "make.log", "wb") as log:
        serving = subprocess.Popen(["make", "serve", f"PORT={port}"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        end = time.monotonic() + 120
        answer = None
        while answer is None and time.monotonic() < end and serving.poll() is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            except httpx.HTTPError:
                time.sleep(0.2)
        assert answer is not None, (tmp_path / "make.log").read_text()
        assert answer.json() == {"status": "ok"}
    finally:
        os.killpg(serving.pid, signal.SIGTERM)
        serving.wait(timeout=60)
