"""The callback benchmark runs end to end and prints its figures (which are not checked:
speed is shown by the benchmark, never by a test on a busy machine)."""

from __future__ import annotations

import pytest

from grader.bench.callbacks import main


def test_the_callback_benchmark_delivers_every_callback_and_prints_its_figures(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--count", "12"]) == 0
    printed = capsys.readouterr().out
    assert "all 12 arrived: True; 12 distinct" in printed
    assert "after the last report" in printed
    assert "still hanging: True" in printed
