"""The report page in a real headless Chromium, served by a real ``grader serve``.

Chromium is not installed by the tests: CI installs Debian's package (``.ci/run``); where it
is missing, these tests skip and say so. Layout is measured over the DevTools protocol
(``tests/devtools.py``). Full-page screenshots of four reports (a flipped kernel, a syntax
error, a timeout, a pass) on a phone's width and a desktop's are written to
``test-artifacts/``, for a person to look at.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import EXERCISES, ROOT, Server
from tests.devtools import Browser

pytestmark = [
    pytest.mark.processes,
    pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                       reason="/usr/bin/chromium is missing (apt-get install chromium)"),
]

PLATFORM = "platform-token-browser-0123"
ARTIFACTS = ROOT / "test-artifacts"
SAMPLES = EXERCISES / "conv2d" / "samples"
SUBMISSIONS = ROOT / "tests" / "submissions"
REPORTS = {  # the reports looked at, by the name of their screenshots
    "flipped_kernel": SAMPLES / "flipped_kernel.py",
    "syntax_error": SUBMISSIONS / "syntax_error.py",
    "timeout": SUBMISSIONS / "infinite_loop.py",
    "passed": SAMPLES / "correct_numpy.py",
}
PHONE, DESKTOP = (390, 844), (1280, 900)


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless, offline: every host name fails to resolve but the loopback address."""
    return subprocess.run(
        ["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-default-apps", f"--user-data-dir={profile}",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", *args],
        capture_output=True, text=True, timeout=120)


def requested_by_page(net_log: Path, site: str) -> set[str]:
    """Every URL requested on behalf of a page of ``site``, from the browser's NetLog: the
    requests whose network isolation key has that site as its top frame. (Chromium's own
    background requests, for updates or the clock, have another key or none.)"""
    text = net_log.read_text().rstrip()
    if not text.endswith("}"):  # a log cut short lacks its closing brackets
        text = text.rstrip(",") + "]}"
    log = json.loads(text)
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = set()
    for event in log["events"]:
        params = event.get("params") or {}
        if event["type"] == start and \
                str(params.get("network_isolation_key", "")).startswith(site + " "):
            urls.add(params["url"])
    return urls


@pytest.fixture(scope="module")
def page_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The report page of each of ``REPORTS``, graded by a real server."""
    server = Server(tmp_path_factory.mktemp("browser-server"),
                    {"GRADER_PLATFORM_TOKENS": PLATFORM}).start()
    try:
        urls = {}
        for name, path in REPORTS.items():
            response = httpx.post(f"{server.url}/v1/submissions", timeout=120,
                                  headers={"Authorization": f"Bearer {PLATFORM}"},
                                  json={"exercise_id": "conv2d", "source": path.read_text()})
            assert response.status_code == 200, response.text
            urls[name] = server.url + response.json()["report_url"]
        yield urls
    finally:
        server.stop()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    opened = Browser(tmp_path / "profile")
    try:
        yield opened
    finally:
        opened.close()


def test_the_page_renders_its_heatmaps_with_text_alternatives(page_urls, tmp_path) -> None:
    done = chromium(tmp_path / "profile", "--dump-dom", page_urls["flipped_kernel"])
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    # two visible cases: the image and the kernel, expected, yours and the difference
    assert dom.count('<svg class="heatmap"') == 10
    assert dom.count("<title>Difference, yours minus expected: ") == 2
    assert dom.count("you flipped the kernel (textbook") == 1
    assert dom.count("<strong>flipped kernel</strong>") == 1
    assert dom.count('<section class="case hidden">') == 2


def test_the_page_requests_nothing_but_itself(page_urls, tmp_path) -> None:
    net_log = tmp_path / "net-log.json"
    url = page_urls["flipped_kernel"]
    done = chromium(tmp_path / "profile", f"--log-net-log={net_log}", "--dump-dom", url)
    assert done.returncode == 0, done.stderr[-2000:]
    assert requested_by_page(net_log, "http://127.0.0.1") == {url}


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_diagnosis_is_on_the_first_screen_above_the_first_heatmap(page_urls, browser,
                                                                      size) -> None:
    width, height = size
    browser.open(page_urls["flipped_kernel"], width, height)
    diagnosis, heatmap = browser.top("#diagnosis"), browser.top("svg.heatmap")
    hint = browser.top("#diagnosis .hint")
    assert diagnosis is not None and heatmap is not None and hint is not None
    assert diagnosis < hint < heatmap
    assert hint < height / 2, f"the hint starts at {hint} px of a {height} px screen"


def test_an_error_and_a_timeout_say_so_first_and_draw_no_heatmap(page_urls, browser) -> None:
    for name in ("syntax_error", "timeout"):
        browser.open(page_urls[name], *PHONE)
        assert browser.top("svg.heatmap") is None, name
        lead = browser.top("#diagnosis pre")
        assert lead is not None and lead < PHONE[1] / 2, name


def test_screenshots_of_four_reports_on_a_phone_and_a_desktop_are_kept(page_urls,
                                                                       browser) -> None:
    """Whole pages; the files are for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    for name, url in page_urls.items():
        for (width, height), label in ((PHONE, "phone"), (DESKTOP, "desktop")):
            shot = ARTIFACTS / f"report_{name}_{label}.png"
            browser.open(url, width, height)
            browser.screenshot(shot, width)
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert shot.stat().st_size > 10_000
            print(f"screenshot: {shot}")
