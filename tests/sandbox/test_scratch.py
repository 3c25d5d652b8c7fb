"""A writable scratch, for exercises that ask for one: a private tmpfs as the child's whole file
system, with a byte and a file budget the kernel enforces, gone when the child is."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest

from grader.sandbox.base import CaseInput, Job, RunLimits, RunResult, SandboxError
from grader.sandbox.forkserver import ForkServerRunner

pytestmark = pytest.mark.processes

BUDGET_BYTES, BUDGET_FILES = 64 * 1024, 20


@pytest.fixture(scope="module")
def any_runner() -> Iterator[ForkServerRunner]:
    runner = ForkServerRunner(slots=1)
    yield runner
    runner.close()


@pytest.fixture
def runner(any_runner: ForkServerRunner) -> ForkServerRunner:
    if not any_runner.layers.scratch:
        pytest.skip(f"no private tmpfs here: {any_runner.layers.skipped.get('scratch')}")
    return any_runner


def test_where_no_private_tmpfs_can_be_made_a_scratch_job_is_a_grader_fault(
        any_runner: ForkServerRunner) -> None:
    if any_runner.layers.scratch:
        pytest.skip("this sandbox can make a private tmpfs")
    with pytest.raises(SandboxError, match="asks for a writable scratch"):
        run(any_runner, "return x")


def run(runner: ForkServerRunner, body: str, scratch: bool = True) -> RunResult:
    source = "import os\ndef probe(x):\n" + "".join(f"    {line}\n" for line in body.splitlines())
    limits = RunLimits(case_seconds=5.0, submission_seconds=10.0, memory_mb=64,
                       scratch_bytes=BUDGET_BYTES if scratch else 0,
                       scratch_files=BUDGET_FILES if scratch else 0)
    return runner.run(Job(source, "probe", [CaseInput((np.zeros(2),), hidden=False)], limits))


def printed(result: RunResult) -> str:
    assert result.cases[0].kind == "output", (result.cases[0], result.stderr)
    return result.stdout.strip()


def test_files_can_be_written_and_read_back(runner: ForkServerRunner) -> None:
    result = run(runner, "open('notes.txt', 'w').write('mine')\nos.mkdir('d')\n"
                         "print(open('notes.txt').read(), sorted(os.listdir('/')), os.getcwd())\n"
                         "return x")
    assert printed(result) == "mine ['d', 'notes.txt'] /"


def test_the_machine_is_not_there(runner: ForkServerRunner) -> None:
    result = run(runner, "out = []\n"
                         "for path in ('/etc/passwd', '/usr', '/proc/self/environ', '/tmp'):\n"
                         "    out.append(os.path.exists(path))\n"
                         "print(out)\nreturn x")
    assert printed(result) == "[False, False, False, False]"


def test_links_modes_times_and_attributes_are_refused(runner: ForkServerRunner) -> None:
    result = run(runner, "open('f', 'w').close()\nout = []\n"
                         "for attempt in (lambda: os.symlink('/', 'l'),\n"
                         "                lambda: os.link('f', 'g'),\n"
                         "                lambda: os.chmod('f', 0o777), lambda: os.utime('f'),\n"
                         "                lambda: os.setxattr('f', 'user.a', b'1'),\n"
                         "                lambda: os.mkfifo('p')):\n"
                         "    try:\n"
                         "        attempt()\n"
                         "        out.append('worked')\n"
                         "    except OSError:\n"
                         "        out.append('refused')\n"
                         "print(out)\nreturn x")
    assert printed(result) == str(["refused"] * 6)


def test_the_byte_budget_is_enforced(runner: ForkServerRunner) -> None:
    result = run(runner, "try:\n"
                         f"    open('big', 'wb').write(bytes({BUDGET_BYTES // 2}))\n"
                         f"    open('big2', 'wb').write(bytes({BUDGET_BYTES}))\n"
                         "except OSError as error:\n"
                         "    print('full', error.errno)\nreturn x")
    assert printed(result) == "full 28"  # ENOSPC


def test_the_file_budget_is_enforced_and_deep_chains_leave_nothing(
        runner: ForkServerRunner) -> None:
    result = run(runner, "made = 0\ntry:\n"
                         "    while True:\n"
                         "        os.mkdir('d')\n"
                         "        os.chdir('d')\n"
                         "        made += 1\n"
                         "except OSError as error:\n"
                         "    print(made, error.errno)\nreturn x")
    assert printed(result) == f"{BUDGET_FILES} 28"
    # the next run starts from an empty file system of its own
    assert printed(run(runner, "print(os.listdir('/'))\nreturn x")) == "[]"


def test_without_a_scratch_there_is_no_file_system(runner: ForkServerRunner) -> None:
    result = run(runner, "open('notes.txt', 'w')\nreturn x", scratch=False)
    assert result.cases[0].kind == "error"
    assert result.cases[0].error is not None
    assert result.cases[0].error.type == "PermissionError"


def test_nothing_of_a_scratch_is_on_the_host(runner: ForkServerRunner) -> None:
    before = set(os.listdir("/tmp"))
    printed(run(runner, "open('grader-scratch-marker', 'w').write('x')\nreturn x"))
    assert "grader-scratch-marker" not in set(os.listdir("/tmp")) - before
