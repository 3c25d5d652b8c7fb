"""Odd outputs through the grader's own code: grading (comparison, diagnosis, explanation) and
the report page, for every exercise.

A child's frame can carry any array of the frames' dtypes and shapes, with any values; the
learner chooses them. None may raise or warn here (warnings are errors in the tests): an odd
output is a verdict and a picture, never a fault of the grader's. No learner code runs: a
runner stands in for the sandbox and answers each case with an array made from its expected
output, as the parent would decode it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from grader.catalog.exercises import Catalog, Exercise
from grader.grading.grade import grade
from grader.grading.inputs import case_arguments
from grader.grading.oracle import oracle_for
from grader.pages.case_outputs import visible_inputs, visible_outputs
from grader.pages.report_page import render_report
from grader.sandbox.base import CaseRun, Job, RunResult
from tests.conftest import EXERCISES, HIDDEN_SECRET

SEED = 3
BIG = float(np.finfo(np.float64).max)


def _alternating(e: np.ndarray) -> np.ndarray:
    out = np.full(e.shape, BIG)
    out.reshape(-1)[::2] = -BIG
    return out


# name -> the output made from a case's expected output (at least 1-D)
ODD: dict[str, Callable[[np.ndarray], Any]] = {
    "largest_floats": lambda e: np.full(e.shape, BIG),
    "largest_of_both_signs": _alternating,
    "expected_times_largest": lambda e: e * BIG,
    "expected_plus_1e308": lambda e: e + 1e308,
    "subnormal": lambda e: np.full(e.shape, 5e-324),
    "negative_zero": lambda e: np.full(e.shape, -0.0),
    "int64_extremes": lambda e: np.where(e > 0, np.iinfo(np.int64).max, np.iinfo(np.int64).min),
    "uint64_max": lambda e: np.full(e.shape, np.iinfo(np.uint64).max, dtype=np.uint64),
    "float32_max": lambda e: np.full(e.shape, np.finfo(np.float32).max, dtype=np.float32),
    "float16": lambda e: e.astype(np.float16),
    "bool": lambda e: e > 0,
    "empty": lambda e: np.zeros(0),
    "empty_2d": lambda e: np.zeros((0, 0)),
    "no_rows": lambda e: np.zeros((0, *e.shape[1:])),
    "scalar": lambda e: np.asarray(e.sum()),
    "eight_dimensions": lambda e: e.reshape((1,) * (8 - e.ndim) + e.shape),
    "padded_with_largest": lambda e: np.pad(e, 1, constant_values=BIG),
    "large_of_largest": lambda e: np.full((256, 256), BIG),
    "large_random": lambda e: np.random.default_rng(0).normal(size=(256, 256)),
}


class Answering:
    """A runner that answers every case with ``make(expected)``, as the sandbox would carry
    it: no learner code runs."""

    refusal = None
    slow_slots = 0

    def __init__(self, exercise: Exercise, make: Callable[[np.ndarray], Any]) -> None:
        spec = exercise.spec
        arguments = case_arguments(spec, SEED, HIDDEN_SECRET)
        expected = oracle_for(exercise, self, HIDDEN_SECRET).expected(SEED, arguments)
        self.known = list(zip(arguments, expected, strict=True))
        self.make = make

    def fast_place(self, *args: Any, **kwargs: Any) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def _expected(self, args: tuple[Any, ...]) -> np.ndarray:
        return next(np.atleast_1d(np.asarray(e)) for a, e in self.known
                    if all(np.array_equal(x, y) for x, y in zip(a, args, strict=True)))

    def run(self, job: Job) -> RunResult:
        with np.errstate(all="ignore"):  # the learner's arithmetic, not the grader's
            arrays = [np.asarray(self.make(self._expected(c.args))) for c in job.cases]
        return RunResult([CaseRun(kind="output", array=a, output_type="ndarray")
                          for a in arrays])

    def close(self) -> None:
        pass


def _cases() -> Iterator[tuple[str, str]]:
    for exercise_id in sorted(Catalog(EXERCISES).ids()):
        for name in ODD:
            yield exercise_id, name


@pytest.mark.parametrize(("exercise_id", "name"), list(_cases()))
def test_an_odd_output_is_a_verdict_and_a_page(catalog: Catalog, exercise_id: str,
                                               name: str) -> None:
    exercise = catalog.get(exercise_id)
    spec = exercise.spec
    runner = Answering(exercise, ODD[name])
    source = f"def {spec.entry_point}(*args):\n    pass\n"
    report = grade(exercise, source, runner, seed=SEED, hidden_secret=HIDDEN_SECRET)
    assert len(report.cases) == len(spec.cases) and report.model_dump_json()
    outputs = visible_outputs(exercise, source, SEED, runner, hidden_secret=HIDDEN_SECRET)
    page = render_report(report, spec.title, outputs,
                         inputs=visible_inputs(spec, SEED, HIDDEN_SECRET),
                         statement=spec.statement, entry_point=spec.entry_point, source=source)
    failing = [o for o in outputs.values() if o.status != "passed"]
    assert "NaN" not in page and page.count('<svg class="heatmap"') >= len(failing)
