"""The benchmark: figures, not a test. Everything is measured in one run, on this machine.

    (a) the sandbox alone: the grading pipeline with the fork-server runner, 1 and N clients
    (b) over HTTP: a real uvicorn server, 1 and N concurrent clients (when ``--http``), then
        a course's mix at 8 clients: 60% right, 30% wrong (known mistakes, diagnosed), 10%
        broken (a crash, a missing module)
    (f) the distributed mode: one API process and two workers on PostgreSQL against embedded
        mode, the same requests (when ``--distributed``)
    (d) a course at a deadline: 32 clients, with and without 5% infinite loops among the
        submissions (a loop is handed over without waiting, as a platform posting with
        ``wait=false`` would; the honest ones are waited for): the honest submissions' latency
        and throughput in both runs
    (c) the baseline: a fresh interpreter per submission that imports numpy, runs the same four
        cases and compares them, with no sandbox at all, with 1 client and with one client per
        CPU (more clients than CPUs cannot make a CPU-bound baseline faster)

It prints submissions per second, p50 and p99 latency, the ratio of each row's throughput to the
baseline's with as many clients (at most one per CPU), and the memory of the zygote and of one
child.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from grader.bench.attacks import attack_rows
from grader.bench.http import CoursePoster, course_cycle, http_rows, sample_verdicts
from grader.bench.measure import Baselines, Figures, measure
from grader.bench.pushed import pushed_rows
from grader.bench.queue import queue_rows
from grader.catalog.exercises import Catalog, Exercise
from grader.grading.grade import grade
from grader.grading.report import Report
from grader.sandbox.forkserver import ForkServerRunner
from grader.sandbox.zygote_link import children_of

BASELINE = r"""
import sys, json
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
source, seed, shapes = json.loads(sys.stdin.read())
namespace = {}
try:
    exec(compile(source, "submission.py", "exec"), namespace)
except Exception:
    namespace = {}
results = []
for index, shape in enumerate(shapes):
    rng = np.random.default_rng([seed, index])
    image, kernel = rng.normal(size=shape), rng.normal(size=(3, 3))
    expected = np.einsum("ijkl,kl->ij", sliding_window_view(image, (3, 3)), kernel)
    try:
        got = np.asarray(namespace["conv"](image.copy(), kernel.copy()), dtype=float)
        results.append(got.shape == expected.shape and bool(np.allclose(got, expected)))
    except Exception:
        results.append(False)
print(json.dumps(results))
"""


def _rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _private_kb(pid: int) -> int:
    total = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            total += int(line.split()[1])
    return total


RUNAWAY = "def conv(image, kernel):\n    while True:\n        pass\n"
MIX_CLIENTS = 32


def mix_rows(exercise: Exercise, runner: ForkServerRunner, honest: str, count: int,
             secret: bytes) -> list[str]:
    """Honest submissions from 32 clients, alone and then with every 20th an infinite loop."""
    rows = []
    loops = ThreadPoolExecutor(max_workers=count // 20 + 1, thread_name_prefix="runaway")

    def graded(source: str, seed: int) -> Report:  # as the service grades: a fast place first
        with runner.fast_place():
            return grade(exercise, source, runner, seed=seed, hidden_secret=secret)

    try:
        for share in (0, 20):
            runner.settle()
            honest_count = count - (count // share if share else 0)
            dispatched: list[int] = []

            def one(i: int, share: int = share, dispatched: list[int] = dispatched) -> None:
                if share and i % share == share - 1:
                    dispatched.append(i)
                    loops.submit(graded, RUNAWAY, i)
                    return
                report = graded(honest, i)
                assert report.passed, report.cases

            row = measure(f"(d) {'5% infinite loops' if share else 'honest only'}, honest rows",
                          MIX_CLIENTS, count, one)
            # only the honest submissions count: a loop's row is the moment it took to hand it
            # over, shorter than any grading, so the shortest rows are the loops'
            honest_latencies = sorted(row.latencies)[len(dispatched):]
            rows.append(Figures(row.name, MIX_CLIENTS, honest_count, row.seconds,
                                honest_latencies))
    finally:
        loops.shutdown(wait=True)
    alone, mixed = rows
    return [alone.line(), mixed.line(),
            f"(d) with loops: honest p50 {mixed.percentile(0.5) / alone.percentile(0.5):.2f}x "
            f"the run without, honest throughput {mixed.rate / alone.rate:.0%} of it; "
            f"{runner.lanes.moved_to_slow} moved to the slow lane, {runner.lanes.parked} parked"]


def _baseline(source: str, seed: int, shapes: list[list[int]]) -> list[bool]:
    """One submission in a fresh interpreter: whether each case's output is right."""
    done = subprocess.run([sys.executable, "-I", "-c", BASELINE],
                          input=json.dumps([source, seed, shapes]),
                          capture_output=True, text=True, check=True)
    results: list[bool] = json.loads(done.stdout)
    return results


def course_baseline(exercise: Exercise, shapes: list[list[int]], count: int,
                    cpus: int) -> Baselines:
    """The baseline of a course's mix (``COURSE_MIX``): each submission in a fresh interpreter,
    one client per CPU; it runs what the sandbox runs, and compares, but explains nothing."""
    samples = exercise.samples_dir
    assert samples is not None
    cycle = course_cycle()
    sources = {name: (samples / f"{name}.py").read_text() for name in set(cycle)}
    passes = {name: all(v == "passed" for v in expect)
              for name, expect in sample_verdicts(exercise.spec).items()}

    def one(i: int) -> None:
        name = cycle[i % len(cycle)]
        assert all(_baseline(sources[name], i, shapes)) == passes[name], name

    return Baselines([measure("(c) baseline: fresh interpreter, a course's mix", cpus,
                              max(count, len(cycle)), one)])


def memory_lines(runner: ForkServerRunner) -> list[str]:
    outer = runner.zygote_pid
    inner = children_of(outer)
    zygote = inner[0] if inner else outer
    kids = children_of(zygote)
    lines = [f"zygote: RSS {_rss_kb(zygote) / 1024:.1f} MiB"]
    if kids:
        kid = kids[0]
        lines.append(f"one child (ready, confined): RSS {_rss_kb(kid) / 1024:.1f} MiB, "
                     f"of which private {_private_kb(kid) / 1024:.1f} MiB")
    return lines


def run_bench(catalog: Catalog, count: int, clients: int, baseline_count: int,
              http: bool, distributed: str | None = None, attacks: bool = False) -> str:
    exercise: Exercise = catalog.get("conv2d")
    samples = exercise.samples_dir
    assert samples is not None  # a shipped bundle
    solutions = {name: (samples / f"{name}.py").read_text()
                 for name in ("correct_numpy", "correct_loops")}
    out = [f"grader bench: {os.cpu_count()} CPUs, python {sys.version.split()[0]}, "
           f"{count} submissions per row, conv2d (4 cases)"]

    shapes = [list(exercise.spec.shape_of(c, exercise.spec.arguments[0]))
              for c in exercise.spec.cases]

    def baseline_one(i: int) -> None:
        assert _baseline(solutions["correct_numpy"], i, shapes) == [True] * 4

    cpus = os.cpu_count() or 1
    baselines = Baselines([measure("(c) baseline: fresh interpreter", n, baseline_count,
                                   baseline_one) for n in sorted({1, cpus})])
    out.extend(row.line() for row in baselines.rows)
    course = course_baseline(exercise, shapes, baseline_count, cpus) if http else None
    if course is not None:
        out.append(course.rows[0].line())

    runner = ForkServerRunner(slots=clients)
    secret = secrets.token_bytes(32)  # any secret: the figures do not depend on the inputs
    try:
        for name, source in solutions.items():
            def sandbox_one(i: int, source: str = source) -> None:
                report = grade(exercise, source, runner, seed=i, hidden_secret=secret)
                assert report.passed, report.cases
            grade(exercise, source, runner, seed=0, hidden_secret=secret)  # warm
            runner.settle()
            paced = measure(f"(a) sandbox, {name}, paced 20 ms", 1, count // 2, sandbox_one,
                            pause=0.02)
            out.append(paced.line())
            for n in sorted({1, clients}):
                runner.settle()
                out.append(measure(f"(a) sandbox, {name}", n, count, sandbox_one).line(baselines))
        out.extend(mix_rows(exercise, runner, solutions["correct_numpy"], count, secret))
        if attacks:
            out.extend(attack_rows(exercise, runner, solutions["correct_numpy"],
                                   max(20, count // 5), secret))
        wrong = ((samples / "flipped_kernel.py").read_text(), "flipped_kernel")
        out.extend(pushed_rows(exercise, runner, solutions["correct_numpy"], count, clients,
                               secret, wrong))
        if http:
            expected = sample_verdicts(exercise.spec)
            out.extend(http_rows(solutions["correct_numpy"], count, clients, baselines, course,
                                 mix=lambda port: CoursePoster(port, samples, expected)))
        if distributed is not None:
            out.extend(queue_rows(solutions["correct_numpy"], count, clients, distributed))
        runner.settle()
        out.extend(memory_lines(runner))
        layers = runner.layers.summary()
        out.append(f"sandbox layers: {json.dumps(layers)}")
    finally:
        runner.close()
    out.append(f"baseline p50 {statistics.median(baselines.rows[0].latencies) * 1000:.1f} ms")
    return "\n".join(out)
