"""The benchmark's row of a pushed exercise: it runs and prints its figures (not checked)."""

from __future__ import annotations

import re

import pytest

from grader.bench.pushed import pushed_rows
from grader.catalog.exercises import Exercise
from grader.sandbox.forkserver import ForkServerRunner
from tests.conftest import HIDDEN_SECRET, source_of

pytestmark = pytest.mark.processes


def test_the_pushed_row_compares_built_in_and_pushed(conv2d: Exercise,
                                                     runner: ForkServerRunner) -> None:
    lines = pushed_rows(conv2d, runner, source_of("conv2d/correct_numpy"), 4, 2, HIDDEN_SECRET)
    assert re.match(r"\(e\) pushing conv2d: proven in the sandbox in \d+\.\d s, a pool of "
                    r"32 seeds, \d+ KiB$", lines[0])
    number = r"\d+\.\d+"
    assert [line.split(" clients")[0].strip() for line in lines[1:3]] == [
        "(e) built-in conv2d", "(e) pushed conv2d"]
    assert all(re.search(rf"p50 +{number} ms", line) for line in lines[1:3])
    assert re.match(rf"\(e\) pushed / built-in, clients 1: p50 {number}x, throughput "
                    rf"{number}x$", lines[3])
    assert len(lines) == 1 + 2 * 3
