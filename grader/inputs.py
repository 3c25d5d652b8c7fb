"""Case inputs, drawn fresh for every submission from a seed that the report records."""

from __future__ import annotations

import secrets

import numpy as np

from grader.spec import Argument, ExerciseSpec


def new_seed() -> int:
    return secrets.randbits(63)


def _draw(rng: np.random.Generator, argument: Argument, shape: tuple[int, ...]) -> np.ndarray:
    if argument.distribution == "normal":
        values = rng.normal(argument.mean, argument.std, size=shape)
    else:
        values = rng.uniform(argument.low, argument.high, size=shape)
    if argument.dtype == "int64":
        return np.rint(values).astype(np.int64)
    return values.astype(argument.dtype)


def case_arguments(spec: ExerciseSpec, seed: int) -> list[tuple[np.ndarray, ...]]:
    """One tuple of arguments per case, in order. Each case has its own stream of the seed."""
    cases = []
    for index, case in enumerate(spec.cases):
        rng = np.random.default_rng([seed, index])
        cases.append(tuple(_draw(rng, a, spec.shape_of(case, a)) for a in spec.arguments))
    return cases
