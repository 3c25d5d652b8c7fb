"""Where a grading's expected outputs, and its known mistakes' outputs, come from.

Two implementations of one interface:

- ``TrustedOracle``: a built-in bundle's functions, called in the grader's process (trusted code
  shipped with the grader), on whatever seed;
- ``grader.grading.pool.PoolOracle``: a pushed bundle's outputs, computed in the sandbox when it was
  published, for a pool of seeds: a submission is graded with a seed of the pool.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

import numpy as np

from grader.catalog.exercises import Exercise
from grader.catalog.spec import ExerciseSpec
from grader.grading.inputs import call_args
from grader.sandbox.base import Runner

Arguments = tuple[np.ndarray, ...]
STAGE_ORDER = {"input": 0, "model": 1, "output": 2}


class Oracle(Protocol):
    def seed(self, seed: int) -> int:
        """The seed a submission drawn with ``seed`` is graded with."""
        ...

    def expected(self, seed: int, arguments: list[Arguments]) -> list[np.ndarray]:
        """Each case's expected output, as float64."""
        ...

    def mistakes(self, seed: int, index: int, args: Arguments) -> Iterator[tuple[str, np.ndarray]]:
        """The output of every known mistake (and pair) that applies to visible case ``index``,
        in the order they are tried: (code, output)."""
        ...


def model_codes(spec: ExerciseSpec) -> list[tuple[str, ...]]:
    """Every known mistake, then every pair of mistakes of different stages (in the order
    input, model, output), as tuples of codes."""
    stages = {m.code: m.stage for m in spec.mistakes}
    codes = list(stages)
    pairs = [(a, b) for i, a in enumerate(codes) for b in codes[i + 1:] if stages[a] != stages[b]]
    return [(c,) for c in codes] + [tuple(sorted(p, key=lambda c: STAGE_ORDER[stages[c]]))
                                     for p in pairs]


def call_trusted(function: Callable[..., object], args: Arguments) -> np.ndarray:
    return np.asarray(function(*call_args(args)), dtype=np.float64)


def mistake_models(exercise: Exercise) -> list[tuple[str, Callable[..., np.ndarray]]]:
    """Every known mistake, and every pair of mistakes of different stages, as a function of
    the arguments: (code, model). Single mistakes come first, in the spec's order."""
    stages = {m.code: m.stage for m in exercise.spec.mistakes}
    functions = exercise.mistakes
    reference = exercise.reference
    assert reference is not None, "a built-in exercise's"

    def composed(codes: tuple[str, ...]) -> Callable[..., np.ndarray]:
        def run(*args: np.ndarray) -> np.ndarray:
            by_stage = {stages[c]: functions[c] for c in codes}
            if "input" in by_stage:
                args = tuple(by_stage["input"](*args))
            output = by_stage.get("model", reference)(*args)
            if "output" in by_stage:
                output = by_stage["output"](np.asarray(output, dtype=np.float64))
            return np.asarray(output, dtype=np.float64)
        return run

    return [("+".join(c), composed(c)) for c in model_codes(exercise.spec)]


class TrustedOracle:
    """A built-in bundle's functions, called here."""

    def __init__(self, exercise: Exercise) -> None:
        assert exercise.reference is not None, "a built-in exercise's"
        self.reference = exercise.reference
        self.models = mistake_models(exercise)

    def seed(self, seed: int) -> int:
        return seed

    def expected(self, seed: int, arguments: list[Arguments]) -> list[np.ndarray]:
        return [call_trusted(self.reference, args) for args in arguments]

    def mistakes(self, seed: int, index: int, args: Arguments) -> Iterator[tuple[str, np.ndarray]]:
        for code, model in self.models:
            try:
                yield code, call_trusted(model, args)
            except ValueError:
                continue  # a mistake model that does not apply to these inputs


def oracle_for(exercise: Exercise, runner: Runner, hidden_secret: bytes) -> Oracle:
    """The exercise's oracle. A pushed one's outputs for this secret are read from the
    database, or computed in the sandbox (with ``runner``) the first time."""
    if exercise.pushed is not None:
        return exercise.pushed.oracle(exercise.spec, runner, hidden_secret)
    return TrustedOracle(exercise)
