"""Proving a spec before learners see it.

The reference and every mistake model are graded through the real sandbox, as if a learner had
submitted their module: the reference must pass every case, each mistake model must fail at
least one case and be diagnosed as itself on a visible case (hidden cases diagnose nothing),
and each shipped sample must get exactly the verdicts it declares. Several seeds are tried,
since inputs are random.
"""

from __future__ import annotations

import numpy as np

from grader.exercises import Exercise
from grader.grade import grade
from grader.inputs import case_arguments
from grader.report import Report
from grader.sandbox.base import Runner
from grader.spec import SpecError

SEEDS = (1, 2, 3)


def _as_submission(exercise: Exercise, function_ref: str) -> str:
    """The reference module's source, with the entry point bound to one of its functions."""
    module, _, function = function_ref.partition(":")
    path = exercise.reference_dir / f"{module}.py"
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SpecError(f"cannot read {path}: {error}") from None
    # The module runs in a namespace of its own, so binding the entry point cannot shadow a
    # name the module uses itself.
    return (
        "import types as _types\n"
        "_module = _types.ModuleType('reference')\n"
        f"exec(compile({source!r}, 'reference.py', 'exec'), _module.__dict__)\n"
        f"{exercise.spec.entry_point} = _module.{function}\n"
    )


def _statuses(report: Report) -> list[str]:
    return [c.status for c in report.cases]


def validate(exercise: Exercise, runner: Runner, seeds: tuple[int, ...] = SEEDS, *,
             hidden_secret: bytes) -> list[str]:
    """Every problem found, as sentences; an empty list means the spec is proven. Hidden
    cases draw their inputs with ``hidden_secret``, as in grading."""
    spec = exercise.spec
    problems: list[str] = []
    for seed in seeds:
        for args, case in zip(case_arguments(spec, seed, hidden_secret), spec.cases, strict=True):
            try:
                first = np.asarray(exercise.reference(*(a.copy() for a in args)), dtype=float)
                again = np.asarray(exercise.reference(*(a.copy() for a in args)), dtype=float)
            except Exception as error:  # noqa: BLE001 - a spec that breaks its reference is refused
                problems.append(f"the reference raised {type(error).__name__} on case "
                                f"{case.name!r}: {error}")
                return problems
            if not np.isfinite(first).all():
                problems.append(f"reference gives non-finite values on case {case.name!r}")
            elif not np.array_equal(first, again):
                problems.append(f"reference is not deterministic on case {case.name!r}")
        report = grade(exercise, _as_submission(exercise, spec.reference), runner, seed,
                       hidden_secret=hidden_secret)
        if not report.passed:
            problems.append(f"seed {seed}: the reference does not pass: {_statuses(report)}")
        for mistake in spec.mistakes:
            if mistake.stage != "model":  # a change to arguments or output, not a solution
                continue
            report = grade(exercise, _as_submission(exercise, mistake.function), runner, seed,
                           hidden_secret=hidden_secret)
            if report.passed:
                problems.append(f"seed {seed}: mistake {mistake.code!r} passes every case")
            diagnosed = {c.mistake for c in report.cases}
            if mistake.code not in diagnosed:
                problems.append(
                    f"seed {seed}: mistake {mistake.code!r} is not diagnosed as itself on any "
                    f"visible case (diagnosed: {sorted(d for d in diagnosed if d)})"
                )
        for sample in spec.samples:
            path = exercise.samples_dir / sample.file
            try:
                source = path.read_text(encoding="utf-8")
            except OSError as error:
                problems.append(f"sample {sample.file}: cannot read: {error}")
                continue
            report = grade(exercise, source, runner, seed, hidden_secret=hidden_secret)
            if _statuses(report) != sample.expect:
                problems.append(
                    f"seed {seed}: sample {sample.file} got {_statuses(report)}, "
                    f"expected {sample.expect}"
                )
            if sample.mistake and sample.mistake not in {f.code for f in report.diagnosis}:
                problems.append(
                    f"seed {seed}: sample {sample.file} is not diagnosed as {sample.mistake!r}"
                )
    return sorted(set(problems), key=problems.index)
