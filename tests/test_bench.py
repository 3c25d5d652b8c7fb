"""The benchmark command: it runs end to end and prints every row. Its figures are not checked:
speed is shown by the benchmark's output, never by a test that fails on a slow machine."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from grader.bench.groups import (
    Groups,
    cpu_lines,
    per_submission,
    transactions_per_submission,
    tree_cpu,
)
from grader.bench.measure import Baselines, Figures

pytestmark = pytest.mark.processes


def figures(clients: int, rate: float) -> Figures:
    return Figures("row", clients, count=int(rate), seconds=1.0, latencies=[0.01] * int(rate))


def test_a_row_is_compared_with_the_baseline_that_had_as_many_clients_or_the_most_it_had() -> None:
    one, two = figures(1, 10), figures(2, 16)
    baselines = Baselines([two, one])
    assert baselines.like(1) is one
    assert baselines.like(2) is two
    assert baselines.like(8) is two
    assert "x baseline@2" in figures(8, 160).line(baselines)
    assert "10.0x baseline@2" in figures(8, 160).line(baselines)


def test_bench_prints_every_row_with_its_figures() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "grader.cli", "bench", "--count", "6", "--baseline-count", "2",
         "--clients", "2"],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    number = r"\d+\.\d+"
    row = re.compile(rf"clients +(\d+) +{number} /s +p50 +{number} ms +p99 +{number} ms")
    baseline_rows = [line for line in lines if line.startswith("(c) baseline")]
    assert [int(row.search(line)[1]) for line in baseline_rows] == sorted({1, 2})
    sandbox_rows = [line for line in lines if line.startswith("(a) sandbox")]
    # per solution: a paced row, then 1 and 2 clients back to back
    assert len(sandbox_rows) == 6
    for line in sandbox_rows:
        assert row.search(line), line
        assert "paced" in line or re.search(rf"{number}x baseline@[12]$", line), line
    mix_rows = [line for line in lines if line.startswith("(d)")]
    assert len(mix_rows) == 3 and all(row.search(line) for line in mix_rows[:2]), mix_rows
    assert re.search(r"honest p50 \d+\.\d\dx the run without, honest throughput \d+%",
                     mix_rows[2])
    assert re.search(r"^zygote: RSS \d+\.\d MiB$", done.stdout, re.M)
    assert re.search(r"^one child \(ready, confined\): RSS \d+\.\d MiB", done.stdout, re.M)
    assert '"seccomp": true' in done.stdout


def test_the_cpu_account_of_the_two_modes_is_per_submission_by_group() -> None:
    before = Groups({"server": 1.0, "server's sandbox": 2.0}, {}, 0)
    after = Groups({"server": 1.5, "server's sandbox": 3.0}, {}, 0)
    embedded = per_submission(before, after, 100)
    assert embedded == pytest.approx({"server": 5.0, "server's sandbox": 10.0})
    # a backend that started during the row counts whole
    before = Groups({"API": 1.0, "workers": 1.0}, {11: 0.5}, 40)
    after = Groups({"API": 1.2, "workers": 1.6}, {11: 0.7, 12: 0.1}, 540)
    distributed = per_submission(before, after, 100)
    assert distributed == pytest.approx({"API": 2.0, "workers": 6.0, "PostgreSQL": 3.0})
    assert transactions_per_submission(before, after, 100) == 5.0
    [line] = cpu_lines(8, embedded, distributed, 5.0)
    assert "with  8 clients (ms): embedded 15.00 (server 5.00, server's sandbox 10.00)" in line
    assert "distributed 11.00 (API 2.00, workers 6.00, PostgreSQL 3.00)" in line
    assert "distributed/embedded 0.73x; 5.0 PostgreSQL transactions per submission" in line


def test_a_process_tree_s_cpu_counts_the_process_and_its_descendants_apart() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)
    try:
        own, below = tree_cpu(os.getpid())
        alone, _ = tree_cpu(child.pid)
        assert own > 0 and below >= alone >= 0
    finally:
        child.communicate(b"")


def test_a_course_s_mix_gets_each_sample_s_verdicts_from_a_real_server(tmp_path) -> None:
    from pathlib import Path

    from grader.bench.http import (
        COURSE_MIX,
        CoursePoster,
        base_env,
        course_cycle,
        sample_verdicts,
        start,
        stop,
    )
    from grader.bench.measure import free_port
    from grader.catalog.exercises import Catalog

    exercise = Catalog(Path(__file__).resolve().parent.parent / "exercises").get("conv2d")
    expected = sample_verdicts(exercise.spec)
    cycle = sum(times for _, times in COURSE_MIX)
    verdicts = [expected[name] for name in course_cycle()]
    assert cycle == len(verdicts) == 20
    assert sum(all(v == "passed" for v in got) for got in verdicts) == 12
    assert sum(all(v == "error" for v in got) for got in verdicts) == 2
    port = free_port()
    server = start(["serve", "--port", str(port)], base_env(str(tmp_path)),
                   f"http://127.0.0.1:{port}/readyz")
    try:
        course = CoursePoster(port, exercise.samples_dir, expected)
        told_wrong = CoursePoster(port, exercise.samples_dir,
                                  dict(expected, correct_numpy=["wrong_values"] * 4))
        try:
            for i in range(cycle):
                course(i)  # asserts the answer's verdict per case against the sample's
            with pytest.raises(AssertionError):
                told_wrong(0)
        finally:
            course.close()
            told_wrong.close()
    finally:
        stop(server)


def test_a_course_s_mix_has_a_baseline_of_its_own_that_checks_each_answer() -> None:
    from pathlib import Path

    from grader.bench.run import course_baseline
    from grader.catalog.exercises import Catalog

    exercise = Catalog(Path(__file__).resolve().parent.parent / "exercises").get("conv2d")
    shapes = [list(exercise.spec.shape_of(c, exercise.spec.arguments[0]))
              for c in exercise.spec.cases]
    [row] = course_baseline(exercise, shapes, 1, 2).rows
    assert (row.clients, row.count, len(row.latencies)) == (2, 20, 20)
    assert row.name == "(c) baseline: fresh interpreter, a course's mix"
