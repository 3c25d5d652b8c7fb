"""Case inputs: visible ones from the seed, hidden ones from the seed and the server's secret."""

from __future__ import annotations

import numpy as np
import pytest

from grader.catalog.exercises import Exercise
from grader.grading.inputs import _draw, case_arguments, hidden_entropy

SECRET = b"a-secret-of-the-server-0123456789"
OTHER_SECRET = b"another-secret-of-a-server-987654"
VISIBLE, HIDDEN = (0, 1), (2, 3)  # conv2d's cases


def same(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_inputs_are_real_valued_and_fresh_for_every_seed(conv2d: Exercise) -> None:
    first = case_arguments(conv2d.spec, 1, SECRET)
    other = case_arguments(conv2d.spec, 2, SECRET)
    image = first[0][0]
    assert image.dtype == np.float64
    assert not np.array_equal(image, np.round(image))
    for index in VISIBLE + HIDDEN:
        assert not same(first[index], other[index])


def test_the_same_seed_and_secret_give_the_same_inputs(conv2d: Exercise) -> None:
    first = case_arguments(conv2d.spec, 7, SECRET)
    again = case_arguments(conv2d.spec, 7, SECRET)
    assert all(same(a, b) for a, b in zip(first, again, strict=True))


def test_another_secret_changes_hidden_inputs_and_not_visible_ones(conv2d: Exercise) -> None:
    ours = case_arguments(conv2d.spec, 7, SECRET)
    theirs = case_arguments(conv2d.spec, 7, OTHER_SECRET)
    for index in VISIBLE:
        assert same(ours[index], theirs[index])
    for index in HIDDEN:
        assert not same(ours[index], theirs[index])
        assert [a.shape for a in ours[index]] == [a.shape for a in theirs[index]]


def test_visible_inputs_are_reproduced_from_the_seed_alone(conv2d: Exercise) -> None:
    spec = conv2d.spec
    inputs = case_arguments(spec, 7, SECRET)
    for index in VISIBLE:
        rng = np.random.default_rng([7, index])
        drawn = tuple(_draw(rng, a, spec.shape_of(spec.cases[index], a)) for a in spec.arguments)
        assert same(inputs[index], drawn)


def test_hidden_inputs_are_drawn_from_the_seed_and_secret_as_default_rng_draws(
        conv2d: Exercise) -> None:
    spec = conv2d.spec
    inputs = case_arguments(spec, 7, SECRET)
    for index in HIDDEN:
        rng = np.random.default_rng(hidden_entropy(SECRET, spec.id, 7, index))
        drawn = tuple(_draw(rng, a, spec.shape_of(spec.cases[index], a)) for a in spec.arguments)
        assert same(inputs[index], drawn)


def test_the_seed_alone_does_not_reproduce_a_hidden_input(conv2d: Exercise) -> None:
    spec = conv2d.spec
    inputs = case_arguments(spec, 7, SECRET)
    for index in HIDDEN:
        rng = np.random.default_rng([7, index])
        drawn = tuple(_draw(rng, a, spec.shape_of(spec.cases[index], a)) for a in spec.arguments)
        assert not any(np.array_equal(x, y) for x, y in zip(inputs[index], drawn, strict=True))


def test_hidden_inputs_differ_between_exercises_for_the_same_seed(conv2d: Exercise) -> None:
    renamed = conv2d.spec.model_copy(update={"id": "conv2d_copy"})
    ours = case_arguments(conv2d.spec, 7, SECRET)
    theirs = case_arguments(renamed, 7, SECRET)
    assert same(ours[0], theirs[0])
    assert not same(ours[2], theirs[2])


def test_a_short_secret_is_refused(conv2d: Exercise) -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        case_arguments(conv2d.spec, 7, b"fifteen-bytes!!")
