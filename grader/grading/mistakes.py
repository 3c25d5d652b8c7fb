"""Known mistakes as models: which ones are tried, and how a pair of them is composed.

A spec's mistake is a whole wrong solution (``model``), a change to the arguments before a
solution runs (``input``), or a change to its output (``output``). Every mistake is tried alone,
and every pair of mistakes of different stages together: input, then the model (or the
reference), then output. ``compose`` is that composition, written once: called here for a
built-in bundle's trusted functions, and run in the sandbox for code that may not run here (a
pushed bundle's, and the proof's submissions), whose source embeds ``compose``'s own source
(``compose_source``), so that both run the same lines.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable, Mapping
from typing import Any

from grader.catalog.spec import ExerciseSpec

STAGE_ORDER = {"input": 0, "model": 1, "output": 2}
# The name compose has in a sandboxed module's namespace, and the file its frames show.
COMPOSE_NAME = "__grader_compose__"
COMPOSE_FILE = "<grader: known mistakes>"


def model_codes(spec: ExerciseSpec) -> list[tuple[str, ...]]:
    """Every known mistake, then every pair of mistakes of different stages (in the order
    input, model, output), as tuples of codes."""
    stages = {m.code: m.stage for m in spec.mistakes}
    codes = list(stages)
    pairs = [(a, b) for i, a in enumerate(codes) for b in codes[i + 1:] if stages[a] != stages[b]]
    return [(c,) for c in codes] + [tuple(sorted(p, key=lambda c: STAGE_ORDER[stages[c]]))
                                     for p in pairs]


def compose(reference: Callable[..., Any], input: Callable[..., Any] | None = None,
            model: Callable[..., Any] | None = None,
            output: Callable[..., Any] | None = None) -> Callable[..., Any]:
    """The solution a learner who made these mistakes writes: ``input`` changes the arguments,
    ``model`` (or else the reference) computes, ``output`` changes the result, as float64.
    Its source also runs in the sandbox: it uses nothing but its arguments and numpy."""
    import numpy

    def solution(*args: Any) -> Any:
        if input is not None:
            args = tuple(input(*args))
        result = (model or reference)(*args)
        if output is not None:
            result = output(numpy.asarray(result, dtype=numpy.float64))
        return result

    return solution


def stages(spec: ExerciseSpec, codes: tuple[str, ...]) -> dict[str, str]:
    """The mistakes of ``codes`` by stage: ``{"input": code, "output": code}``."""
    by_code = {m.code: m.stage for m in spec.mistakes}
    return {by_code[code]: code for code in codes}


def composed(reference: Callable[..., Any], functions: Mapping[str, Callable[..., Any]],
             spec: ExerciseSpec, codes: tuple[str, ...]) -> Callable[..., Any]:
    """The model of ``codes`` (none: the reference), of functions by mistake code, here."""
    return compose(reference, **{stage: functions[code]
                                 for stage, code in stages(spec, codes).items()})


def compose_source() -> str:
    """Python source that binds ``COMPOSE_NAME`` to ``compose`` in the module it ends: the
    function's own source, compiled under ``COMPOSE_FILE`` (so that an error's line is never
    taken for one of the module's own), in a namespace of its own."""
    code = "from __future__ import annotations\n" + textwrap.dedent(inspect.getsource(compose))
    return (f"{COMPOSE_NAME} = {{}}\n"
            f"exec(compile({code!r}, {COMPOSE_FILE!r}, 'exec'), {COMPOSE_NAME})\n"
            f"{COMPOSE_NAME} = {COMPOSE_NAME}['compose']\n")


def composed_source(spec: ExerciseSpec, codes: tuple[str, ...], reference: str,
                    name_of: Callable[[str], str]) -> str:
    """A Python expression, after ``compose_source``: the model of ``codes`` composed of the
    expressions ``reference`` and ``name_of(code)`` for each mistake."""
    parts = [reference] + [f"{stage}={name_of(code)}"
                           for stage, code in stages(spec, codes).items()]
    return f"{COMPOSE_NAME}({', '.join(parts)})"
