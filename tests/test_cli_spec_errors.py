"""``grader exercises validate`` and ``push`` say a bundle's errors alike: the bundle, then
each error with its file and line, and exit status 1, whether this machine or the server
found them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Server, copy_bundle

pytestmark = pytest.mark.processes

INSTRUCTOR = "instructor-token-spec-errors-0123456789"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("spec-errors"), {
        "GRADER_INSTRUCTOR_TOKENS": INSTRUCTOR,
        "GRADER_HIDDEN_SECRET": "hidden-secret-of-the-spec-error-tests"}).start()
    yield server
    server.stop()


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRADER_TOKEN": INSTRUCTOR,
           "GRADER_HIDDEN_SECRET": "hidden-secret-of-the-spec-error-tests"}
    return subprocess.run([sys.executable, "-m", "grader.cli", "exercises", *map(str, args)],
                          capture_output=True, text=True, timeout=300, env=env)


def broken(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    """A copy of the patch_dot bundle with ``old`` replaced, and the line of ``new``."""
    folder = copy_bundle("patch_dot", tmp_path / "patch_dot")
    spec = folder / "exercise.toml"
    text = spec.read_text()
    assert old in text
    spec.write_text(text.replace(old, new, 1))
    return folder, spec.read_text().splitlines().index(new.splitlines()[-1]) + 1


@pytest.mark.parametrize(("old", "new", "field"), [
    ('function = "no_sum"', 'function = "no_such_function"', "mistakes[3].function"),
    ('name = "random patch"', 'name = "random patch"\npoints = -3', "cases.1.points"),
])
def test_validate_and_push_say_a_spec_error_alike(server: Server, tmp_path: Path, old: str,
                                                   new: str, field: str) -> None:
    folder, line = broken(tmp_path, old, new)
    validated = cli("validate", folder)
    pushed = cli("push", folder, "--url", server.url)
    for done in (validated, pushed):
        assert done.returncode == 1, done.stderr
        first, *reasons = done.stderr.splitlines()
        assert first == f"grader: {folder}: the bundle has errors:"
        assert any(r.startswith(f"  - {folder}/exercise.toml:{line}: {field}: ")
                   for r in reasons), done.stderr
    assert "published" not in pushed.stdout


def test_a_refusal_by_the_server_is_said_the_same_way(server: Server, tmp_path: Path) -> None:
    """A bundle whose spec is sound but whose sample does not get its verdicts: found by
    the server's proof, said as a local error is."""
    folder, _ = broken(tmp_path, 'expect = ["passed", "passed", "passed", "passed"]',
                       'expect = ["wrong_values", "passed", "passed", "passed"]')
    pushed = cli("push", folder, "--url", server.url)
    assert pushed.returncode == 1
    first, *reasons = pushed.stderr.splitlines()
    assert first == f"grader: {folder}: the bundle has errors:"
    assert any(r.startswith("  - sample ") and "expected ['wrong_values'" in r
               for r in reasons), pushed.stderr
    validated = cli("validate", folder)
    assert validated.returncode == 1 and "expected ['wrong_values'" in validated.stdout
