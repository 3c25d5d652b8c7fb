"""The benchmark's row of a pushed exercise: it runs and prints its figures (not checked)."""

from __future__ import annotations

import re

import pytest

from grader.bench.pushed import pushed_rows
from grader.catalog.exercises import Exercise
from grader.sandbox.forkserver import ForkServerRunner
from tests.conftest import HIDDEN_SECRET, source_of

pytestmark = pytest.mark.processes


def test_the_pushed_rows_compare_built_in_and_pushed(conv2d: Exercise,
                                                    runner: ForkServerRunner) -> None:
    wrong = (source_of("conv2d/flipped_kernel"), "flipped_kernel")
    lines = pushed_rows(conv2d, runner, source_of("conv2d/correct_numpy"), 4, 2, HIDDEN_SECRET,
                        wrong)
    assert re.match(r"\(e\) pushing conv2d: proven in the sandbox in \d+\.\d s$", lines[0])
    number = r"\d+\.\d+"
    rows = lines[1:]
    assert len(rows) == 2 * 2 * 3  # correct and wrong, 1 and 2 clients, three lines each
    for kind, at in (("correct", 0), ("wrong", 6)):
        assert [line.split(" clients")[0].strip() for line in rows[at:at + 2]] == [
            f"(e) built-in conv2d, {kind}", f"(e) pushed conv2d, {kind}"]
        assert all(re.search(rf"p50 +{number} ms", line) for line in rows[at:at + 2])
        assert re.match(rf"\(e\) pushed / built-in, {kind}, clients 1: p50 {number}x, "
                        rf"throughput {number}x$", rows[at + 2])
