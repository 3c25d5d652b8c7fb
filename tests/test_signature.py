"""Parameters named in another order than the exercise passes its arguments: read from the
source's text, told first when a case fails."""

from __future__ import annotations

import numpy as np
import pytest

from grader.catalog.exercises import Catalog
from grader.grading.grade import grade
from grader.grading.signature import parameters, reordered
from grader.sandbox.fake import FakeRunner

STRIDED = ["image", "kernel", "stride", "padding"]


def test_the_parameters_of_the_last_top_level_definition() -> None:
    source = ("def conv2d(a, b):\n    pass\n\n"
              "class K:\n    def conv2d(self, x):\n        pass\n\n"
              "async def conv2d(image, kernel, /, padding, stride=1, *rest, scale=2):\n"
              "    pass\n")
    assert parameters(source, "conv2d") == ["image", "kernel", "padding", "stride"]
    assert parameters("def other(image):\n    pass\n", "conv2d") is None
    assert parameters("def conv2d(image:\n", "conv2d") is None  # does not parse
    assert parameters("conv2d = lambda image, kernel: image\n", "conv2d") is None


@pytest.mark.parametrize("names", [
    ["image", "kernel", "padding", "stride"],
    ["img", "k", "pad", "stride"],  # "pad" names padding; the rest name nothing for certain
    ["image", "kernel", "Padding_", "STRIDE"],
    ["kernel", "image", "stride", "padding"],
])
def test_two_parameters_naming_arguments_in_reverse_order(names: list[str]) -> None:
    assert reordered(names, STRIDED)


@pytest.mark.parametrize("names", [
    ["image", "kernel", "stride", "padding"],  # the exercise's order
    ["img", "k", "s", "p"],  # names that name nothing
    ["x", "w", "padding", "s"],  # one named argument out of place: no order to compare
    ["self", "image", "kernel", "stride", "padding"],  # shifted, not reordered
    ["image", "kernel", "pad", "pads"],  # "pad" and "pads" both name padding: ambiguous
    ["image", "kernel"],
])
def test_no_reversed_pair_no_claim(names: list[str]) -> None:
    assert not reordered(names, STRIDED)


def strided(image, kernel, stride, padding):  # the right computation, run by position
    padded = np.pad(image, padding)
    size = kernel.shape[0]
    rows = (padded.shape[0] - size) // stride + 1
    cols = (padded.shape[1] - size) // stride + 1
    return np.array([[np.sum(padded[i * stride:i * stride + size, j * stride:j * stride + size]
                             * kernel) for j in range(cols)] for i in range(rows)])


def test_a_failing_submission_with_swapped_parameters_is_told_so_first(catalog: Catalog) -> None:
    source = "def conv2d(image, kernel, padding, stride):\n    ...\n"

    def swapped(image, kernel, padding, stride):  # given (image, kernel, stride, padding)
        return strided(image, kernel, stride=stride, padding=padding)

    report = grade(catalog.get("conv2d_strided"), source, FakeRunner(swapped), 5,
                   hidden_secret=b"k" * 32)
    assert not report.passed
    assert report.explanation is not None and report.explanation.name == "argument_order"
    assert report.diagnosis[0].code == "argument_order"
    assert "conv2d(image, kernel, padding, stride)" in report.diagnosis[0].message
    assert "conv2d(image, kernel, stride, padding)" in report.diagnosis[0].message


def test_a_passing_submission_is_not_told_about_its_names(catalog: Catalog) -> None:
    source = "def conv2d(image, kernel, padding, stride):\n    ...\n"
    report = grade(catalog.get("conv2d_strided"), source, FakeRunner(strided), 5,
                   hidden_secret=b"k" * 32)
    assert report.passed and report.diagnosis == []
