"""Proving a spec before learners see it.

The reference and every mistake model are graded through the real sandbox, as if a learner had
submitted their module: the reference must pass every case, each mistake must fail at least one
case and be diagnosed as itself on a visible case (hidden cases diagnose nothing), so that it is
told apart from every other known mistake; a mistake of the ``input`` or ``output`` stage is
graded as the reference with only that change. Each shipped sample must get exactly the
verdicts it declares, and every sample file of a bundle must declare them. Several seeds are
tried, since inputs are random; the samples always on the same inputs (``SEEDS``, and
``SAMPLE_SECRET`` for hidden cases), so that a push proves them as the instructor's own
``grader exercises validate`` did.

A pushed bundle (``prove_bundle``) is proven the same way, and nothing of it runs in the
grader: its reference and mistake models run in the sandbox, strictly (``grader.grading.pushed``:
the reference twice, which must agree; every function on every case), and the whole proof must
end within ``PROVE_SECONDS``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from grader.catalog.bundle import BundleFiles, Pushed
from grader.catalog.exercises import Exercise, function_name
from grader.catalog.spec import ExerciseSpec, SpecError
from grader.errors import OutOfTime
from grader.grading.grade import grade
from grader.grading.inputs import call_args, case_arguments, new_seed
from grader.grading.mistakes import COMPOSE_NAME, compose_source
from grader.grading.oracle import Oracle, oracle_for
from grader.grading.pushed import PROVE_SECONDS, OutputsRefused, SandboxOracle
from grader.grading.report import Report
from grader.sandbox.base import Runner

SEEDS = (1, 2, 3)
# Samples are proven on the same inputs wherever they are proven (``grader exercises validate``
# on an instructor's machine, a push on the server): the seeds above, and a secret of their own
# for the hidden cases, which no learner's inputs are drawn with. A sample's mistake can vanish
# on some inputs (a ReLU where no output is negative, the image's mean taken off where the
# kernel sums to about zero): on fresh inputs, a push would be refused at random where the
# instructor's own proof had passed.
SAMPLE_SECRET = b"the inputs every sample is proven on"


def _file_text(exercise: Exercise, function_ref: str) -> str:
    """The text of the reference.py that defines ``function_ref``."""
    if exercise.pushed is not None:
        return exercise.pushed.bundle.reference
    path = exercise.files[function_ref]
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise SpecError(f"cannot read {path}: {error}") from None


def _module_source(name: str, source: str) -> str:
    # Each module runs in a namespace of its own, so binding the entry point cannot shadow a
    # name the module uses itself.
    return (f"{name} = _types.ModuleType('reference')\n"
            f"exec(compile({source!r}, 'reference.py', 'exec'), {name}.__dict__)\n")


def _as_submission(exercise: Exercise, function_ref: str | None = None,
                   stage: str = "model") -> str:
    """The reference module's source, with the entry point bound to the reference (no
    ``function_ref``), or to the reference with one mistake: a whole solution (``model``), a
    change to its arguments (``input``) or to its output (``output``), composed as grading
    composes it (``grader.grading.mistakes.compose``), as a learner who made only that mistake
    would write."""
    spec = exercise.spec
    lines = ["import types as _types\n",
             _module_source("_reference", _file_text(exercise, spec.reference)),
             compose_source()]
    mistake = ""
    if function_ref is not None:
        lines.append(_module_source("_module", _file_text(exercise, function_ref)))
        mistake = f", {stage}=_module.{function_name(function_ref)}"
    lines.append(f"{spec.entry_point} = {COMPOSE_NAME}(_reference."
                 f"{function_name(spec.reference)}{mistake})\n")
    return "".join(lines)


def _statuses(report: Report) -> list[str]:
    return [c.status for c in report.cases]


class _OutOfTime(OutOfTime):
    """The proof's deadline has passed."""


def validate(exercise: Exercise, runner: Runner, seeds: tuple[int, ...] = SEEDS, *,
             hidden_secret: bytes, deadline: float | None = None,
             oracle: Oracle | None = None) -> list[str]:
    """Every problem found, as sentences; an empty list means the spec is proven. Hidden
    cases draw their inputs with ``hidden_secret``, as in grading, and every grading takes its
    outputs from one ``oracle`` (default: the exercise's). Past ``deadline`` (a
    ``time.monotonic()``), the proof stops with that problem."""
    problems: list[str] = []
    oracle = oracle or oracle_for(exercise, runner, hidden_secret)

    def graded(source: str, seed: int, secret: bytes = hidden_secret) -> Report:
        if deadline is not None and time.monotonic() > deadline:
            raise _OutOfTime
        return grade(exercise, source, runner, seed, hidden_secret=secret, oracle=oracle)

    try:
        for seed in seeds:
            if exercise.reference is not None and not _deterministic(exercise, seed,
                                                                     hidden_secret, problems):
                return merged(problems)
            _prove_seed(exercise, seed, graded, problems)
        for seed in SEEDS:
            _prove_samples(exercise, seed, lambda source, seed: graded(source, seed,
                                                                       SAMPLE_SECRET), problems)
    except _OutOfTime:
        problems.append(f"the proof took longer than {PROVE_SECONDS:g} s")
    problems += undeclared_samples(exercise)
    return merged(problems)


def merged(problems: list[str]) -> list[str]:
    """The problems once each, in order: a problem found on several seeds is one line, which
    says on how many (``seed N:`` when on one only)."""
    seeds: dict[str, list[str]] = {}
    for problem in problems:
        seed, found, text = problem.partition(": ")
        if not (found and seed.startswith("seed ") and seed[5:].isdigit()):
            seed, text = "", problem
        seeds.setdefault(text, [])
        if seed and seed not in seeds[text]:
            seeds[text].append(seed)
    return [f"{found[0]}: {text}" if len(found) == 1 else
            f"{text} (on {len(found)} seeds)" if found else text
            for text, found in seeds.items()]


def _deterministic(exercise: Exercise, seed: int, hidden_secret: bytes,
                   problems: list[str]) -> bool:
    """A built-in reference, called here twice per case: False when it raised."""
    spec = exercise.spec
    reference = exercise.reference
    assert reference is not None
    for args, case in zip(case_arguments(spec, seed, hidden_secret), spec.cases, strict=True):
        try:
            first = np.asarray(reference(*call_args(args)), dtype=np.float64)
            again = np.asarray(reference(*call_args(args)), dtype=np.float64)
        except Exception as error:  # noqa: BLE001 - a spec that breaks its reference is refused
            problems.append(f"the reference raised {type(error).__name__} on case "
                            f"{case.name!r}: {error}")
            return False
        if not np.isfinite(first).all():
            problems.append(f"reference gives non-finite values on case {case.name!r}")
        elif not np.array_equal(first, again):
            problems.append(f"reference is not deterministic on case {case.name!r}")
    return True


def _sample_source(exercise: Exercise, file: str) -> str:
    """A sample's text. Raises OSError."""
    if exercise.pushed is not None:
        return exercise.pushed.bundle.samples[file]
    if exercise.samples_dir is None:
        raise OSError("this exercise has no bundle, so no samples folder")
    return (exercise.samples_dir / file).read_text(encoding="utf-8")


def _prove_seed(exercise: Exercise, seed: int, graded: Callable[[str, int], Report],
                problems: list[str]) -> None:
    spec = exercise.spec
    report = graded(_as_submission(exercise), seed)
    if not report.passed:
        problems.append(f"seed {seed}: the reference does not pass: {_statuses(report)}")
    for mistake in spec.mistakes:
        report = graded(_as_submission(exercise, mistake.function, mistake.stage), seed)
        if report.passed:
            problems.append(f"seed {seed}: mistake {mistake.code!r} passes every case")
        diagnosed = {c.mistake for c in report.cases}
        if mistake.code not in diagnosed:
            problems.append(
                f"seed {seed}: mistake {mistake.code!r} is not diagnosed as itself on any "
                f"visible case (diagnosed: {sorted(d for d in diagnosed if d)})"
            )


def _prove_samples(exercise: Exercise, seed: int, graded: Callable[[str, int], Report],
                   problems: list[str]) -> None:
    spec = exercise.spec
    for sample in spec.samples:
        try:
            source = _sample_source(exercise, sample.file)
        except (OSError, KeyError) as error:
            problems.append(f"sample {sample.file}: cannot read: {error}")
            continue
        report = graded(source, seed)
        if _statuses(report) != sample.expect:
            problems.append(
                f"seed {seed}: sample {sample.file} got {_statuses(report)}, "
                f"expected {sample.expect}"
            )
        if sample.mistake and sample.mistake not in {f.code for f in report.diagnosis}:
            problems.append(
                f"seed {seed}: sample {sample.file} is not diagnosed as {sample.mistake!r}"
            )


def prove_bundle(spec: ExerciseSpec, bundle: BundleFiles, runner: Runner, *,
                 hidden_secret: bytes) -> list[str]:
    """Prove a pushed bundle (parsed by ``grader.catalog.bundle.parse_bundle``) in the sandbox,
    on three fresh seeds: every output of its functions, strictly (the reference twice, every
    mistake model on every visible case), then ``validate`` (its samples on ``SEEDS``), all
    within ``PROVE_SECONDS``.
    Returns the problems; none means it may be published."""
    deadline = time.monotonic() + PROVE_SECONDS
    pushed = Pushed(spec.id, 0, bundle)
    candidate = Exercise(spec=spec, reference=None, mistakes={}, samples_dir=None, files={},
                         pushed=pushed)
    oracle = SandboxOracle(spec, pushed, runner, hidden_secret, strict=True, deadline=deadline)
    seeds: list[int] = []
    while len(seeds) < len(SEEDS):
        seed = new_seed()
        seeds += [seed] if seed not in seeds else []
    try:
        for seed in seeds:
            arguments = case_arguments(spec, seed, hidden_secret)
            oracle.expected(seed, arguments)
            for index, case in enumerate(spec.cases):
                if case.visible:
                    list(oracle.mistakes(seed, index, arguments[index]))
    except OutputsRefused as refused:
        return refused.problems
    return validate(candidate, runner, tuple(seeds), hidden_secret=hidden_secret,
                    deadline=deadline, oracle=oracle)


def undeclared_samples(exercise: Exercise) -> list[str]:
    """A sample file that the spec gives no verdicts for is proven by nothing: name it."""
    if exercise.samples_dir is None or not exercise.samples_dir.is_dir():
        return []
    declared = {sample.file for sample in exercise.spec.samples}
    return [f"sample {path.relative_to(exercise.samples_dir)} has no [[samples]] entry with "
            "its verdicts in the spec" for path in sorted(exercise.samples_dir.rglob("*.py"))
            if str(path.relative_to(exercise.samples_dir)) not in declared]
