"""The grading pipeline, above the sandbox: scores, diagnosis and report, with a fake runner."""

from __future__ import annotations

import json

import numpy as np
from scipy.signal import convolve2d, correlate2d

from grader.exercises import Exercise
from grader.grade import grade, syntax_finding
from grader.inputs import case_arguments
from grader.report import Report
from grader.sandbox.fake import FakeRunner


def correct(image, kernel):
    return correlate2d(image, kernel, mode="valid")


def test_a_correct_function_scores_full_marks(conv2d: Exercise) -> None:
    report = grade(conv2d, "def conv(i, k): ...", FakeRunner(correct), seed=1)
    assert report.passed and report.score == report.max_score == 4
    assert [c.status for c in report.cases] == ["passed"] * 4
    assert [c.input_shape for c in report.cases] == [[8, 8], [12, 10], [10, 10], [12, 8]]
    assert [c.expected_shape for c in report.cases] == [[6, 6], [10, 8], [8, 8], [10, 6]]


def test_the_report_has_the_documented_fields(conv2d: Exercise) -> None:
    data = json.loads(grade(conv2d, "", FakeRunner(correct), seed=1).model_dump_json())
    assert {"exercise_id", "passed", "score", "max_score", "seed", "duration_ms", "cases",
            "diagnosis", "stdout"} <= set(data)
    assert {"name", "passed", "status", "message", "points", "input_shape", "expected_shape",
            "output_shape", "max_abs_error"} <= set(data["cases"][0])
    assert Report.model_validate(data).seed == 1


def test_inputs_are_real_valued_and_fresh_for_every_seed(conv2d: Exercise) -> None:
    first = case_arguments(conv2d.spec, 1)
    again = case_arguments(conv2d.spec, 1)
    other = case_arguments(conv2d.spec, 2)
    image = first[0][0]
    assert image.dtype == np.float64
    assert not np.array_equal(image, np.round(image))
    assert np.array_equal(image, again[0][0])
    assert not np.array_equal(image, other[0][0])


def test_a_seed_is_drawn_and_recorded_when_none_is_given(conv2d: Exercise) -> None:
    runner = FakeRunner(correct)
    seeds = {grade(conv2d, "", runner).seed for _ in range(3)}
    assert len(seeds) == 3


def test_true_convolution_is_diagnosed_as_flipped_kernel(conv2d: Exercise) -> None:
    report = grade(conv2d, "", FakeRunner(lambda i, k: convolve2d(i, k, mode="valid")), seed=3)
    assert report.score == 0
    assert {c.mistake for c in report.cases} == {"flipped_kernel"}
    assert [f.code for f in report.diagnosis] == ["flipped_kernel"]
    assert report.diagnosis[0].cases == [c.name for c in conv2d.spec.cases]


def test_full_padding_is_diagnosed(conv2d: Exercise) -> None:
    report = grade(conv2d, "", FakeRunner(lambda i, k: correlate2d(i, k, mode="full")), seed=3)
    assert {c.status for c in report.cases} == {"wrong_shape"}
    assert [f.code for f in report.diagnosis] == ["full_padding"]


def test_an_unknown_wrong_answer_gets_no_diagnosis(conv2d: Exercise) -> None:
    report = grade(conv2d, "", FakeRunner(lambda i, k: correct(i, k) + 1), seed=3)
    assert {c.status for c in report.cases} == {"wrong_values"}
    assert report.diagnosis == []


def test_syntax_error_is_found_without_running_anything(conv2d: Exercise) -> None:
    runner = FakeRunner(correct)
    report = grade(conv2d, "def conv(image kernel):\n    return 1\n", runner, seed=1)
    assert runner.jobs == []
    assert {c.status for c in report.cases} == {"error"}
    finding = report.diagnosis[0]
    assert finding.code == "syntax_error"
    assert "(line 1)" in finding.message
    assert "def conv(image kernel):" in finding.message and "^" in finding.message


def test_null_bytes_are_a_syntax_finding_not_a_fault() -> None:
    finding = syntax_finding("def conv():\x00 pass")
    assert finding is not None and finding.code == "syntax_error"


def test_hidden_cases_are_marked_hidden_for_the_runner(conv2d: Exercise) -> None:
    runner = FakeRunner(correct)
    grade(conv2d, "", runner, seed=1)
    assert [c.hidden for c in runner.jobs[0].cases] == [False, False, True, True]


def test_second_exercise_grades_through_the_same_pipeline(catalog) -> None:
    pool = catalog.get("maxpool2d")

    def average(image):
        h, w = image.shape[0] // 2, image.shape[1] // 2
        return image[: 2 * h, : 2 * w].reshape(h, 2, w, 2).mean(axis=(1, 3))

    report = grade(pool, "", FakeRunner(average), seed=1)
    assert report.max_score == 4
    assert [f.code for f in report.diagnosis] == ["average_pooling"]
