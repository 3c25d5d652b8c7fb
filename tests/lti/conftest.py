from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Server
from tests.lti.platform import Platform

INSTRUCTOR_TOKEN = "instructor-token-lti-0123456789"


def grader_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GRADER_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def form_fields(page: str) -> dict[str, str]:
    """The hidden inputs of a page's (first) form, as a browser would post them."""
    return {name: html.unescape(value) for name, value in
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)}


def form_action(page: str) -> str:
    found = re.search(r'<form[^>]* action="([^"]+)"', page)
    assert found, page[:500]
    return html.unescape(found.group(1))


class Browser:
    """A browser's part in a launch, over real HTTP: it follows the tool's redirect to the
    platform and posts the platform's auto-submitted form to the tool. No cookie is kept."""

    def __init__(self, tool_url: str, platform: Platform) -> None:
        self.tool_url = tool_url
        self.platform = platform
        self.http = httpx.Client(timeout=60, follow_redirects=False)

    def login(self) -> httpx.Response:
        return self.http.get(f"{self.tool_url}/lti/login", params={
            "iss": self.platform.issuer, "login_hint": "hint-user",
            "target_link_uri": f"{self.tool_url}/lti/launch",
            "lti_message_hint": "message-hint-9", "client_id": self.platform.client_id})

    def authorized_form(self) -> dict[str, str]:
        """Login, then the platform's auth answer: the id_token and state it posts back."""
        redirect = self.login()
        assert redirect.status_code == 302, redirect.text
        answer = self.http.get(redirect.headers["location"])
        assert answer.status_code == 200, answer.text
        return form_fields(answer.text)

    def launch(self, form: dict[str, str]) -> httpx.Response:
        return self.http.post(f"{self.tool_url}/lti/launch", data=form)

    def post(self, path: str, form: dict[str, str]) -> httpx.Response:
        return self.http.post(f"{self.tool_url}{path}", data=form)


def wait_for(condition, seconds: float = 60.0):  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    return condition()


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    found = Platform().start()
    yield found
    found.stop()


@pytest.fixture(scope="module")
def tool_server(platform: Platform, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("lti-grader")
    registered = grader_cli(data_dir, "lti", "add-platform", *platform.registration())
    assert registered.returncode == 0, registered.stderr
    server = Server(data_dir, {"GRADER_INSTRUCTOR_TOKENS": INSTRUCTOR_TOKEN,
                               "GRADER_PLATFORM_TOKENS": "platform-token-lti-0123"})
    platform.tool_url = server.url
    server.start()
    yield server
    server.stop()


@pytest.fixture
def browser(tool_server: Server, platform: Platform) -> Iterator[Browser]:
    found = Browser(tool_server.url, platform)
    yield found
    found.http.close()
