"""Where a grading's expected outputs, and its known mistakes' outputs, come from.

Two implementations of one interface, both drawing nothing from storage:

- ``TrustedOracle``: a built-in bundle's functions, called in the grader's process (trusted code
  shipped with the grader);
- ``grader.grading.pushed.SandboxOracle``: a pushed bundle's functions, run in the sandbox on the
  submission's own inputs, right before they are compared.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from typing import Protocol

import numpy as np

from grader.catalog.exercises import Exercise
from grader.grading.inputs import Arguments, call_args
from grader.grading.mistakes import composed, model_codes
from grader.grading.parts import Part, transformed_arguments
from grader.grading.pushed import SandboxOracle
from grader.sandbox.base import Runner

__all__ = ["Arguments", "Oracle", "TrustedOracle", "mistake_models", "oracle_for"]


class Oracle(Protocol):
    def expected(self, seed: int, arguments: list[Arguments]) -> list[np.ndarray]:
        """Each case's expected output, as float64."""
        ...

    def mistakes(self, seed: int, index: int, args: Arguments) -> Iterator[tuple[str, np.ndarray]]:
        """The output of every known mistake (and pair) that applies to visible case ``index``,
        in the order they are tried: (code, output)."""
        ...

    def transformed(self, seed: int, index: int, args: Arguments
                    ) -> Iterator[tuple[Part, np.ndarray]]:
        """The reference's output on visible case ``index``'s arguments with one of them
        transposed or flipped (``grader.grading.parts.transformed_arguments``): (part,
        output)."""
        ...


def call_trusted(function: Callable[..., object], args: Arguments) -> np.ndarray:
    return np.asarray(function(*call_args(args)), dtype=np.float64)


def mistake_models(exercise: Exercise) -> list[tuple[str, Callable[..., object]]]:
    """Every known mistake, and every pair of mistakes of different stages, as a function of
    the arguments: (code, model). Single mistakes come first, in the spec's order."""
    reference = exercise.reference
    assert reference is not None, "a built-in exercise's"
    return [("+".join(codes), composed(reference, exercise.mistakes, exercise.spec, codes))
            for codes in model_codes(exercise.spec)]


# An exercise's mistake models, composed once per loaded exercise rather than per grading
# (they are pure functions of their arguments), by id; an entry goes with its exercise.
_models: dict[int, list[tuple[str, Callable[..., object]]]] = {}


def _models_of(exercise: Exercise) -> list[tuple[str, Callable[..., object]]]:
    models = _models.get(id(exercise))
    if models is None:
        models = mistake_models(exercise)
        if _models.setdefault(id(exercise), models) is models:
            weakref.finalize(exercise, _models.pop, id(exercise), None)
    return models


class TrustedOracle:
    """A built-in bundle's functions, called here."""

    def __init__(self, exercise: Exercise) -> None:
        assert exercise.reference is not None, "a built-in exercise's"
        self.reference = exercise.reference
        self.models = _models_of(exercise)
        self.names = [argument.name for argument in exercise.spec.arguments]

    def expected(self, seed: int, arguments: list[Arguments]) -> list[np.ndarray]:
        return [call_trusted(self.reference, args) for args in arguments]

    def mistakes(self, seed: int, index: int, args: Arguments) -> Iterator[tuple[str, np.ndarray]]:
        for code, model in self.models:
            try:
                yield code, call_trusted(model, args)
            except ValueError:
                continue  # a mistake model that does not apply to these inputs

    def transformed(self, seed: int, index: int, args: Arguments
                    ) -> Iterator[tuple[Part, np.ndarray]]:
        for part, changed in transformed_arguments(args, self.names):
            try:
                yield part, call_trusted(self.reference, changed)
            except ValueError:
                continue  # a change the reference refuses


def oracle_for(exercise: Exercise, runner: Runner, hidden_secret: bytes) -> Oracle:
    """The exercise's oracle: a built-in one's functions, called here; a pushed one's, run
    with ``runner`` in the sandbox, for each submission's inputs."""
    if exercise.pushed is not None:
        return SandboxOracle(exercise.spec, exercise.pushed, runner, hidden_secret)
    return TrustedOracle(exercise)
