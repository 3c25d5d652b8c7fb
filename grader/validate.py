"""Proving a spec before learners see it.

The reference and every mistake model are graded through the real sandbox, as if a learner had
submitted their module: the reference must pass every case, each mistake must fail at least one
case and be diagnosed as itself on a visible case (hidden cases diagnose nothing), so that it is
told apart from every other known mistake; a mistake of the ``input`` or ``output`` stage is
graded as the reference with only that change. Each shipped sample must get exactly the
verdicts it declares, and every sample file of a bundle must declare them. Several seeds are
tried, since inputs are random.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from grader.exercises import Exercise, function_name
from grader.grade import grade
from grader.inputs import call_args, case_arguments
from grader.report import Report
from grader.sandbox.base import Runner
from grader.spec import SpecError

SEEDS = (1, 2, 3)


def _module_source(name: str, path: Path) -> str:
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SpecError(f"cannot read {path}: {error}") from None
    # Each module runs in a namespace of its own, so binding the entry point cannot shadow a
    # name the module uses itself.
    return (f"{name} = _types.ModuleType('reference')\n"
            f"exec(compile({source!r}, 'reference.py', 'exec'), {name}.__dict__)\n")


def _as_submission(exercise: Exercise, function_ref: str, stage: str = "model") -> str:
    """The reference module's source, with the entry point bound to one of its functions: a
    whole solution (``model``), or the reference with a change to its arguments (``input``)
    or to its output (``output``), as a learner who made only that mistake would write."""
    spec = exercise.spec
    lines = ["import types as _types\n", _module_source("_module", exercise.files[function_ref])]
    function = function_name(function_ref)
    if stage == "model":
        lines.append(f"{spec.entry_point} = _module.{function}\n")
        return "".join(lines)
    lines.append(_module_source("_reference", exercise.files[spec.reference]))
    reference = f"_reference.{function_name(spec.reference)}"
    if stage == "input":
        body = f"return {reference}(*_module.{function}(*args))"
    else:
        body = f"import numpy\n    return _module.{function}(numpy.asarray({reference}(*args), " \
            "dtype=float))"
    lines.append(f"def {spec.entry_point}(*args):\n    {body}\n")
    return "".join(lines)


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
                first = np.asarray(exercise.reference(*call_args(args)), dtype=float)
                again = np.asarray(exercise.reference(*call_args(args)), dtype=float)
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
            report = grade(exercise, _as_submission(exercise, mistake.function, mistake.stage),
                           runner, seed, hidden_secret=hidden_secret)
            if report.passed:
                problems.append(f"seed {seed}: mistake {mistake.code!r} passes every case")
            diagnosed = {c.mistake for c in report.cases}
            if mistake.code not in diagnosed:
                problems.append(
                    f"seed {seed}: mistake {mistake.code!r} is not diagnosed as itself on any "
                    f"visible case (diagnosed: {sorted(d for d in diagnosed if d)})"
                )
        for sample in spec.samples:
            if exercise.samples_dir is None:
                problems.append(f"sample {sample.file}: this exercise has no bundle, so no "
                                "samples folder")
                continue
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
    problems += undeclared_samples(exercise)
    return sorted(set(problems), key=problems.index)


def undeclared_samples(exercise: Exercise) -> list[str]:
    """A sample file that the spec gives no verdicts for is proven by nothing: name it."""
    if exercise.samples_dir is None or not exercise.samples_dir.is_dir():
        return []
    declared = {sample.file for sample in exercise.spec.samples}
    return [f"sample {path.relative_to(exercise.samples_dir)} has no [[samples]] entry with "
            "its verdicts in the spec" for path in sorted(exercise.samples_dir.rglob("*.py"))
            if str(path.relative_to(exercise.samples_dir)) not in declared]
