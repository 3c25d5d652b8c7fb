"""A row of ``grader bench``: a built-in exercise against the same bundle pushed.

The pushed copy is published as a server does it (proven in the sandbox, stored in a throwaway
SQLite database) and loaded back from the database, as another process would; then the same
solution is graded against each, alternately, through the same runner: median latency and
throughput, and their ratio. A pushed exercise's reference runs in the sandbox on each
submission's inputs, and its mistake models too when a visible case is wrong: the rows of a
correct solution show the first cost, those of a wrong one (diagnosed as its mistake) both.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from grader.bench.measure import measure
from grader.catalog.bundle import BundleFiles, parse_bundle
from grader.catalog.exercises import Catalog, Exercise
from grader.grading.grade import grade
from grader.grading.validate import prove_bundle
from grader.sandbox.base import Runner
from grader.service.published import Published
from grader.storage.store import Store


def pushed_rows(exercise: Exercise, runner: Runner, source: str, count: int, clients: int,
                secret: bytes, wrong: tuple[str, str] | None = None) -> list[str]:
    """Rows for ``source`` (a correct solution), and for ``wrong``, a (source, the mistake it
    is diagnosed as), when given."""
    assert exercise.samples_dir is not None  # a built-in bundle
    bundle = BundleFiles.read(exercise.samples_dir.parent)
    spec = parse_bundle(exercise.id, bundle)
    started = time.perf_counter()
    problems = prove_bundle(spec, bundle, runner, hidden_secret=secret)
    proven = time.perf_counter() - started
    assert not problems, problems
    solutions = [("correct", source, None)] + ([("wrong", *wrong)] if wrong else [])
    rows = [f"(e) pushing {exercise.id}: proven in the sandbox in {proven:.1f} s"]
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            empty = Path(folder) / "exercises"  # no built-in bundle: the pushed one alone
            empty.mkdir()
            version = Published(Catalog(empty), store).publish_bundle(spec, bundle)
            pushed = Published(Catalog(empty), store).at(exercise.id, version)
            for kind, text, mistake in solutions:
                def grader_of(target: Exercise, text: str = text,
                              mistake: str | None = mistake) -> Callable[[int], None]:
                    def one(_: int) -> None:
                        report = grade(target, text, runner, seed=None, hidden_secret=secret)
                        if mistake is None:
                            assert report.passed, report.cases
                        else:
                            assert mistake in {f.code for f in report.diagnosis}, \
                                report.diagnosis
                    return one

                grader_of(pushed)(0)  # warm
                for n in sorted({1, clients}):
                    built_in = measure(f"(e) built-in {exercise.id}, {kind}", n, count,
                                       grader_of(exercise))
                    pushed_row = measure(f"(e) pushed {exercise.id}, {kind}", n, count,
                                         grader_of(pushed))
                    rows += [built_in.line(), pushed_row.line(),
                             f"(e) pushed / built-in, {kind}, clients {n}: p50 "
                             f"{pushed_row.percentile(0.5) / built_in.percentile(0.5):.2f}x, "
                             f"throughput {pushed_row.rate / built_in.rate:.2f}x"]
        finally:
            store.close()
    return rows
