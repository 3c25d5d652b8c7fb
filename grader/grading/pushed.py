"""A pushed bundle's outputs, computed in the sandbox for each submission's own inputs.

A pushed bundle's ``reference.py`` is code from an upload. It never runs in the grader's
process: its functions run as "source + entry point", by the runner that runs learner code, with
the spec's limits, in children of their own (never one that runs learner code), and what comes
back is parsed as any child's output is, as hostile bytes.

A submission of a pushed exercise is graded as one of a built-in exercise is: with inputs drawn
fresh from its own seed (and, for hidden cases, the server's secret), so no two submissions share
hidden inputs. Right before its outputs are compared, the bundle's reference runs in the sandbox
on those inputs (one run more than a built-in exercise costs); when a visible case is wrong, its
mistake models, and its reference on changed arguments, run on the visible cases too (one
more). Nothing is stored: grading calls no storage, and a replaced secret needs nothing
recomputed.

Publishing proves a bundle the same way (``grader.grading.validate.prove_bundle``), strictly: the
reference runs twice and must agree, and every function must give finite numbers on every case
it applies to.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import numpy as np

from grader.catalog.bundle import Pushed
from grader.catalog.exercises import function_name
from grader.catalog.spec import MAX_ELEMENTS, REFERENCE_FILE, ExerciseSpec
from grader.errors import InvalidInput
from grader.grading.inputs import Arguments, case_arguments
from grader.grading.mistakes import compose_source, composed_source, model_codes
from grader.grading.parts import Part, transformed_arguments
from grader.sandbox.base import (
    CaseInput,
    CaseRun,
    Job,
    LearnerError,
    RunLimits,
    Runner,
    RunResult,
    SandboxError,
)

PROVE_SECONDS = 60.0  # proving a bundle, when it is published, takes at most
ENTRY = "__pushed_model__"
MODELS = "__grader_models__"
Key = tuple[int, int]  # (model, case index); model 0 is the reference, below 0 on a change


class OutputsRefused(InvalidInput):
    """The bundle's code did not give its outputs: each problem names the function, the case,
    and for an exception reference.py's line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems

    @property
    def reasons(self) -> list[str]:
        return self.problems


class OutputsUnavailable(SandboxError):
    """A published version's reference gave no outputs for a submission's inputs (a grader
    fault: the bundle was proven, on other inputs)."""


def model_source(reference: str, spec: ExerciseSpec, models: list[tuple[str, ...]]) -> str:
    """reference.py as it is (so that an error's line is the file's own), then the entry point
    ``ENTRY(which, *args)``: model ``which`` of ``models``, each composed by
    ``grader.grading.mistakes.compose`` (no codes: the reference)."""
    functions = {m.code: function_name(m.function) for m in spec.mistakes}
    models_source = ", ".join(composed_source(spec, codes, function_name(spec.reference),
                                              functions.__getitem__) for codes in models)
    return (reference.rstrip("\n") + "\n\n\n" + compose_source()
            + f"{MODELS} = [{models_source}]\n\n\n"
            f"def {ENTRY}(which, *args):\n    return {MODELS}[which](*args)\n")


def _signal_name(number: int) -> str:
    try:
        name = signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
    if name == "SIGSYS":
        return "SIGSYS: a system call the sandbox forbids (files, processes, the network)"
    return name


_LIMITS = {"case_time": "the case's time limit on the wall clock",
           "case_cpu": "the case's time limit in CPU time",
           "total_time": "the time left for its runs", "cpu": "its CPU time",
           "memory": "its memory limit"}


def _failure(run: CaseRun, reference_lines: int) -> tuple[str, str]:
    """Where (``reference.py:LINE: ``, or nothing) and what went wrong in one case of a
    bundle's function, for the instructor."""
    if run.kind == "error" and run.error is not None:
        error = run.error
        inside = error.line is not None and error.line <= reference_lines
        where = f"{REFERENCE_FILE}:{error.line}: " if inside else ""
        return where, f"raised {error.type}: {error.message}"
    if run.kind == "timeout":
        limit = _LIMITS.get(str(run.limit), "its time limit")
        return "", f"ran past {limit}" + (f" ({run.limit_value:g} s)" if run.limit_value else "")
    if run.kind == "memory_limit":
        return "", "went over the memory limit"
    if run.kind == "crashed":
        if run.signal is not None:
            return "", f"was killed by {_signal_name(run.signal)}"
        if run.exit_status is not None:
            return "", f"exited with status {run.exit_status}"
        return "", f"stopped answering ({run.cause or 'crashed'})"
    if run.kind == "invalid":
        return "", f"gave an output that is not an array of numbers ({run.invalid}: {run.params})"
    return "", "gave no output"


def _load_problem(error: LearnerError, reference_lines: int) -> str:
    inside = error.line is not None and error.line <= reference_lines
    where = f"{REFERENCE_FILE}:{error.line}" if inside else REFERENCE_FILE
    return f"{where}: {REFERENCE_FILE} does not load in the sandbox: {error.type}: {error.message}"


class SandboxOracle:
    """A pushed bundle's functions, run in the sandbox on a submission's inputs: the reference
    on every case when the expected outputs are asked for; every mistake model, and the
    reference on each change of an argument (``transformed_arguments``), on the visible cases
    the first time a mistake or a change is. Outputs are kept by seed for the oracle's life (one
    grading, or one proof).

    ``strict`` (a proof, within ``deadline``): the reference runs twice and must agree, and a
    function that fails otherwise than a mistake model raising refuses the bundle
    (OutputsRefused). Otherwise (grading), a reference that fails is a grader fault
    (OutputsUnavailable), and a mistake model that fails does not apply."""

    in_process = False  # each of its outputs is a sandbox run of its own

    def __init__(self, spec: ExerciseSpec, pushed: Pushed, runner: Runner, secret: bytes, *,
                 strict: bool = False, deadline: float | None = None) -> None:
        self.spec = spec
        self.pushed = pushed
        self.runner = runner
        self.secret = secret
        self.strict = strict
        self.deadline = deadline
        self.models = [(), *model_codes(spec)]
        self.source = model_source(pushed.bundle.reference, spec, self.models)
        self.lines = len(pushed.bundle.reference.splitlines())
        self._arguments: dict[int, list[Arguments]] = {}
        self._expected: dict[int, list[np.ndarray]] = {}
        self._mistakes: dict[int, dict[int, list[tuple[str, np.ndarray | None]]]] = {}
        self._changed: dict[int, dict[int, list[tuple[Part, np.ndarray]]]] = {}
        # a run of the reference on changed arguments: key (-1 - change, case) -> arguments
        self._changed_args: dict[tuple[int, Key], Arguments] = {}

    def expected(self, seed: int, arguments: list[Arguments]) -> list[np.ndarray]:
        if seed not in self._expected:
            self._arguments.setdefault(seed, arguments)
            every = [(0, i) for i in range(len(self.spec.cases))]
            first = self._run(seed, every, MAX_ELEMENTS)
            if self.strict:
                again = self._run(seed, every, MAX_ELEMENTS)
                for (_, i), output in first.items():
                    if not np.array_equal(_present(output), _present(again[(0, i)])):
                        raise OutputsRefused([
                            f"{self._what(0)} is not deterministic: case "
                            f"{self.spec.cases[i].name!r} (seed {seed}) gave other outputs "
                            "when run again"])
            self._expected[seed] = [_present(first[(0, i)]) for i in range(len(every))]
        return self._expected[seed]

    def mistakes(self, seed: int, index: int, args: Arguments) -> Iterator[tuple[str, np.ndarray]]:
        for code, output in self._visible_runs(seed).get(index, []):
            if output is not None:
                yield code, output

    def transformed(self, seed: int, index: int, args: Arguments
                    ) -> Iterator[tuple[Part, np.ndarray]]:
        self._visible_runs(seed)
        yield from self._changed[seed].get(index, [])

    def _visible_runs(self, seed: int) -> dict[int, list[tuple[str, np.ndarray | None]]]:
        """The mistake models' outputs by visible case, with the changes' (``_changed``),
        from their one run, made the first time either is asked for."""
        if seed not in self._mistakes:
            self._mistakes[seed] = self._every_mistake(seed)
        return self._mistakes[seed]

    def _every_mistake(self, seed: int) -> dict[int, list[tuple[str, np.ndarray | None]]]:
        """Every mistake model's output on every visible case, and the reference's on each
        change of its arguments, in one run."""
        visible = [i for i, case in enumerate(self.spec.cases) if case.visible]
        arguments = self._args(seed)
        largest = max(a.size for a in self.expected(seed, arguments))
        keys = [(m, i) for m in range(1, len(self.models)) for i in visible]
        parts: dict[Key, Part] = {}
        names = [argument.name for argument in self.spec.arguments]
        for i in visible:
            for change, (part, changed) in enumerate(transformed_arguments(arguments[i], names)):
                key = (-1 - change, i)
                keys.append(key)
                parts[key] = part
                self._changed_args[(seed, key)] = changed
        outputs = self._run(seed, keys, min(max(16 * largest, 1 << 16), MAX_ELEMENTS))
        found: dict[int, list[tuple[str, np.ndarray | None]]] = {i: [] for i in visible}
        changes: dict[int, list[tuple[Part, np.ndarray]]] = {i: [] for i in visible}
        for (m, i), output in outputs.items():
            if m > 0:
                found[i].append(("+".join(self.models[m]), output))
            elif output is not None:
                changes[i].append((parts[(m, i)], output))
        self._changed[seed] = changes
        return found

    def _args(self, seed: int) -> list[Arguments]:
        if seed not in self._arguments:
            self._arguments[seed] = case_arguments(self.spec, seed, self.secret)
        return self._arguments[seed]

    def _what(self, model: int) -> str:
        if model <= 0:
            changed = " on changed arguments" if model < 0 else ""
            return f"the reference {function_name(self.spec.reference)!r}{changed}"
        return f"mistake {'+'.join(self.models[model])!r}"

    def _run(self, seed: int, keys: list[Key], max_elements: int) -> dict[Key, np.ndarray | None]:
        """Each (model, case)'s output as float64, or None where a mistake model does not
        apply. Raises OutputsRefused (strict) or OutputsUnavailable."""
        if not keys:
            return {}
        spec, limits = self.spec, self.spec.limits
        keys = sorted(keys, key=lambda k: not spec.cases[k[1]].visible)  # visible inputs first
        total = limits.submission_seconds
        if self.deadline is not None:
            total = self.deadline - time.monotonic()
            if total <= 0:
                self._problem(f"running the bundle's functions took longer than "
                              f"{PROVE_SECONDS:g} s")
        arguments = self._args(seed)
        result = self.runner.run(Job(
            source=self.source, entry_point=ENTRY,
            cases=[CaseInput((np.array(max(m, 0), dtype=np.int64),
                              *self._changed_args.get((seed, (m, i)), arguments[i])),
                             hidden=not spec.cases[i].visible) for m, i in keys],
            limits=RunLimits(limits.case_seconds, max(total, limits.case_seconds),
                             limits.memory_mb, scratch_bytes=limits.scratch_kb * 1024,
                             scratch_files=limits.scratch_files),
            max_output_elements=max_elements))
        return self._outputs(seed, keys, result)

    def _outputs(self, seed: int, keys: list[Key], result: RunResult
                 ) -> dict[Key, np.ndarray | None]:
        if result.load_error is not None:
            self._problem(_load_problem(result.load_error, self.lines))
        outputs: dict[Key, np.ndarray | None] = {}
        for (m, i), run in zip(keys, result.cases, strict=True):
            case = self.spec.cases[i].name
            failed = run.kind != "output" or run.array is None
            if failed and m != 0 and (run.kind == "error" or not self.strict):
                outputs[(m, i)] = None  # a mistake model, or a change, that does not apply
                continue
            if failed:
                where, failure = _failure(run, self.lines)
                self._problem(f"{where}{self._what(m)} {failure}, on case {case!r} "
                              f"(seed {seed})")
            array = np.asarray(run.array, dtype=np.float64)
            if not np.isfinite(array).all():
                if m != 0 and not self.strict:
                    outputs[(m, i)] = None
                    continue
                self._problem(f"{self._what(m)} gives non-finite values on case {case!r} "
                              f"(seed {seed})")
            outputs[(m, i)] = array
        return outputs

    def _problem(self, problem: str) -> None:
        if self.strict:
            raise OutputsRefused([problem])
        raise OutputsUnavailable(f"the outputs of exercise {self.pushed.exercise_id} version "
                                 f"{self.pushed.version} could not be computed: {problem}")


def _present(output: np.ndarray | None) -> np.ndarray:
    assert output is not None  # the reference's: a failure raised
    return output
