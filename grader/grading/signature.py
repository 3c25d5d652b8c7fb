"""The learner's own parameter names, read from the source's text (parsed, never run): a
function whose parameters name the exercise's arguments in another order is told so.

The grader calls the entry point with the arguments in the exercise's order, by position.
A learner who copied ``conv2d(image, kernel, padding, stride)`` from a tutorial, where the
exercise passes ``(image, kernel, stride, padding)``, computes right on the wrong values; no
look at the outputs can say why as plainly as the two orders side by side.
"""

from __future__ import annotations

import ast

from grader.catalog.bundle import parse_python
from grader.catalog.spec import ExerciseSpec
from grader.grading.diagnose import Diagnosis
from grader.grading.messages import Msg, say
from grader.sandbox.base import SUBMISSION_FILE

SHORTEST_PREFIX = 3  # "pad" names "padding"; "s" or "k" name nothing for certain


def parameters(source: str, entry: str) -> list[str] | None:
    """The positional parameters of the last top-level ``def entry`` (the one a run keeps),
    or None when there is none, or the source does not parse."""
    try:
        tree = parse_python(source, SUBMISSION_FILE)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    found = None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == entry:
            found = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
    return found


def _names(parameter: str, argument: str) -> bool:
    """Whether a parameter's name is the argument's: the same, or one the other's start of
    at least SHORTEST_PREFIX letters, whatever the case and leading or trailing underscores."""
    mine, theirs = parameter.strip("_").lower(), argument.lower()
    if mine == theirs:
        return True
    return min(len(mine), len(theirs)) >= SHORTEST_PREFIX \
        and (mine.startswith(theirs) or theirs.startswith(mine))


def reordered(names: list[str], arguments: list[str]) -> bool:
    """Whether two of the parameters each name one argument alone, in the reverse order of
    the arguments' (the rest may be named anyhow)."""
    matched: list[int] = []
    for position, name in enumerate(names[: len(arguments)]):
        hits = [i for i, argument in enumerate(arguments) if _names(name, argument)]
        if len(hits) == 1 and hits[0] != position:
            matched.append(hits[0])
    return any(later < earlier for i, earlier in enumerate(matched)
               for later in matched[i + 1:])


def argument_order(source: str, spec: ExerciseSpec) -> Diagnosis | None:
    """That the entry point takes the exercise's arguments in another order, or None."""
    names = parameters(source, spec.entry_point)
    arguments = [argument.name for argument in spec.arguments]
    if names is None or not reordered(names, arguments):
        return None
    return Diagnosis("argument_order", say(
        Msg.ARGUMENT_ORDER, entry=spec.entry_point, mine=", ".join(names),
        theirs=", ".join(arguments)))
