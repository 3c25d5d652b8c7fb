"""The fork-server runner's own recovery, with real processes."""

from __future__ import annotations

import os
import signal
import time

import pytest

from grader.exercises import Exercise
from grader.grade import grade
from grader.sandbox.forkserver import ForkServerRunner
from tests.conftest import SAMPLES

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
        assert grade(conv2d, source, runner, seed=1).passed
        assert runner.zygote_pid != old
    finally:
        runner.close()
