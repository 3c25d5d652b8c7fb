"""The learner's page in a real headless Chromium: launched from the test platform as a
browser is (the tool's login redirect, the platform's auth page posting the id_token back),
drawn, and kept as a screenshot in ``test-artifacts/lti-learner-page.png``."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from tests.lti.platform import LEARNER, Plan
from tests.test_report_browser import ARTIFACTS, chromium, requested_by_page

pytestmark = [
    pytest.mark.processes,
    pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                       reason="/usr/bin/chromium is missing (apt-get install chromium)"),
]


def login_url(tool_url: str, platform) -> str:  # type: ignore[no-untyped-def]
    return f"{tool_url}/lti/login?" + urlencode({
        "iss": platform.issuer, "login_hint": "hint", "client_id": platform.client_id,
        "target_link_uri": f"{tool_url}/lti/launch"})


def test_a_learner_launched_in_chromium_sees_the_exercise_and_a_form(
        tool_server, platform, tmp_path) -> None:
    platform.plan = Plan(user="learner-chromium", roles=[LEARNER])
    net_log = tmp_path / "net-log.json"
    done = chromium(tmp_path / "profile", "--virtual-time-budget=15000",
                    f"--log-net-log={net_log}", "--dump-dom",
                    login_url(tool_server.url, platform))
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert "2D convolution, as in deep learning" in dom
    assert "do <strong>not</strong>" not in dom and "do **not** flip the kernel" in dom
    assert '<form method="post" action="/lti/submit">' in dom
    assert "def conv(image, kernel):" in dom and "Submit for grading" in dom
    assert "/instructor/" not in dom
    requested = requested_by_page(net_log, "http://127.0.0.1")
    to_the_tool = {urlsplit(url).path for url in requested if url.startswith(tool_server.url)}
    assert to_the_tool == {"/lti/login", "/lti/launch"}  # no asset: no script, font, icon


def test_the_learner_page_screenshot_is_kept(tool_server, platform, tmp_path) -> None:
    platform.plan = Plan(user="learner-screenshot", roles=[LEARNER])
    ARTIFACTS.mkdir(exist_ok=True)
    shot = tmp_path / "lti-learner-page.png"
    done = chromium(tmp_path / "profile", "--virtual-time-budget=15000",
                    f"--screenshot={shot}", "--window-size=1000,1000",
                    login_url(tool_server.url, platform))
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    shutil.copy(shot, ARTIFACTS / shot.name)
    print(f"screenshot: {shot} (and {ARTIFACTS / shot.name})")
