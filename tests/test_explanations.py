"""The report's explanation of a submission, graded in real sandboxed processes: one at the top,
one per wrong visible case, in a JSON shape that only adds to the report's."""

from __future__ import annotations

import numpy as np
import pytest

from grader.catalog.exercises import Catalog
from grader.grading.grade import grade
from grader.sandbox.fake import FakeRunner

pytestmark = pytest.mark.processes

VISIBLE = ["square 8x8", "tall 12x10"]


def test_one_explanation_at_the_top_and_one_per_wrong_visible_case(grade_file) -> None:
    report = grade_file("conv2d/negative_indices")
    top = report.explanation
    assert top is not None
    assert (top.name, top.parts, top.kind) == (
        "flipped_kernel+shifted", ["flipped_kernel", "shifted"], "mistake")
    assert top.cases == VISIBLE and 0 < top.confidence < 1  # an edge of each output is loose
    assert "flipped the kernel" in top.message and "moved by 2 rows" in top.message
    for case in report.cases:
        if case.visible:
            assert case.explanation is not None and case.mistake == "flipped_kernel+shifted"
            assert case.explanation.cases == [case.name]
        else:
            assert case.explanation is None and case.mistake is None
    # the diagnosis list keeps its shape: the explanation is its first finding
    assert report.diagnosis[0].code == top.name and report.diagnosis[0].cases == VISIBLE


def test_the_report_json_adds_the_explanation_and_keeps_every_field(grade_file) -> None:
    data = grade_file("conv2d/last_row_and_column_zero").model_dump(mode="json")
    assert data["explanation"] == {
        "name": "edges_zero", "parts": ["edges_zero"], "confidence": 1.0, "kind": "mistake",
        "cases": VISIBLE, "message": data["explanation"]["message"]}
    assert "last row and last column, left at zero" in data["explanation"]["message"]
    assert {"diagnosis", "cases", "score", "passed"} <= set(data)
    assert data["cases"][0]["mistake"] == "edges_zero"


def test_a_correct_submission_has_no_explanation(grade_file) -> None:
    report = grade_file("conv2d/correct_numpy")
    assert report.explanation is None and report.diagnosis == []


def test_a_crash_from_a_removed_idiom_is_explained_at_the_top(grade_file,
                                                              catalog: Catalog) -> None:
    report = grade_file("conv_layer/numpy2_array_into_element", catalog.get("conv_layer"))
    assert {c.status for c in report.cases} == {"error"}
    assert "setting an array element with a sequence" in report.cases[0].message
    top = report.explanation
    assert top is not None and (top.name, top.kind) == ("numpy2_array_into_element",
                                                        "environment")
    assert top.cases == ["1 -> 2 channels, 6x6", "3 -> 3 channels, 7x7", "2 -> 4 channels, 8x6"]


def test_a_pattern_across_cases_comes_first(grade_file, catalog: Catalog) -> None:
    report = grade_file("conv_layer/odd_kernels_only", catalog.get("conv_layer"))
    top = report.explanation
    assert top is not None and (top.name, top.kind) == ("odd_kernels_only", "across_cases")


def test_an_explanation_contradicted_by_a_passed_case_is_not_given(grade_file,
                                                                   catalog: Catalog) -> None:
    """An output size of (h - k + 2p + 1) // s is one short where the stride is 2; one-sided
    padding would give that size too, but would have failed the passed case '6x6, pad 2'."""
    report = grade_file("conv2d_strided/size_plus_one_over_stride", catalog.get("conv2d_strided"))
    assert report.cases[3].name == "6x6, pad 2" and report.cases[3].passed
    assert report.explanation is not None and report.explanation.name == "missing_edge"
    assert "padding_one_side" not in {f.code for f in report.diagnosis}


def test_rounding_to_two_decimals_is_rounded_not_float32(grade_file) -> None:
    report = grade_file("conv2d/rounded")
    assert [f.code for f in report.diagnosis] == ["rounded"]


def test_an_unexplained_integer_output_is_told_it_cannot_hold_the_values(conv2d) -> None:
    def integers(image, kernel):  # right shape, integer values nothing explains
        return (image[1:-1, 1:-1] * 7 + 3).astype(int) ** 2

    report = grade(conv2d, "", FakeRunner(integers), 5, hidden_secret=b"k" * 32)
    assert report.explanation is None
    assert [(f.code, f.cases) for f in report.diagnosis] == [("integer_output", VISIBLE)]


def test_an_output_never_filled_is_told_so_and_nothing_explains_it(conv2d) -> None:
    def never_stored(image, kernel):
        out = np.zeros((image.shape[0] - 2, image.shape[1] - 2))
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                value = np.sum(image[i:i + 3, j:j + 3] * kernel)  # noqa: F841 - the mistake
        return out

    report = grade(conv2d, "", FakeRunner(never_stored), 5, hidden_secret=b"k" * 32)
    assert report.explanation is None
    assert [(f.code, f.cases) for f in report.diagnosis] == [("constant_output", VISIBLE)]
    assert all(c.mistake is None for c in report.cases)


def test_a_row_appended_inside_its_loop_is_each_row_repeated_not_a_few_values_inside(
        catalog: Catalog) -> None:
    """The same list appended once per value: each right row n times over, (n * n, n). A few
    of its values also happen to sit inside the larger output: that explains nothing."""
    def appended_inside(image, kernel):  # a row appended once per value: (n * n, n)
        p, n = len(kernel), len(image) - len(kernel) + 1
        out = []
        for i in range(n):
            row = []
            for j in range(n):
                row.append(np.sum(image[i:i + p, j:j + p] * kernel))
                out.append(row)
        return out

    report = grade(catalog.get("conv2d_kernels"), "", FakeRunner(appended_inside), 12345,
                   hidden_secret=b"k" * 32)
    assert not report.passed
    assert report.explanation is not None and report.explanation.name == "repeated"
    assert [d.code for d in report.diagnosis] == ["repeated"]
    assert "each row of the right values" in report.explanation.message


def test_hidden_outputs_are_never_explained(conv2d) -> None:
    """Right on the visible cases, transposed on the hidden ones: the hidden statuses show,
    nothing of what their outputs were."""
    reference = conv2d.reference
    visible = {(8, 8), (12, 10)}

    def hidden_transposed(image, kernel):
        out = reference(image, kernel)
        return out if image.shape in visible else out.T

    report = grade(conv2d, "", FakeRunner(hidden_transposed), 5, hidden_secret=b"k" * 32)
    assert [c.passed for c in report.cases] == [True, True, False, False]
    assert report.explanation is None and report.diagnosis == []
    assert all(c.explanation is None and c.mistake is None for c in report.cases)


def test_a_kernel_used_transposed_is_named_with_the_argument_and_the_idiom(grade_file) -> None:
    report = grade_file("conv2d/kernel_transposed")
    top = report.explanation
    assert top is not None and (top.name, top.confidence) == ("kernel_transposed", 1.0)
    assert "kernel.T" in top.message and "use kernel as it is given" in top.message
    assert [c.mistake for c in report.cases] == ["kernel_transposed"] * 2 + [None] * 2


def test_np_convolve_on_each_row_is_a_kernel_flipped_left_to_right(grade_file) -> None:
    top = grade_file("conv2d/np_convolve_rows").explanation
    assert top is not None and top.name == "kernel_flipped_columns"
    assert "np.convolve" in top.message


def test_a_factor_of_one_over_an_argument_s_sum_names_the_argument(grade_file) -> None:
    top = grade_file("conv2d/normalised_by_kernel_sum").explanation
    assert top is not None and top.name == "scaled_output"
    assert "divided by the sum of the kernel" in top.message


def test_an_integer_output_all_zero_where_every_expected_value_is_small_is_its_dtype_s(
        catalog: Catalog) -> None:
    """Stored in int8: one visible case's expected values all lie between -1 and 1, so its
    output is all 0; that is the dtype's doing, told as on the other cases, not a constant."""
    conv1d = catalog.get("conv1d")

    def narrow(signal, kernel):
        return np.correlate(signal, kernel, mode="valid").astype(np.int8)

    report = grade(conv1d, "", FakeRunner(narrow), 1, hidden_secret=b"k" * 32)
    flat = [c for c in report.cases if c.visible and c.output_shape is not None
            and "got 0\n" in c.message and "got:\n[0.000 0.000]" in c.message]
    assert flat, "no visible case of all-zero output at this seed: the test needs another"
    assert [f.code for f in report.diagnosis] == ["integer_wrapped"]
    assert report.diagnosis[0].cases == [c.name for c in report.cases if c.visible]
