from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from scipy.signal import correlate2d
from sqlalchemy import text

from grader.api.app import create_app
from grader.sandbox.fake import FakeRunner
from grader.settings import Settings

PLATFORM = "platform-token-0123456789"
OTHER_PLATFORM = "platform-token-other-98765"
INSTRUCTOR = "instructor-token-0123456789"
SECRET = "callback-secret-0123456789"


def correct(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    return correlate2d(image, kernel, mode="valid")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    # callbacks go to receivers on this machine
    values: dict[str, Any] = {"data_dir": tmp_path, "slots": 2,
                              "callback_networks": ["127.0.0.0/8"]}
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    opened: list[TestClient] = []

    def make(runner: Any = None, raise_server_exceptions: bool = True,
             **overrides: Any) -> TestClient:
        client = TestClient(create_app(settings_for(tmp_path, **overrides),
                                       runner=runner or FakeRunner(correct)),
                            raise_server_exceptions=raise_server_exceptions)
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


class SlowRunner(FakeRunner):
    """A fake runner that holds each job until released."""

    def __init__(self) -> None:
        super().__init__(correct)
        self.release = threading.Event()

    def run(self, job):  # type: ignore[no-untyped-def]
        self.release.wait(10)
        return super().run(job)


class BrokenRunner(FakeRunner):
    """A runner with a bug of the grader's own: it raises what nobody expected."""

    def __init__(self) -> None:
        super().__init__(correct)
        self.calls = 0

    def run(self, job):  # type: ignore[no-untyped-def]
        self.calls += 1
        raise RuntimeError("a bug in the grader")


def wait_done(client: TestClient, submission_id: str, headers: dict[str, str] | None = None,
              timeout: float = 10.0) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        body = client.get(f"/v1/submissions/{submission_id}", headers=headers or {}).json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.02)
    raise AssertionError(f"submission {submission_id} not graded in {timeout} s")


def forget_drawings(client: TestClient, submission_id: str) -> None:
    """Make a graded submission one graded before the visible cases' arrays were kept: its
    report page runs them again (and holds a drawing's place while it does)."""
    store = client.app.state.grader.store  # type: ignore[attr-defined]
    assert store.drawings(submission_id) is not None
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE submissions SET drawings = NULL WHERE id = :id"),
                           {"id": submission_id})
