"""The instructor's exercise page in a real headless Chromium, driven through the DevTools
protocol, served by a real ``grader serve`` after a mix of submissions graded in the real
sandbox: the browser signs in with the form, opens conv2d, and the numbers it shows are the
summary's. Screenshots at 390 px (a phone) and 1280 px are kept in ``test-artifacts/``.

Chromium is not installed by the tests: where /usr/bin/chromium is missing, this skips."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, Server
from tests.devtools import Browser
from tests.test_instructor_pages import ALICE, graded_server

pytestmark = [
    pytest.mark.processes,
    pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                       reason="/usr/bin/chromium is missing (apt-get install chromium)"),
]
ARTIFACTS = ROOT / "test-artifacts"


def opened(browser: Browser, url: str, path: str) -> None:
    """``url`` navigated to, until the page at ``path`` (where it redirects) has loaded."""
    browser.call("Page.navigate", url=url)
    browser.wait_for(path)


def shot(browser: Browser, width: int, target: Path) -> int:
    """A full-page screenshot at ``width`` CSS pixels; returns the page's width."""
    browser.call("Emulation.setDeviceMetricsOverride", width=width, height=800,
                 deviceScaleFactor=1, mobile=width < 600)
    browser.screenshot(target, width)
    return int(browser.evaluate("document.documentElement.scrollWidth"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with graded_server(tmp_path_factory.mktemp("instructor-browser")) as running:
        yield running


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
    opened(browser, f"{server.url}/instructor/exercises/conv2d", "/instructor/sign-in")
    browser.evaluate(f"document.getElementById('token').value = {json.dumps(ALICE)};"
                     "document.querySelector('form').submit()")
    browser.wait_for("/instructor/exercises")
    ARTIFACTS.mkdir(exist_ok=True)
    assert shot(browser, 390, ARTIFACTS / "instructor-exercises-390.png") <= 390
    opened(browser, f"{server.url}/instructor/exercises/conv2d",
           "/instructor/exercises/conv2d")
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
    assert shot(browser, 390, ARTIFACTS / "instructor-exercise-390.png") <= 390
    assert shot(browser, 1280, ARTIFACTS / "instructor-exercise-1280.png") <= 1280
    opened(browser, f"{server.url}/instructor/exercises/conv2d/versions",
           "/instructor/exercises/conv2d/versions")
    assert browser.evaluate("document.querySelectorAll('tr[data-version]').length") == 1
    assert shot(browser, 390, ARTIFACTS / "instructor-versions-390.png") <= 390
