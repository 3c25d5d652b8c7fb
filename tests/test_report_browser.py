"""The report page in a real headless Chromium, served by a real ``grader serve``.

Chromium is not installed by the tests: CI installs Debian's package (``.ci/run``); where it
is missing, these tests skip and say so. The flipped-kernel report's screenshot is kept in
``test-artifacts/`` (git-ignored) and in the test's own temporary folder, which it prints.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import EXERCISES, ROOT, Server

pytestmark = [
    pytest.mark.processes,
    pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                       reason="/usr/bin/chromium is missing (apt-get install chromium)"),
]

PLATFORM = "platform-token-browser-0123"
ARTIFACTS = ROOT / "test-artifacts"
FLIPPED = (EXERCISES / "conv2d" / "samples" / "flipped_kernel.py").read_text()


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
def page_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = Server(tmp_path_factory.mktemp("browser-server"),
                    {"GRADER_PLATFORM_TOKENS": PLATFORM}).start()
    try:
        response = httpx.post(f"{server.url}/v1/submissions", timeout=60,
                              headers={"Authorization": f"Bearer {PLATFORM}"},
                              json={"exercise_id": "conv2d", "source": FLIPPED})
        assert response.status_code == 200, response.text
        yield server.url + response.json()["report_url"]
    finally:
        server.stop()


def test_the_page_renders_its_heatmaps_with_text_alternatives(page_url, tmp_path) -> None:
    done = chromium(tmp_path / "profile", "--dump-dom", page_url)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert dom.count('<svg class="heatmap"') == 6  # two visible cases, three pictures each
    assert dom.count("<title>Difference, yours minus expected: ") == 2
    assert "flipped kernel</strong>: you flipped the kernel" in dom
    assert dom.count('<section class="case hidden">') == 2


def test_the_page_requests_nothing_but_itself(page_url, tmp_path) -> None:
    net_log = tmp_path / "net-log.json"
    done = chromium(tmp_path / "profile", f"--log-net-log={net_log}", "--dump-dom", page_url)
    assert done.returncode == 0, done.stderr[-2000:]
    assert requested_by_page(net_log, "http://127.0.0.1") == {page_url}


def test_screenshots_of_the_flipped_kernel_report_are_kept(page_url, tmp_path) -> None:
    """On a desktop window and on a phone's; the files are for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    for name, size in [("flipped_kernel_report.png", "1200,1800"),
                       ("flipped_kernel_report_phone.png", "390,844")]:
        shot = tmp_path / name
        done = chromium(tmp_path / "profile", f"--screenshot={shot}", f"--window-size={size}",
                        page_url)
        assert done.returncode == 0, done.stderr[-2000:]
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
        shutil.copy(shot, ARTIFACTS / name)
        print(f"screenshot: {shot} (and {ARTIFACTS / name})")
