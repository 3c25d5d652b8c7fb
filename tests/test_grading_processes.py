"""Grading real submissions in real sandboxed processes: every status and every diagnosis."""

from __future__ import annotations

import dataclasses
import time
from typing import cast

import pytest

from grader.catalog.exercises import Exercise
from grader.grading.grade import grade
from grader.grading.inputs import case_arguments
from grader.sandbox.base import Inputs, Job, RunLimits, Runner, RunResult
from grader.sandbox.forkserver import ForkServerRunner
from grader.sandbox.zygote_link import children_of
from tests.conftest import HIDDEN_SECRET, ROOT, source_of, timeless

pytestmark = pytest.mark.processes


def statuses(report) -> list[str]:
    return [c.status for c in report.cases]


def test_a_correct_loop_solution_passes_four_of_four(grade_file) -> None:
    report = grade_file("conv2d/correct_loops")
    assert report.passed and report.score == 4 and report.max_score == 4
    assert statuses(report) == ["passed"] * 4


def test_nested_lists_pass(grade_file) -> None:
    assert grade_file("conv2d/correct_lists").passed


@pytest.mark.parametrize(("sample", "mistake", "status"), [
    ("flipped_kernel", "flipped_kernel", "wrong_values"),
    ("same_padding", "same_padding", "wrong_shape"),
    ("full_padding", "full_padding", "wrong_shape"),
])
def test_known_mistakes_are_diagnosed(grade_file, sample, mistake, status) -> None:
    report = grade_file(f"conv2d/{sample}")
    assert statuses(report) == [status] * 4
    assert [c.mistake for c in report.cases] == [mistake] * 2 + [None] * 2  # hidden: none
    assert [f.code for f in report.diagnosis] == [mistake]


def test_transposed_output_is_diagnosed_for_square_and_tall_images(grade_file) -> None:
    report = grade_file("conv2d/transposed")
    assert statuses(report) == ["wrong_values", "wrong_shape", "wrong_values", "wrong_shape"]
    assert [c.mistake for c in report.cases] == ["transposed_output"] * 2 + [None] * 2


def test_infinite_loop_times_out_on_each_case_within_the_submission_limit(grade_file) -> None:
    started = time.monotonic()
    report = grade_file("infinite_loop")
    elapsed = time.monotonic() - started
    assert statuses(report) == ["timeout"] * 4
    # Which limit stops a case depends on the machine's load (an idle one gives the loop its
    # 2 s of CPU time, a busy one stops it on the wall clock first); the message states the
    # limit that did, with that limit's own number, and the report carries it.
    for case in report.cases[:2]:  # the visible ones
        assert case.limit is not None
        assert case.message in STOPPED_BY[(case.limit.kind, case.limit.scope)]
        assert case.limit.seconds == {"case": 2.0 if case.limit.kind == "cpu" else 10.0,
                                      "submission": 10.0}[case.limit.scope]
    # conv2d's submission limit is on the wall clock in every lane, whatever the load; the
    # margin is for starting and reaping children on a machine that is very busy
    assert elapsed < 10.0 + 25.0


STOPPED_BY = {
    ("cpu", "case"): {"stopped: it used its 2 s of CPU time, the time limit of a case"},
    ("wall", "case"): {"stopped after 10 s on the wall clock, the wall-clock limit of a case "
                       "(it slept, waited, or did not get the CPU in that time)"},
    ("wall", "submission"): {
        "stopped when the submission's total time limit of 10 s (on the wall clock) ran out",
        "not run: the submission's total time limit of 10 s was used up"},
}


def test_a_loop_on_one_case_leaves_verdicts_for_the_other_three(grade_file) -> None:
    report = grade_file("loops_on_10x10")
    assert statuses(report) == ["passed", "passed", "timeout", "passed"]
    assert report.score == 3


def test_the_submission_limit_cuts_off_what_is_left(quick_conv2d: Exercise, grade_file) -> None:
    spec = quick_conv2d.spec
    report = grade_file("infinite_loop", exercise=dataclasses.replace(quick_conv2d, spec=(
        spec.model_copy(update={
            "limits": spec.limits.model_copy(update={"submission_seconds": 1.2}),
            # all visible, so that the last case's message is shown
            "cases": [c.model_copy(update={"visible": True}) for c in spec.cases]}))))
    assert statuses(report) == ["timeout"] * 4
    assert "total time limit of 1.2 s" in report.cases[-1].message


def test_right_only_for_the_first_shape_scores_one_of_four(grade_file) -> None:
    report = grade_file("right_only_8x8")
    assert report.score == 1
    assert statuses(report) == ["passed", "wrong_shape", "wrong_shape", "wrong_shape"]


def test_a_crash_in_one_case_does_not_take_the_others(grade_file) -> None:
    report = grade_file("exits_on_12x10")
    assert statuses(report) == ["passed", "crashed", "passed", "passed"]
    assert "exited with status 0 before returning a result" in report.cases[1].message


@pytest.mark.parametrize(("name", "status", "text"), [
    ("returns_none", "invalid_output", "got a NoneType"),
    ("returns_nan", "invalid_output", "1 NaN value, the first at [0, 1]"),
    ("returns_strings", "invalid_output", "an array of strings"),
    ("returns_complex", "invalid_output", "an array of complex numbers"),
    ("raises", "error", "ValueError"),
    ("sys_exit", "error", "SystemExit"),
    ("deep_recursion", "error", "RecursionError"),
    ("segfault", "crashed", "SIGSEGV"),
    ("memory_bomb", "memory_limit", "MemoryError"),
    ("int_truncation", "wrong_values", "differ from the expected"),
])
def test_each_failure_gets_its_status_and_a_message(grade_file, name, status, text) -> None:
    report = grade_file(name)
    assert statuses(report) == [status] * 4
    assert text in report.cases[0].message
    assert report.score == 0


def test_an_exception_shows_the_learners_line_and_no_grader_paths(grade_file) -> None:
    message = grade_file("raises").cases[0].message
    assert "(line 6: out[0] = image[0] * kernel[0])" in message
    assert "grader" not in message and "/" not in message.split("raised")[0]


def test_syntax_error_is_reported_with_line_and_caret(grade_file) -> None:
    report = grade_file("syntax_error")
    assert statuses(report) == ["error"] * 4
    [finding] = report.diagnosis
    assert finding.code == "syntax_error" and "(line 4)" in finding.message
    assert "^" in finding.message


def test_a_missing_entry_point_lists_the_functions_found(grade_file) -> None:
    report = grade_file("no_entry_point")
    assert statuses(report) == ["error"] * 4
    [finding] = report.diagnosis
    assert finding.code == "missing_entry_point"
    assert "functions found: convolve, helper" in finding.message


def test_an_error_while_loading_is_a_finding(grade_file) -> None:
    report = grade_file("load_error")
    assert statuses(report) == ["error"] * 4
    assert report.diagnosis[0].code == "load_error"
    assert "line 3" in report.diagnosis[0].message


def test_modifying_inputs_is_a_warning_not_a_failure(grade_file) -> None:
    report = grade_file("mutates_input")
    assert report.passed
    [finding] = report.diagnosis
    assert finding.code == "modifies_input" and finding.severity == "warning"
    assert finding.cases == ["square 8x8", "tall 12x10"]  # the visible cases only


def test_output_printed_in_hidden_cases_is_withheld(grade_file) -> None:
    report = grade_file("prints_everywhere")
    assert report.passed
    assert report.stdout.startswith("loading\ncase (8, 8)")
    assert "case (12, 10)" in report.stdout
    assert "(10, 10)" not in report.stdout and "(12, 8)" not in report.stdout
    assert "hidden cases ran is not shown" in report.stdout


def test_what_learner_code_makes_of_a_hidden_input_stays_out_of_the_report(conv2d,
                                                                          grade_file) -> None:
    report = grade_file("leaks_hidden_input", seed=13)
    assert statuses(report) == ["error", "error", "error", "crashed"]
    text = report.model_dump_json()
    for (image, _), case in zip(case_arguments(conv2d.spec, 13, HIDDEN_SECRET), report.cases,
                                strict=True):
        assert (repr(float(image[0, 0])) in text) is case.visible
    status = int(abs(case_arguments(conv2d.spec, 13, HIDDEN_SECRET)[3][0][0, 0]) * 1000) % 200 + 50
    assert f"status {status}" not in text
    assert [c.message for c in report.cases[2:]] == [
        "hidden case: your code raised an exception",
        "hidden case: the process running your code died"]


def test_the_second_exercise_grades_in_the_sandbox(catalog, grade_file) -> None:
    pool = catalog.get("maxpool2d")
    assert grade_file("maxpool2d/correct", exercise=pool).passed
    report = grade_file("maxpool2d/stride_one", exercise=pool)
    assert [f.code for f in report.diagnosis] == ["stride_one"]


@pytest.mark.parametrize("name", ["float32_correct", "float32_in_float64"])
def test_a_correct_float32_solution_passes_with_a_note_on_precision(grade_file, name) -> None:
    report = grade_file(name)
    assert report.passed and statuses(report) == ["passed"] * 4
    [finding] = report.diagnosis
    assert (finding.code, finding.severity) == ("computed_in_float32", "info")
    assert "about 7 significant digits" in finding.message
    assert finding.cases == ["square 8x8", "tall 12x10"]  # the visible cases only


def test_a_float64_solution_gets_no_note_on_precision(grade_file) -> None:
    assert grade_file("conv2d/correct_numpy").diagnosis == []


# name -> (the diagnosis on the visible cases, a fragment of its message)
DIAGNOSES = {
    "zero_ring": ("valid_in_zero_ring", "inside a border of zeros 1 wide"),
    "top_left_corner": ("valid_in_corner", "top-left (6, 6) corner of an array of shape (8, 8)"),
    "flipped_same_padding": ("flipped_kernel+same_padding", "two mistakes at once"),
    "same_padding_int": ("same_padding+integer_truncation", "lost its fraction"),
    "int_truncation": ("integer_truncation", "lost its fraction"),
    "last_row_missing": ("missing_edge", "misses its last row and column"),
    "normalised_kernel": ("scaled_output", "times 0.111111 = 1/9"),
    "shifted_rows": ("shifted_by_one", "moved by one row"),
    "fft_circular": ("circular", "wrap around"),
    "negative_indices": ("wrapped_indices", "index -1 wraps"),
}


@pytest.mark.parametrize("name", DIAGNOSES)
def test_a_learner_s_bug_is_diagnosed_on_the_visible_cases(grade_file, name) -> None:
    code, fragment = DIAGNOSES[name]
    report = grade_file(name)
    assert report.score == 0
    assert [c.mistake for c in report.cases] == [code, code, None, None]
    [finding] = report.diagnosis
    assert (finding.code, finding.cases) == (code, ["square 8x8", "tall 12x10"])
    assert fragment in finding.message


def test_outputs_refused_as_too_large_still_tell_a_size_written_in_the_code(grade_file) -> None:
    report = grade_file("fixed_size_too_large")
    assert statuses(report) == ["invalid_output"] * 4
    assert [f.code for f in report.diagnosis] == ["fixed_shape"]
    assert "your output has shape (1024, 1024) in every case" in report.diagnosis[0].message
    assert [c.message for c in report.cases[2:]] == [
        "hidden case: your output was refused (not of an accepted type, not finite numbers, "
        "or too large)"] * 2


def test_an_output_too_large_on_the_other_inputs_still_tells_square_inputs_only(
        grade_file) -> None:
    report = grade_file("square_only_else_too_large")
    assert statuses(report) == ["passed", "invalid_output", "passed", "invalid_output"]
    assert [f.code for f in report.diagnosis] == ["square_inputs_only"]


def test_the_line_an_error_names_is_counted_as_python_counts_lines(grade_file) -> None:
    report = grade_file("line_separator_in_comment")
    assert "(line 8: raise ValueError(\"raised on line 8\"))" in report.cases[0].message


def test_a_solution_right_on_square_images_only_is_told_so(grade_file) -> None:
    report = grade_file("square_only")
    assert statuses(report) == ["passed", "wrong_shape", "passed", "wrong_shape"]
    # the tall case's output also holds the right values, in its left part
    assert [f.code for f in report.diagnosis] == ["valid_in_corner", "square_inputs_only"]
    finding = report.diagnosis[1]
    # hidden cases count (their statuses are the learner's to see) but are not named
    assert "right on square inputs (square 8x8, 1 hidden case) but not on the others (tall " \
        "12x10, 1 hidden case)" in finding.message
    assert "in tall 12x10, your output has shape (10, 10) where (10, 8) was expected: one " \
        "dimension used for both" in finding.message
    assert "10x10" not in finding.message and "12x8" not in finding.message  # hidden cases


@pytest.mark.parametrize("name", ["float16_correct", "float16_three_percent_off"])
def test_a_float16_output_of_a_float64_exercise_is_refused(grade_file, name) -> None:
    report = grade_file(name)
    assert report.score == 0 and statuses(report) == ["invalid_output"] * 4
    assert report.cases[0].message.startswith("expected float64 (or float32) values, got float16")
    assert report.diagnosis == []


def test_a_longdouble_output_travels_as_float64_and_passes(grade_file) -> None:
    report = grade_file("longdouble_correct")
    assert report.passed and statuses(report) == ["passed"] * 4
    assert report.diagnosis == []


def test_code_that_keeps_computing_after_its_last_answer_passes_and_is_told(
        conv2d: Exercise, runner: ForkServerRunner) -> None:
    """The answers stand (they were right), the child is stopped, and the report says why."""
    source = (ROOT / "tests" / "redteam" / "linger_in_sigalrm.py").read_text()
    report = grade(conv2d, source, runner, seed=7, hidden_secret=HIDDEN_SECRET)
    assert statuses(report) == ["passed"] * 4
    assert [(f.code, f.severity) for f in report.diagnosis] == [("kept_running", "warning")]


class _InputsFirst:
    """The runner, handed each job with its inputs already made and no answer handed back
    before the run's end: as grading did before it made them while the child loads the
    source, and compared each answer while the child computes the next."""

    def __init__(self, runner: ForkServerRunner) -> None:
        self.runner = runner

    def __getattr__(self, name: str) -> object:
        return getattr(self.runner, name)

    def run(self, job: Job) -> RunResult:
        assert not job.inputs_made
        job.cases  # noqa: B018 - made now, before any child has the source
        job.answered = None
        return self.runner.run(job)


@pytest.mark.parametrize("name", [
    *(f"conv2d/{path.stem}" for path in sorted((ROOT / "exercises/conv2d/samples").glob("*.py"))),
    "syntax_error", "load_error", "no_entry_point", "raises", "prints_everywhere", "segfault",
    "leaks_hidden_input", "mutates_input", "returns_nan", "exits_on_12x10",
])
def test_work_done_while_the_child_computes_gives_the_report_done_before_gives(
        conv2d: Exercise, runner: ForkServerRunner, name: str) -> None:
    source = source_of(name)
    late = grade(conv2d, source, runner, seed=11, hidden_secret=HIDDEN_SECRET)
    first = grade(conv2d, source, cast(Runner, _InputsFirst(runner)), seed=11,
                  hidden_secret=HIDDEN_SECRET)
    assert timeless(late) == timeless(first)


class _HandedBack:
    """The runner, recording each answer handed back to the job while its child computes."""

    def __init__(self, runner: ForkServerRunner) -> None:
        self.runner = runner
        self.handed: list[tuple[int, object]] = []
        self.result: RunResult | None = None

    def __getattr__(self, name: str) -> object:
        return getattr(self.runner, name)

    def run(self, job: Job) -> RunResult:
        answered = job.answered
        assert answered is not None

        def record(position: int, run: object) -> None:
            self.handed.append((position, run))
            answered(position, run)  # type: ignore[arg-type]

        job.answered = record
        self.result = self.runner.run(job)
        return self.result


@pytest.mark.parametrize("name", ["conv2d/correct_numpy", "conv2d/flipped_kernel"])
def test_every_answer_is_handed_back_once_in_order_while_the_child_works(
        conv2d: Exercise, runner: ForkServerRunner, name: str) -> None:
    recording = _HandedBack(runner)
    grade(conv2d, source_of(name), cast(Runner, recording), seed=5, hidden_secret=HIDDEN_SECRET)
    assert recording.result is not None
    assert [position for position, _ in recording.handed] == [0, 1, 2, 3]
    assert all(run is recording.result.cases[position] for position, run in recording.handed)


def _descendants(pid: int) -> list[int]:
    return [p for child in children_of(pid) for p in (child, *_descendants(child))]


class _Stop(Exception):
    pass


def test_a_run_stopped_while_its_inputs_are_made_ends_the_child_that_had_the_source(
        runner: ForkServerRunner) -> None:
    """A child that loops as it loads the source never ends by itself: the runner ends it."""
    def stop() -> Inputs:
        raise _Stop

    runner.settle()  # the children ahead of need are ready, and nothing else
    before = len(_descendants(runner.zygote_pid))
    job = Job("while True:\n    pass\n", "conv", None,
              RunLimits(case_seconds=30.0, submission_seconds=60.0, memory_mb=64), later=stop)
    with pytest.raises(_Stop):
        runner.run(job)
    runner.settle()  # the child that had the source is reaped, another made ready
    assert len(_descendants(runner.zygote_pid)) == before
    # and none of them computes for long: the ready ones wait for a job (once past their
    # greeting), and the looping one is gone
    deadline = time.monotonic() + 20.0
    while [pid for pid in _descendants(runner.zygote_pid) if _state(pid) == "R"]:
        assert time.monotonic() < deadline, "a child of the zygote kept computing"
        time.sleep(0.05)


def _state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def test_a_syntax_error_is_reported_and_the_runner_goes_on(
        conv2d: Exercise, runner: ForkServerRunner) -> None:
    report = grade(conv2d, source_of("syntax_error"), runner, seed=3,
                   hidden_secret=HIDDEN_SECRET)
    assert [f.code for f in report.diagnosis] == ["syntax_error"]
    assert statuses(report) == ["error"] * 4
    assert grade(conv2d, source_of("conv2d/correct_numpy"), runner, seed=3,
                 hidden_secret=HIDDEN_SECRET).passed
