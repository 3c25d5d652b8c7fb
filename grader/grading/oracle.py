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
from grader.grading.mistakes import composed, model_codes, stages
from grader.grading.parts import Part, transformed_arguments
from grader.grading.pushed import SandboxOracle
from grader.sandbox.base import Runner

__all__ = ["Arguments", "Oracle", "TrustedOracle", "mistake_models", "oracle_for"]


class Oracle(Protocol):
    # its functions run in the grader's process: quick enough to run while a child loads
    in_process: bool

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


Models = list[tuple[str, Callable[..., object]]]
Pairs = dict[str, tuple[str, Callable[..., object]]]


def output_pairs(exercise: Exercise) -> Pairs:
    """The pairs that end with a mistake of the ``output`` stage, by code: the other mistake's
    code and the output stage's function. Such a pair's output is that function applied to
    the other mistake's output (``compose``), which is computed before it."""
    pairs = {}
    for codes in model_codes(exercise.spec):
        by_stage = stages(exercise.spec, codes)
        if len(codes) == 2 and "output" in by_stage:
            other = next(code for stage, code in by_stage.items() if stage != "output")
            pairs["+".join(codes)] = (other, exercise.mistakes[by_stage["output"]])
    return pairs


# An exercise's mistake models, composed once per loaded exercise rather than per grading
# (they are pure functions of their arguments), with its ``output_pairs``, by id; an entry
# goes with its exercise.
_models: dict[int, tuple[Models, Pairs]] = {}


def _models_of(exercise: Exercise) -> tuple[Models, Pairs]:
    models = _models.get(id(exercise))
    if models is None:
        models = mistake_models(exercise), output_pairs(exercise)
        if _models.setdefault(id(exercise), models) is models:
            weakref.finalize(exercise, _models.pop, id(exercise), None)
    return models


class TrustedOracle:
    """A built-in bundle's functions, called here."""

    in_process = True

    def __init__(self, exercise: Exercise) -> None:
        assert exercise.reference is not None, "a built-in exercise's"
        self.reference = exercise.reference
        self.models, self.pairs = _models_of(exercise)
        self.names = [argument.name for argument in exercise.spec.arguments]

    def expected(self, seed: int, arguments: list[Arguments]) -> list[np.ndarray]:
        return [call_trusted(self.reference, args) for args in arguments]

    def mistakes(self, seed: int, index: int, args: Arguments) -> Iterator[tuple[str, np.ndarray]]:
        outputs: dict[str, np.ndarray] = {}
        for code, model in self.models:
            try:
                output = self._output(code, model, args, outputs)
            except ValueError:
                continue  # a mistake model that does not apply to these inputs
            if output is not None:
                outputs[code] = output
                yield code, output

    def _output(self, code: str, model: Callable[..., object], args: Arguments,
                outputs: dict[str, np.ndarray]) -> np.ndarray | None:
        """``model``'s output; a pair ending with an output-stage mistake reuses the other
        mistake's output (None when that one does not apply: neither does the pair). Should
        the output stage change the array it is given, the pair is computed anew."""
        if code not in self.pairs:
            return call_trusted(model, args)
        other, change = self.pairs[code]
        if other not in outputs:
            return None
        given = outputs[other]
        before = given.copy()
        try:
            output = np.asarray(change(given), dtype=np.float64)
        finally:
            changed = given.tobytes() != before.tobytes()
            if changed:
                np.copyto(given, before)
        return call_trusted(model, args) if changed else output

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
