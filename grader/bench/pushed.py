"""A row of ``grader bench``: a built-in exercise against the same bundle pushed.

The pushed copy is published as a server does it (proven in the sandbox, its pool of outputs
stored in a throwaway SQLite database) and loaded back from the database, as another process
would; then the same solution is graded against each, alternately, through the same runner:
median latency and throughput, and their ratio.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from grader.bench.measure import measure
from grader.catalog.bundle import BundleFiles, parse_bundle
from grader.catalog.exercises import Catalog, Exercise
from grader.grading.grade import grade
from grader.grading.pool import fingerprint
from grader.grading.validate import prove_bundle
from grader.sandbox.base import Runner
from grader.service.published import Published
from grader.storage.store import Store


def pushed_rows(exercise: Exercise, runner: Runner, source: str, count: int, clients: int,
                secret: bytes) -> list[str]:
    assert exercise.samples_dir is not None  # a built-in bundle
    bundle = BundleFiles.read(exercise.samples_dir.parent)
    spec = parse_bundle(exercise.id, bundle)
    started = time.perf_counter()
    pool, problems = prove_bundle(spec, bundle, runner, hidden_secret=secret)
    proven = time.perf_counter() - started
    assert pool is not None, problems
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            empty = Path(folder) / "exercises"  # no built-in bundle: the pushed one alone
            empty.mkdir()
            version = Published(Catalog(empty), store).publish_bundle(
                spec, bundle, pool, fingerprint(secret))
            pushed = Published(Catalog(empty), store).at(exercise.id, version)

            def one(target: Exercise) -> None:
                report = grade(target, source, runner, seed=None, hidden_secret=secret)
                assert report.passed, report.cases

            one(pushed)  # its pool is read from the database once, here
            rows = []
            for n in sorted({1, clients}):
                built_in = measure(f"(e) built-in {exercise.id}", n, count,
                                   lambda _: one(exercise))
                pushed_row = measure(f"(e) pushed {exercise.id}", n, count,
                                     lambda _: one(pushed))
                rows += [built_in.line(), pushed_row.line(),
                         f"(e) pushed / built-in, clients {n}: p50 "
                         f"{pushed_row.percentile(0.5) / built_in.percentile(0.5):.2f}x, "
                         f"throughput {pushed_row.rate / built_in.rate:.2f}x"]
        finally:
            store.close()
    return [f"(e) pushing {exercise.id}: proven in the sandbox in {proven:.1f} s, a pool of "
            f"{len(pool.seeds)} seeds, {pool.nbytes() / 1024:.0f} KiB", *rows]
