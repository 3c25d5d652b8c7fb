"""The fork-server runner's own recovery, with real processes."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.exercises import Exercise
from grader.grade import grade
from grader.sandbox.forkserver import SCRATCH_PREFIX, ForkServerRunner, scratch_name
from tests.conftest import HIDDEN_SECRET, SAMPLES

pytestmark = pytest.mark.processes


def test_a_dead_zygote_is_replaced_and_its_ready_children_dropped(conv2d: Exercise) -> None:
    runner = ForkServerRunner(slots=1, base_uid=63000)
    try:
        runner.settle()
        assert runner.warm_children > 0
        old = runner.zygote_pid
        os.kill(old, signal.SIGKILL)
        end = time.monotonic() + 10
        while runner._zygote is not None and runner._zygote.alive and time.monotonic() < end:
            time.sleep(0.01)
        source = (SAMPLES / "conv2d" / "correct_numpy.py").read_text()
        assert grade(conv2d, source, runner, seed=1, hidden_secret=HIDDEN_SECRET).passed
        assert runner.zygote_pid != old
    finally:
        runner.close()


def test_scratch_left_by_a_killed_grader_is_removed_by_the_next_one(tmp_path: Path) -> None:
    # a grader process killed with SIGKILL, after making its scratch folder in tmp_path
    killed = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    stale = tmp_path / f"{scratch_name(killed.pid)}abc"
    killed.kill()
    killed.wait()
    (stale / "run-1").mkdir(parents=True)
    (stale / "run-1" / "out.txt").write_text("left behind")
    # a live grader's folder, and one of an earlier process that had this pid
    alive = tmp_path / f"{scratch_name(os.getpid())}def"
    alive.mkdir()
    reused_pid = tmp_path / f"{SCRATCH_PREFIX}{os.getpid()}-1-ghi"
    reused_pid.mkdir()
    unrelated = tmp_path / "grader-scratch-notes"
    unrelated.mkdir()

    runner = ForkServerRunner(slots=1, base_uid=63000, scratch_dir=tmp_path)
    try:
        assert not stale.exists() and not reused_pid.exists()
        assert alive.is_dir() and unrelated.is_dir()
        assert runner.scratch_root.parent == tmp_path and runner.scratch_root.is_dir()
    finally:
        runner.close()
    assert not runner.scratch_root.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, unrelated.name])


def test_what_a_dying_zygote_writes_is_logged(conv2d: Exercise,
                                               caplog: pytest.LogCaptureFixture) -> None:
    runner = ForkServerRunner(slots=1, base_uid=63000)
    try:
        runner.settle()
        zygote = runner._ensure_zygote()
        with caplog.at_level(logging.WARNING, logger="grader.sandbox"):
            zygote.send({"op": "kill"})  # no id: the zygote fails on it
            zygote.process.wait(timeout=10)
            zygote._stderr_reader.join(timeout=10)
        lines = [r.getMessage() for r in caplog.records if "sandbox zygote (pid" in r.getMessage()]
        assert any("KeyError: 'id'" in line for line in lines), lines
        source = (SAMPLES / "conv2d" / "correct_numpy.py").read_text()
        # a new zygote took over
        assert grade(conv2d, source, runner, seed=2, hidden_secret=HIDDEN_SECRET).passed
        assert runner.zygote_pid != zygote.pid
    finally:
        runner.close()
