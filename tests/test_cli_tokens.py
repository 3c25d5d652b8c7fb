"""``grader exercises push`` and ``pull`` take their token from the environment or a file, not
only from the command line, where other local users see it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Server, copy_bundle

pytestmark = pytest.mark.processes

INSTRUCTOR = "instructor-token-cli-tokens-0123456789"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("cli-tokens"), {
        "GRADER_INSTRUCTOR_TOKENS": INSTRUCTOR,
        "GRADER_HIDDEN_SECRET": "hidden-secret-of-the-cli-token-tests"}).start()
    yield server
    server.stop()


def cli(*args: str | Path, token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GRADER_TOKEN"}
    if token is not None:
        env["GRADER_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "grader.cli", "exercises", *map(str, args)],
                          capture_output=True, text=True, timeout=300, env=env)


def bundle(folder: Path, exercise_id: str) -> Path:
    target = copy_bundle("conv2d", folder / exercise_id)
    spec = (target / "exercise.toml").read_text()
    (target / "exercise.toml").write_text(spec.replace('id = "conv2d"', f'id = "{exercise_id}"',
                                                       1))
    return target


def test_push_and_pull_take_the_token_from_the_environment(server: Server,
                                                           tmp_path: Path) -> None:
    folder = bundle(tmp_path, "token_env")
    pushed = cli("push", folder, "--url", server.url, token=INSTRUCTOR)
    assert pushed.returncode == 0, pushed.stderr
    assert pushed.stdout.strip() == "published token_env version 1"
    pulled = cli("pull", "token_env", "--url", server.url, "--dir", tmp_path / "copy",
                 token=INSTRUCTOR)
    assert pulled.returncode == 0, pulled.stderr
    assert (tmp_path / "copy" / "token_env" / "exercise.toml").exists()
    wrong = cli("pull", "token_env", "--url", server.url, token="not-the-instructor-token")
    assert wrong.returncode == 1 and "401" in wrong.stderr


def test_push_and_pull_take_the_token_from_a_file(server: Server, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(INSTRUCTOR + "\n")
    token_file.chmod(0o600)
    folder = bundle(tmp_path, "token_file")
    # the file wins over the environment
    pushed = cli("push", folder, "--url", server.url, "--token-file", token_file,
                 token="not-the-instructor-token")
    assert pushed.returncode == 0, pushed.stderr
    pulled = cli("pull", "token_file", "--url", server.url, "--token-file", token_file,
                 "--dir", tmp_path / "copy")
    assert pulled.returncode == 0, pulled.stderr
    assert (tmp_path / "copy" / "token_file" / "reference.py").exists()


def test_without_a_token_push_and_pull_say_how_to_give_one(server: Server,
                                                           tmp_path: Path) -> None:
    folder = bundle(tmp_path, "token_none")
    for args in (("push", folder), ("pull", "token_none")):
        refused = cli(*args, "--url", server.url)
        assert refused.returncode == 2
        assert "GRADER_TOKEN" in refused.stderr and "--token-file" in refused.stderr
    missing = cli("pull", "token_none", "--url", server.url, "--token-file",
                  tmp_path / "absent")
    assert missing.returncode == 2 and "cannot read the token file" in missing.stderr
    (tmp_path / "empty").write_text("\n")
    empty = cli("push", folder, "--url", server.url, "--token-file", tmp_path / "empty")
    assert empty.returncode == 2 and "is empty" in empty.stderr
    both = cli("push", folder, "--url", server.url, "--token", INSTRUCTOR, "--token-file",
               tmp_path / "empty")
    assert both.returncode == 2 and "not allowed with" in both.stderr


def test_the_help_says_that_token_is_the_least_safe() -> None:
    shown = " ".join(cli("push", "--help").stdout.split())
    assert "--token-file FILE" in shown and "GRADER_TOKEN" in shown and "least safe" in shown
