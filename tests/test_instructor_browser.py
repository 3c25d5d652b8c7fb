"""The instructor's exercise page in a real headless Chromium, driven through the DevTools
protocol, served by a real ``grader serve`` after a mix of submissions graded in the real
sandbox: the browser signs in with the form, opens conv2d, and the numbers it shows are the
summary's. Screenshots at 390 px (a phone) and 1280 px are kept in ``test-artifacts/``.

Chromium is not installed by the tests: where /usr/bin/chromium is missing, this skips."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from tests.conftest import ROOT, Server
from tests.test_instructor_pages import ALICE, MIX, PLATFORM, SECRET, source

pytestmark = [
    pytest.mark.processes,
    pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                       reason="/usr/bin/chromium is missing (apt-get install chromium)"),
]
ARTIFACTS = ROOT / "test-artifacts"


class Browser:
    """One page of a headless Chromium, spoken to over the DevTools protocol."""

    def __init__(self, profile: Path) -> None:
        self.process = subprocess.Popen(
            ["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--disable-background-networking", "--disable-sync",
             "--disable-component-update", f"--user-data-dir={profile}",
             "--remote-debugging-port=0", "--hide-scrollbars",
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        end = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text().strip():
            assert time.monotonic() < end, "Chromium did not open its DevTools port"
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        pages = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=30).json()
        target = next(p for p in pages if p["type"] == "page")
        self.stack = contextlib.ExitStack()
        self.socket: ClientConnection = self.stack.enter_context(
            connect(target["webSocketDebuggerUrl"], max_size=64 * 2**20))
        self.ids = itertools.count(1)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self.ids)
        self.socket.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") == number:
                assert "error" not in message, message
                return dict(message["result"])

    def evaluate(self, expression: str) -> Any:
        return self.send("Runtime.evaluate", expression=expression,
                         returnByValue=True)["result"].get("value")

    def wait_for(self, path: str) -> None:
        end = time.monotonic() + 60
        while self.evaluate("location.pathname + ' ' + document.readyState") != \
                f"{path} complete":
            assert time.monotonic() < end, self.evaluate("location.href")
            time.sleep(0.1)

    def open(self, url: str, path: str) -> None:
        self.send("Page.navigate", url=url)
        self.wait_for(path)

    def screenshot(self, width: int, target: Path) -> int:
        """A full-page screenshot at ``width`` CSS pixels; returns the page's width."""
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=800,
                  deviceScaleFactor=1, mobile=width < 600)
        height = int(self.evaluate("document.documentElement.scrollHeight"))
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=width < 600)
        shot = self.send("Page.captureScreenshot", format="png")
        target.write_bytes(base64.b64decode(shot["data"]))
        return int(self.evaluate("document.documentElement.scrollWidth"))

    def close(self) -> None:
        self.stack.close()
        self.process.kill()
        self.process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("instructor-browser"), {
        "GRADER_PLATFORM_TOKENS": PLATFORM, "GRADER_INSTRUCTOR_TOKENS": f"alice:{ALICE}",
        "GRADER_HIDDEN_SECRET": SECRET}).start()
    try:
        for learner, sample in MIX:
            answer = httpx.post(f"{running.url}/v1/submissions", timeout=120,
                                headers={"Authorization": f"Bearer {PLATFORM}"},
                                json={"exercise_id": "conv2d", "learner_id": learner,
                                      "source": source(sample)})
            assert answer.status_code == 200, answer.text
        yield running
    finally:
        running.stop()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    opened = Browser(tmp_path / "profile")
    try:
        yield opened
    finally:
        opened.close()


SHOWN = """JSON.stringify({
  figures: Object.fromEntries([...document.querySelectorAll('[data-figure]')]
    .map(e => [e.dataset.figure, e.textContent])),
  mistakes: Object.fromEntries([...document.querySelectorAll('[data-mistake]')]
    .map(e => [e.dataset.mistake, e.textContent])),
  cases: Object.fromEntries([...document.querySelectorAll('[data-case]')]
    .map(e => [e.dataset.case, e.textContent])),
  rows: document.querySelectorAll('tr[data-submission]').length,
  charts: document.querySelectorAll('.chart svg rect').length})"""


def test_a_browser_signs_in_and_sees_the_summarys_numbers(server: Server,
                                                         browser: Browser) -> None:
    summary = httpx.get(f"{server.url}/v1/exercises/conv2d/summary", timeout=30,
                        headers={"Authorization": f"Bearer {ALICE}"}).json()
    browser.open(f"{server.url}/instructor/exercises/conv2d", "/instructor/sign-in")
    browser.evaluate(f"document.getElementById('token').value = {json.dumps(ALICE)};"
                     "document.querySelector('form').submit()")
    browser.wait_for("/instructor/exercises")
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.screenshot(390, ARTIFACTS / "instructor-exercises-390.png") <= 390
    browser.open(f"{server.url}/instructor/exercises/conv2d", "/instructor/exercises/conv2d")
    shown = json.loads(browser.evaluate(SHOWN))
    assert shown["figures"]["submissions"] == str(summary["submissions"]) == "10"
    assert shown["figures"]["passed"] == str(summary["passed"]) == "5"
    assert shown["figures"]["learners"] == str(summary["learners"])
    assert shown["figures"]["median_attempts"] == f"{summary['median_attempts_to_pass']:g}"
    assert shown["mistakes"] == {m["mistake"]: str(m["submissions"])
                                 for m in summary["mistakes"]}
    assert shown["mistakes"] == {"flipped_kernel": "3", "same_padding": "2"}
    assert shown["cases"] == {c["name"]: f"{100 * c['rate']:.0f}%" for c in summary["cases"]}
    assert shown["rows"] == 10
    assert shown["charts"] == 11 + 4 + 2  # score buckets, cases, mistakes
    assert browser.screenshot(390, ARTIFACTS / "instructor-exercise-390.png") <= 390
    assert browser.screenshot(1280, ARTIFACTS / "instructor-exercise-1280.png") <= 1280
    browser.open(f"{server.url}/instructor/exercises/conv2d/versions",
                 "/instructor/exercises/conv2d/versions")
    assert browser.evaluate("document.querySelectorAll('tr[data-version]').length") == 1
    assert browser.screenshot(390, ARTIFACTS / "instructor-versions-390.png") <= 390
