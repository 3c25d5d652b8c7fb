"""The trusted oracle's known mistakes: a pair that ends with an output-stage mistake is that
function applied to the other mistake's output, the output the pair composed and run gives."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from grader.catalog.exercises import Catalog, Exercise
from grader.grading.inputs import case_arguments
from grader.grading.oracle import TrustedOracle, call_trusted, mistake_models, output_pairs

CATALOG = Catalog(Path(__file__).resolve().parent.parent / "exercises")
SECRET = b"oracle tests" * 3


def _composed(exercise: Exercise, seed: int, index: int) -> dict[str, np.ndarray]:
    """Every model's output, each pair composed and run."""
    args = case_arguments(exercise.spec, seed, SECRET)[index]
    outputs = {}
    for code, model in mistake_models(exercise):
        try:
            outputs[code] = call_trusted(model, args)
        except ValueError:
            continue
    return outputs


def _same(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
    assert list(got) == list(want)
    for code, output in want.items():
        assert got[code].dtype == output.dtype and got[code].shape == output.shape, code
        assert got[code].tobytes() == output.tobytes(), code


@pytest.mark.parametrize("exercise_id", CATALOG.ids())
def test_every_mistake_output_is_the_one_its_model_composed_and_run_gives(
        exercise_id: str) -> None:
    exercise = CATALOG.get(exercise_id)
    for seed in (1, 2):
        for index, case in enumerate(exercise.spec.cases):
            if case.visible:
                args = case_arguments(exercise.spec, seed, SECRET)[index]
                _same(dict(TrustedOracle(exercise).mistakes(seed, index, args)),
                      _composed(exercise, seed, index))


def test_conv2d_pairs_ending_with_an_output_change_reuse_the_other_output() -> None:
    pairs = output_pairs(CATALOG.get("conv2d"))
    assert pairs["flipped_kernel+integer_truncation"][0] == "flipped_kernel"
    assert pairs["same_padding+transposed_output"][0] == "same_padding"
    assert "flipped_kernel+same_padding" not in pairs


def test_an_output_change_that_writes_into_its_argument_leaves_the_other_output_whole(
) -> None:
    conv2d = CATALOG.get("conv2d")

    def truncate_in_place(output: np.ndarray) -> np.ndarray:
        output[...] = np.trunc(output)
        return output

    exercise = dataclasses.replace(
        conv2d, mistakes={**conv2d.mistakes, "integer_truncation": truncate_in_place})
    args = case_arguments(exercise.spec, 4, SECRET)[0]
    got = dict(TrustedOracle(exercise).mistakes(4, 0, args))
    _same(got, _composed(exercise, 4, 0))
    assert not np.array_equal(got["flipped_kernel"], np.trunc(got["flipped_kernel"]))
