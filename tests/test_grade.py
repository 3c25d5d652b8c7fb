"""The grading pipeline, above the sandbox: scores, diagnosis and report, with a fake runner."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import cast

import numpy as np
import pytest
from scipy.signal import convolve2d, correlate2d

from grader.catalog.exercises import Exercise
from grader.grading.compare import HIDDEN_MESSAGES
from grader.grading.grade import grade, syntax_finding
from grader.grading.inputs import case_arguments
from grader.grading.messages import say
from grader.grading.oracle import TrustedOracle, mistake_models
from grader.grading.report import Report
from grader.sandbox.base import (
    CaseRun,
    Invalid,
    Job,
    LearnerError,
    Limit,
    Runner,
    RunResult,
    SandboxUnavailable,
)
from grader.sandbox.fake import FakeRunner
from tests.conftest import HIDDEN_SECRET, timeless

VISIBLE, HIDDEN = ["square 8x8", "tall 12x10"], ["square 10x10", "tall 12x8"]


def correct(image, kernel):
    return correlate2d(image, kernel, mode="valid")


def graded(exercise: Exercise, runner: Runner, seed: int | None = 1, source: str = "") -> Report:
    return grade(exercise, source, runner, seed=seed, hidden_secret=HIDDEN_SECRET)


def test_a_correct_function_scores_full_marks(conv2d: Exercise) -> None:
    report = graded(conv2d, FakeRunner(correct), source="def conv(i, k): ...")
    assert report.passed and report.score == report.max_score == 4
    assert [c.status for c in report.cases] == ["passed"] * 4
    assert [c.input_shape for c in report.cases] == [[8, 8], [12, 10], [10, 10], [12, 8]]
    assert [c.expected_shape for c in report.cases] == [[6, 6], [10, 8], [8, 8], [10, 6]]


def test_the_report_has_the_documented_fields(conv2d: Exercise) -> None:
    data = json.loads(graded(conv2d, FakeRunner(correct)).model_dump_json())
    assert {"exercise_id", "passed", "score", "max_score", "seed", "duration_ms", "cases",
            "diagnosis", "stdout"} <= set(data)
    assert {"name", "passed", "status", "message", "points", "input_shape", "expected_shape",
            "output_shape", "max_abs_error"} <= set(data["cases"][0])
    assert Report.model_validate(data).seed == 1


def test_a_seed_is_drawn_and_recorded_when_none_is_given(conv2d: Exercise) -> None:
    runner = FakeRunner(correct)
    seeds = {graded(conv2d, runner, seed=None).seed for _ in range(3)}
    assert len(seeds) == 3


def test_the_runner_gets_the_inputs_of_the_seed_and_the_secret(conv2d: Exercise) -> None:
    runner = FakeRunner(correct)
    graded(conv2d, runner, seed=5)
    sent = [case.args for case in runner.jobs[0].cases]
    for got, want in zip(sent, case_arguments(conv2d.spec, 5, HIDDEN_SECRET), strict=True):
        assert all(np.array_equal(g, w) for g, w in zip(got, want, strict=True))


class _Composed(TrustedOracle):
    """The oracle as it was before its mistake models were kept per exercise: composed anew
    for this grading."""

    def __init__(self, exercise: Exercise) -> None:
        super().__init__(exercise)
        self.models = mistake_models(exercise)


@pytest.mark.parametrize("wrong", [
    lambda i, k: convolve2d(i, k, mode="valid"),
    lambda i, k: correlate2d(i, k, mode="same"),
    lambda i, k: correlate2d(i, k, mode="valid").T,
    lambda i, k: np.round(correlate2d(i, k, mode="valid")),
])
def test_mistake_models_kept_per_exercise_give_the_report_composed_ones_give(
        conv2d: Exercise, wrong: Callable[..., object]) -> None:
    runner = FakeRunner(wrong)
    for seed in (3, 4):
        kept = [graded(conv2d, runner, seed=seed) for _ in range(2)]
        composed = grade(conv2d, "", runner, seed=seed, hidden_secret=HIDDEN_SECRET,
                         oracle=_Composed(conv2d))
        assert timeless(kept[0]) == timeless(kept[1]) == timeless(composed)


def test_true_convolution_is_diagnosed_as_flipped_kernel(conv2d: Exercise) -> None:
    report = graded(conv2d, FakeRunner(lambda i, k: convolve2d(i, k, mode="valid")), seed=3)
    assert report.score == 0
    assert [c.mistake for c in report.cases] == ["flipped_kernel", "flipped_kernel", None, None]
    assert [f.code for f in report.diagnosis] == ["flipped_kernel"]
    assert report.diagnosis[0].cases == VISIBLE


def test_full_padding_is_diagnosed(conv2d: Exercise) -> None:
    report = graded(conv2d, FakeRunner(lambda i, k: correlate2d(i, k, mode="full")), seed=3)
    assert {c.status for c in report.cases} == {"wrong_shape"}
    assert [f.code for f in report.diagnosis] == ["full_padding"]


def test_an_unknown_wrong_answer_gets_no_diagnosis(conv2d: Exercise) -> None:
    report = graded(conv2d, FakeRunner(lambda i, k: correct(i, k) ** 2), seed=3)
    assert {c.status for c in report.cases} == {"wrong_values"}
    assert report.diagnosis == []


class _CountingOracle(TrustedOracle):
    def __init__(self, exercise: Exercise) -> None:
        super().__init__(exercise)
        self.expected_calls = 0

    def expected(self, seed: int, arguments: list) -> list[np.ndarray]:
        self.expected_calls += 1
        return super().expected(seed, arguments)


def test_syntax_error_is_found_without_running_anything(conv2d: Exercise) -> None:
    calls: list[int] = []
    oracle = _CountingOracle(conv2d)
    references_in_the_run: list[int] = []

    class Runner(FakeRunner):
        def run(self, job: Job) -> RunResult:
            try:
                return super().run(job)
            finally:
                references_in_the_run.append(oracle.expected_calls)

    runner = Runner(lambda image, kernel: calls.append(1) or correct(image, kernel))
    report = grade(conv2d, "def conv(image kernel):\n    return 1\n", runner, seed=1,
                   hidden_secret=HIDDEN_SECRET, oracle=oracle)
    # the run is stopped before its inputs are made: no case runs, and the reference runs
    # only after it, once, for the report's shapes
    assert calls == [] and references_in_the_run == [0] and oracle.expected_calls == 1
    assert {c.status for c in report.cases} == {"error"}
    finding = report.diagnosis[0]
    assert finding.code == "syntax_error"
    assert "(line 1)" in finding.message
    assert "def conv(image kernel):" in finding.message and "^" in finding.message
    # hidden cases too: nothing ran, no input was seen, and the grader's own parse says why
    assert {c.message for c in report.cases if not c.visible} == {
        "the submission has a syntax error"}


def test_null_bytes_are_a_syntax_finding_not_a_fault() -> None:
    finding = syntax_finding("def conv():\x00 pass")
    assert finding is not None and finding.code == "syntax_error"


def test_hidden_cases_are_marked_hidden_for_the_runner(conv2d: Exercise) -> None:
    runner = FakeRunner(correct)
    graded(conv2d, runner)
    assert [c.hidden for c in runner.jobs[0].cases] == [False, False, True, True]


def test_visible_cases_run_before_hidden_ones_whatever_the_spec_s_order(
    conv2d: Exercise,
) -> None:
    spec = conv2d.spec.model_copy(update={"cases": list(reversed(conv2d.spec.cases))})
    runner = FakeRunner(lambda i, k: np.zeros((1, 1)) if i.shape == (12, 10) else correct(i, k))
    report = graded(dataclasses.replace(conv2d, spec=spec), runner)
    sent = runner.jobs[0].cases
    assert [c.hidden for c in sent] == [False, False, True, True]
    assert [c.args[0].shape for c in sent] == [(12, 10), (8, 8), (12, 8), (10, 10)]
    # and each verdict is reported against its own case, in the spec's order
    assert [c.name for c in report.cases] == ["tall 12x8", "square 10x10", *reversed(VISIBLE)]
    assert [c.status for c in report.cases] == ["passed", "passed", "wrong_shape", "passed"]


def test_second_exercise_grades_through_the_same_pipeline(catalog) -> None:
    pool = catalog.get("maxpool2d")

    def average(image):
        h, w = image.shape[0] // 2, image.shape[1] // 2
        return image[: 2 * h, : 2 * w].reshape(h, 2, w, 2).mean(axis=(1, 3))

    report = graded(pool, FakeRunner(average))
    assert report.max_score == 5
    assert [f.code for f in report.diagnosis] == ["average_pooling"]


# -- hidden means hidden ----------------------------------------------------------------------
#
# Learner code that has seen a hidden input can put it into anything it controls. SECRET stands
# for such text, and 8675 for such a number (an exit status, a line, a shape, values, a time).

SECRET = "hidden-input-0.7316-encoded"
NUMBER = 8675


class ScriptedRunner:
    """Answers each visible case correctly and each hidden one with the run ``hidden`` makes
    of its inputs: any run a hostile child could get the sandbox to report."""

    def __init__(self, hidden: Callable[..., CaseRun]) -> None:
        self.hidden = hidden
        self.jobs: list[Job] = []

    def run(self, job: Job) -> RunResult:
        self.jobs.append(job)
        return RunResult(cases=[
            self.hidden(*case.args) if case.hidden
            else CaseRun(kind="output", array=correct(*case.args), output_type="ndarray")
            for case in job.cases])

    def close(self) -> None:
        pass


FIXED_MESSAGES = {*(say(m) for m in HIDDEN_MESSAGES.values()),
                  "hidden case: your code raised ValueError"}


def leaky_error(type_name: str) -> LearnerError:
    return LearnerError(type=type_name, message=SECRET, line=NUMBER * 1000 + 309, text=SECRET)


def wrong_values(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    out = np.full((image.shape[0] - 2, image.shape[1] - 2), NUMBER + 0.309)
    out[1, 2] = correct(image, kernel)[1, 2]
    return out


# Each as the sandbox could report it, with the learner's text and numbers in every field.
HOSTILE_RUNS: dict[str, Callable[..., CaseRun]] = {
    "an exception of the learner's own class": lambda i, k: CaseRun(
        kind="error", error=leaky_error(SECRET), seconds=NUMBER / 1000),
    "a builtin exception with a message": lambda i, k: CaseRun(
        kind="error", error=leaky_error("ValueError"), seconds=NUMBER / 1000),
    "a MemoryError of the learner's own": lambda i, k: CaseRun(
        kind="memory_limit", error=leaky_error(f"{SECRET}MemoryError")),
    "a memory kill": lambda i, k: CaseRun(kind="memory_limit", limit=Limit.MEMORY, signal=9,
                                          seconds=NUMBER / 1000),
    "a timeout": lambda i, k: CaseRun(
        kind="timeout", limit=Limit.CASE_TIME, limit_value=NUMBER, seconds=NUMBER / 1000),
    "an exit status": lambda i, k: CaseRun(kind="crashed", exit_status=NUMBER),
    "a signal": lambda i, k: CaseRun(kind="crashed", signal=NUMBER),
    "an output type name": lambda i, k: CaseRun(
        kind="invalid", invalid=Invalid.TYPE, params={"type": SECRET}, output_type=SECRET,
        mutated=True),
    "nested lists that are not an array": lambda i, k: CaseRun(
        kind="invalid", invalid=Invalid.NOT_AN_ARRAY, params={"error": SECRET}),
    "an array of odd elements": lambda i, k: CaseRun(
        kind="invalid", invalid=Invalid.ELEMENTS, params={"kind": SECRET, "dtype": SECRET}),
    "a too large output": lambda i, k: CaseRun(
        kind="invalid", invalid=Invalid.TOO_LARGE,
        params={"count": NUMBER, "limit": NUMBER, "shape": f"({NUMBER}, 2)"}),
    "an unreadable output": lambda i, k: CaseRun(
        kind="invalid", invalid=Invalid.UNREADABLE, params={"fault": "dtype", "dtype": SECRET}),
    "an output shape": lambda i, k: CaseRun(
        kind="output", array=np.zeros((3, NUMBER)), output_type="ndarray", mutated=True),
    "the values of an output": lambda i, k: CaseRun(
        kind="output", array=wrong_values(i, k), output_type="ndarray", mutated=True,
        seconds=NUMBER / 1000),
    "where a NaN is": lambda i, k: CaseRun(
        kind="output", array=np.where(np.eye(i.shape[0] - 2, i.shape[1] - 2, 3) > 0, np.nan,
                                      correct(i, k)), output_type="ndarray"),
    "a mistake's output": lambda i, k: CaseRun(
        kind="output", array=convolve2d(i, k, mode="valid"), output_type="ndarray",
        mutated=True, seconds=NUMBER / 1000),
}


@pytest.mark.parametrize("hostile", HOSTILE_RUNS.values(), ids=HOSTILE_RUNS.keys())
def test_nothing_a_learner_puts_in_a_hidden_case_s_run_reaches_the_report(
    conv2d: Exercise, hostile: Callable[..., CaseRun],
) -> None:
    report = graded(conv2d, ScriptedRunner(hostile))
    text = report.model_dump_json()
    assert SECRET not in text
    assert str(NUMBER) not in text
    assert all(name not in json.dumps([f.model_dump() for f in report.diagnosis])
               for name in HIDDEN)


@pytest.mark.parametrize("hostile", HOSTILE_RUNS.values(), ids=HOSTILE_RUNS.keys())
def test_a_hidden_case_reports_its_status_points_and_the_spec_s_shapes_only(
    conv2d: Exercise, hostile: Callable[..., CaseRun],
) -> None:
    report = graded(conv2d, ScriptedRunner(hostile))
    for case in report.cases[2:]:
        assert case.visible is False and not case.passed and case.points == 0
        assert case.max_points == 1
        assert case.message in FIXED_MESSAGES
        assert case.message == report.cases[2].message  # the same for both: no input in it
        assert (case.output_shape, case.max_abs_error, case.mistake, case.duration_ms) == \
            (None, None, None, 0)
    assert [c.input_shape for c in report.cases[2:]] == [[10, 10], [12, 8]]
    assert [c.expected_shape for c in report.cases[2:]] == [[8, 8], [10, 6]]
    assert report.diagnosis == []  # not even the mistake, nor that inputs were modified


@pytest.mark.parametrize(("status", "hostile"), [
    ("error", "an exception of the learner's own class"),
    ("memory_limit", "a MemoryError of the learner's own"),
    ("memory_limit", "a memory kill"),
    ("timeout", "a timeout"),
    ("crashed", "an exit status"),
    ("crashed", "a signal"),
    ("invalid_output", "an output type name"),
    ("invalid_output", "an unreadable output"),
    ("invalid_output", "where a NaN is"),
    ("wrong_shape", "an output shape"),
    ("wrong_values", "the values of an output"),
    ("wrong_values", "a mistake's output"),
])
def test_a_hidden_case_s_message_is_fixed_by_its_status(conv2d: Exercise, status: str,
                                                         hostile: str) -> None:
    case = graded(conv2d, ScriptedRunner(HOSTILE_RUNS[hostile])).cases[3]
    assert (case.status, case.message) == (status, say(HIDDEN_MESSAGES[status]))


def test_a_hidden_case_names_a_builtin_exception_and_nothing_of_what_it_said(
    conv2d: Exercise,
) -> None:
    report = graded(conv2d, ScriptedRunner(HOSTILE_RUNS["a builtin exception with a message"]))
    assert report.cases[3].message == "hidden case: your code raised ValueError"


def hostile_function(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Learner code that puts what it was given into an exception's class name and message."""
    corner = repr(float(image[0, 0]))
    raise type(f"Saw{corner.replace('.', '_').replace('-', 'm')}", (Exception,), {})(
        f"image starts with {corner}")


def test_a_hidden_input_put_in_an_exception_stays_out_of_the_report(conv2d: Exercise) -> None:
    report = graded(conv2d, FakeRunner(hostile_function), seed=11)
    text = report.model_dump_json()
    inputs = case_arguments(conv2d.spec, 11, HIDDEN_SECRET)
    for (image, _), case in zip(inputs, report.cases, strict=True):
        corner = repr(float(image[0, 0]))
        assert (f"image starts with {corner}" in case.message) is case.visible
        assert (corner in text) is case.visible
    assert [c.message for c in report.cases[2:]] == [say(HIDDEN_MESSAGES["error"])] * 2


def test_visible_cases_keep_their_full_feedback(conv2d: Exercise) -> None:
    flipped = graded(conv2d, FakeRunner(lambda i, k: convolve2d(i, k, mode="valid")), seed=3)
    square = flipped.cases[0]
    assert "differ from the expected ones" in square.message and "expected, from" in square.message
    assert square.output_shape == [6, 6] and square.max_abs_error is not None
    assert square.mistake == "flipped_kernel" and "flipped_kernel" in square.message
    raised = graded(conv2d, FakeRunner(hostile_function)).cases[0]
    assert raised.message.startswith("your code raised Saw")
    assert "image starts with" in raised.message


def test_a_mistake_seen_only_on_hidden_cases_gives_no_finding(conv2d: Exercise) -> None:
    report = graded(conv2d, ScriptedRunner(HOSTILE_RUNS["a mistake's output"]), seed=3)
    assert [c.mistake for c in report.cases] == [None] * 4
    assert report.diagnosis == []


def test_modified_inputs_are_a_warning_that_names_visible_cases_only(conv2d: Exercise) -> None:
    class Mutating(ScriptedRunner):
        def run(self, job: Job) -> RunResult:
            result = super().run(job)
            for run in result.cases:
                run.mutated = True
            return result

    report = graded(conv2d, Mutating(lambda i, k: CaseRun(kind="output", array=correct(i, k),
                                                          output_type="ndarray")))
    [finding] = report.diagnosis
    assert finding.code == "modifies_input" and finding.cases == VISIBLE


class _Cycle:
    """Garbage only the collector frees, whose finalizer runs Python code: a thread switch
    in the middle of whatever parse the collection interrupts."""

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        sum(range(50))


def test_parsing_submissions_on_many_threads_at_once_is_safe() -> None:
    """CPython 3.11 fails a parse with SystemError when another thread's parse switches in
    (the depth of the tree being built is shared): the grader's parses take turns."""
    source = ("def conv(image, kernel):\n"
              + "".join(f"    y{i} = [(image + {i}) * (kernel - {i}) for _ in range(3)]\n"
                        for i in range(100))
              + "    return " + "(" * 50 + "image" + ")" * 50 + "\n")
    found: list[object] = []
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)

    def parse_many() -> None:
        for _ in range(50):
            garbage = [_Cycle() for _ in range(50)]
            del garbage
            try:
                found.append(syntax_finding(source))
            except SystemError as error:
                found.append(error)

    try:
        threads = [threading.Thread(target=parse_many) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch)
    assert found == [None] * 400


PARSE_WARNS = """
import ast, sys
source = 's = "\\\\d"\\n'
if sys.argv[1] == "grader":
    from grader.grading.grade import syntax_finding
    print(syntax_finding(source))
else:
    print(ast.parse(source, filename="submission.py") is None)
"""


def test_what_the_parser_says_of_a_learner_s_source_is_not_logged_by_the_grader() -> None:
    """An invalid escape sequence: a warning at parse time (every warning shown, as 3.12 shows
    this one by default); the parser alone prints it, the grader's syntax check does not."""
    def run(how: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-W", "always", "-c", PARSE_WARNS, how],
                              capture_output=True, text=True, timeout=120, check=True)
    assert "invalid escape sequence" in run("parser").stderr
    checked = run("grader")
    assert (checked.stdout, checked.stderr) == ("None\n", "")


class _Refusing:
    """A runner that fails before it asks a job for its cases."""

    slow_slots = 0
    refusal = None

    def run(self, job: Job) -> RunResult:
        raise SandboxUnavailable("no sandbox here")


def test_a_syntax_error_is_reported_even_when_the_sandbox_fails_first(conv2d: Exercise) -> None:
    report = graded(conv2d, cast(Runner, _Refusing()), source="def conv(image kernel):\n")
    assert [f.code for f in report.diagnosis] == ["syntax_error"]
    assert {c.status for c in report.cases} == {"error"}
    with pytest.raises(SandboxUnavailable):  # a source that parses: the runner's fault stands
        graded(conv2d, cast(Runner, _Refusing()), source="def conv(image, kernel):\n    pass\n")


def test_errors_on_even_kernels_only_are_told_after_the_mistake_that_explains_the_rest(
        catalog) -> None:
    """A flipped kernel where the code runs (odd kernels), an IndexError on every even one:
    the known mistake comes first, and the errors' pattern is told as well."""
    def flipped_odd_only(image, kernel):
        if kernel.shape[0] % 2 == 0:
            raise IndexError("index 2 is out of bounds for axis 0 with size 2")
        return convolve2d(image.astype(float), kernel, mode="valid")

    report = graded(catalog.get("conv2d_kernels"), FakeRunner(flipped_odd_only))
    assert report.explanation is not None and report.explanation.name == "flipped_kernel"
    told = {f.code: f.message for f in report.diagnosis}
    assert told["raises_on_even_kernels"].startswith(
        "your code raises an error in every case with an even kernel dimension (6x6, kernel "
        "2x2; 1 hidden case) and in no other (5x5, kernel 3x3; 8x8, kernel 5x5; 1 hidden case)")
