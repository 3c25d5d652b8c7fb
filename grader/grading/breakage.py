"""Crashes of code that was right when it was written: idioms that Python 3 or NumPy 2 removed,
imports of what the sandbox does not have (SciPy, plotting, notebooks' helpers), and what
else it does not have (threads, files); code written for arrays of another number of axes
(a colour image's three sizes unpacked from a grey one's shape), and code written for Python
lists given arrays (a list joined with ``+``, Python's ``max`` of a patch).

Each idiom is data: the exception's type, a pattern its message must match, one the learner's
line (as the child reports it) must match, when the line is known, and one it must not (code
that no version ever ran, which the same exception follows). A match names the
idiom and its fix, beside the crash itself, which the case's verdict already shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass

from grader.grading.messages import Msg, say
from grader.grading.numbers import shape as show_shape
from grader.sandbox.base import LearnerError
from grader.sandbox.modules import importable, numpy_parts


def imports_note() -> str:
    """What learner code may import, said beside an exercise's statement."""
    return say(Msg.IMPORTS_NOTE, **_importable_words())


def _importable_words() -> dict[str, str]:
    """The fields a sentence on what may be imported fills: numpy's parts, the other modules."""
    return {"numpy_parts": ", ".join(numpy_parts()),
            "modules": ", ".join(name for name in importable() if name != "numpy")}


Shapes = Set[tuple[int, ...]]


@dataclass(frozen=True)
class Idiom:
    code: str
    type: str
    message: re.Pattern[str]
    line: re.Pattern[str] | None  # None: any line, or none known
    words: Msg
    unless: re.Pattern[str] | None = None  # a line that rules the idiom out
    needs_line: bool = False  # named only when the learner's line is known (and matches)
    # a check of the message's match, the learner's line (as written, or "") and the shapes
    # of the case's arguments (none when unknown)
    holds: Callable[[re.Match[str], str, Shapes], bool] | None = None


# A line that reaches for files or folders: the sandbox has no file system at all.
_FILE_CALL = re.compile(r"\b(open|getcwd|listdir|scandir|chdir|mkdir|makedirs|remove|Path|"
                        r"imread|imwrite|imsave|savefig|savetxt|loadtxt|genfromtxt|load|save|"
                        r"savez|fromfile|tofile)\s*\(")

# A module's usual name, used as a module (``np.zeros``) with no import of it.
_MODULE = "np|numpy|math|random|itertools|functools|collections|time|os|sys"
# Python's own max() or min() (not a method's, not NumPy's) called on the line.
_BUILTIN_MAX = re.compile(r"(?<![.\w])(max|min)\s*\(")
# A list literal repeated and joined with + ([0] * n + x, x + [0] * n); not an index's brackets.
_LIST_JOINED = re.compile(r"(?<![\w\])])\[[^\]]*\]\s*\*\s*[\w.()]+\s*\+|"
                          r"\+\s*\[[^\]]*\]\s*\*")
# A subscript with a slice in it, and a moving window: a slice whose start and stop both
# name the same loop variable (x[i:i + k], image[:, i * s:i * s + p]).
_SLICED = re.compile(r"\[[^\[\]]*:[^\[\]]*\]")
_INDEX = re.compile(r"\[[^\[\]:]*\]")  # a subscript without a slice: w[o], k.shape[0]
_ANY_SLICE = re.compile(r"\[[^\]]*:")
_MOVING = re.compile(r"(?:^|[\[,])\s*[^:,\[\]]*?\b([A-Za-z_]\w*)\b[^:,\[\]]*:"
                     r"[^:,\[\]]*\b\1\b")
_SHAPES = re.compile(r"operands could not be broadcast together with shapes "
                     r"\(([\d,]*)\) \(([\d,]*)\)\s*$")
# A slice's width written as a number: x[i:i + 3]
_WIDTH = re.compile(r":\s*[\w.]+\s*\+\s*(\d+)\s*[],]")


def _cut_short(found: re.Match[str], line: str, arguments: Shapes) -> bool:
    """Whether one of two shapes that could not be broadcast is a moving window shorter than
    the other, the kernel: as long along every axis but one or more, which are shorter. The
    line takes one subscript with a slice, a moving window; the longer shape is an argument's
    (or what indexing one leaves: ``weights[o]``), the shorter none's. Not when the shorter
    lengths are widths the line writes as numbers (too narrow everywhere:
    ``raises_on_other_values`` tells it). Without the case's ``arguments``, never."""
    short, full = _shapes_of(found)
    if len(short) != len(full) or not short or short == full \
            or not all(0 < a <= b for a, b in zip(short, full, strict=True)):
        return False
    code = _code(line)
    plain = code
    while _INDEX.search(plain):  # x[i:i + w.shape[0]] is a window's slice
        plain = _INDEX.sub("", plain)
    subscripts = _SLICED.findall(plain)
    if len(subscripts) != 1 or not _MOVING.search(subscripts[0]):
        return False
    if short in arguments or not any(shape[len(shape) - len(full):] == full
                                     for shape in arguments):
        return False
    written = {int(n) for n in _WIDTH.findall(code)}
    return not all(a in written for a, b in zip(short, full, strict=True) if a < b)


def _shapes_of(found: re.Match[str]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The two shapes of a broadcast error's message, the smaller first."""
    first, second = (tuple(int(n) for n in group.split(",") if n)
                     for group in found.groups()[:2])
    return (first, second) if all(a <= b for a, b in zip(first, second, strict=False)) \
        else (second, first)


# np.zeros(h, w) and its kin: an array made of sizes given one by one, not as one tuple
_SIZES_ONE_BY_ONE = re.compile(r"(?<![\w.])(?:(?:np|numpy)\.)?(zeros|ones|empty|full)\s*\(")
_CALL_SHOWN = 120  # the longest call shown as it should be written
# A positional argument that reads as a dtype (np.float32, 'float64', float): the call may
# mean it so, and is not written again
_DTYPE_LIKE = re.compile(r"^(?:(?:np|numpy)\.\w+|['\"].*['\"]|float|int|bool|complex|object|"
                         r"str)$")


def _masked(line: str) -> str:
    """``line`` with its string literals' insides and its comment blanked, as long as it was:
    brackets and commas in them are not the code's."""
    blank = re.sub(r"'[^']*'|\"[^\"]*\"", lambda m: m.group(0)[0] + " " * (len(m.group(0)) - 2)
                   + m.group(0)[0], line)
    comment = blank.find("#")
    return blank if comment < 0 else blank[:comment] + " " * (len(blank) - comment)


def _arguments(line: str, masked: str, start: int) -> list[str] | None:
    """The arguments (as written) of the call whose "(" ends at ``start``; None when the call
    does not end on the line."""
    arguments, depth = [], 0
    for at in range(start, len(masked)):
        char = masked[at]
        if char in "([{":
            depth += 1
        elif char in ")]}" and depth:
            depth -= 1
        elif char in ",)" and not depth:
            arguments.append(line[start:at].strip())
            start = at + 1
            if char == ")":
                return [a for a in arguments if a]
    return None


def shape_call(line: str) -> tuple[str, str] | None:
    """(function, the call as it should be written, or "" when it cannot be) for the first
    call of ``_SIZES_ONE_BY_ONE`` on ``line`` that gives two sizes or more one by one; None
    when there is none (a shape given whole, ``np.zeros((h, w), 3)`` or ``np.zeros(shape,
    n)``, is another mistake, and a call that goes on past the line is not read)."""
    masked = _masked(line)
    for found in _SIZES_ONE_BY_ONE.finditer(masked):
        arguments = _arguments(line, masked, found.end())
        if arguments is None:
            continue
        positional = [a for a in arguments if not re.match(r"\w+\s*=(?!=)", a)]
        named = [a for a in arguments if a not in positional]
        name = found.group(1)
        sizes = positional[:-1] if name == "full" else positional  # full's last: its value
        if len(sizes) < 2 or sizes[0][:1] in "([*" or sizes[0].endswith("shape"):
            continue
        if any(_DTYPE_LIKE.match(size) for size in sizes[1:]):
            return name, ""  # sizes, then a dtype by position: which is which is unsure
        rest = [*positional[len(sizes):], *named]
        call = (line[found.start():found.end()] + "(" + ", ".join(sizes) + ")"
                + "".join(f", {a}" for a in rest) + ")")
        return name, call if len(call) <= _CALL_SHOWN else ""
    return None


# The arguments of a call up to its first top-level comma (brackets and plain parentheses
# inside it skipped): one argument when ``)`` follows, two or more when ``,`` does.
_ARGUMENT = r"(?:[^,()\[\]]|\([^()]*\)|\[[^\]]*\])*"

IDIOMS = (
    Idiom("numpy2_array_to_scalar", "TypeError",
          re.compile(r"only (0-dimensional|length-1|size-1) arrays can be converted"),
          re.compile(r"\b(float|int|complex)\s*\("), Msg.ARRAY_TO_SCALAR),
    Idiom("numpy2_array_into_element", "ValueError",
          re.compile(r"setting an array element with a sequence"),
          re.compile(r"\]\s*[-+*/]?=(?!=)"), Msg.ARRAY_INTO_ELEMENT,
          # a sum along some axes only, or Python's sum of an array (along its first axis),
          # leaves several values: wrong in every NumPy
          re.compile(r"\baxis\s*=\s*(?!None\b)|(?<![.\w])sum\s*\((?!\s*sum\b)")),
    Idiom("python2_division", "TypeError",
          re.compile(r"'float' object cannot be interpreted as an integer|slice indices must "
                     r"be integers|only integers, slices .* are valid indices"),
          re.compile(r"(?<![/])/(?![/=])"), Msg.FLOAT_AS_INDEX),
    Idiom("python2_division", "IndexError",
          re.compile(r"only integers, slices .* are valid indices"),
          re.compile(r"(?<![/])/(?![/=])"), Msg.FLOAT_AS_INDEX),
    Idiom("numpy_removed_alias", "AttributeError",
          re.compile(r"module 'numpy' has no attribute '(float|int|bool|complex|object|str)'"),
          None, Msg.REMOVED_NUMPY_ALIAS),
    Idiom("python2_name", "NameError", re.compile(r"name '(xrange|raw_input|unicode|long)'"),
          None, Msg.PYTHON2_NAME),
    Idiom("module_not_imported", "NameError", re.compile(rf"name '({_MODULE})' is not defined"),
          re.compile(rf"(?<![\w.])({_MODULE})\s*\."), Msg.MODULE_NOT_IMPORTED),
    Idiom("module_not_available", "ModuleNotFoundError", re.compile(r"No module named '([^']+)'"),
          None, Msg.MODULE_NOT_AVAILABLE),
    Idiom("threads_not_available", "RuntimeError", re.compile(r"can't start new thread"),
          None, Msg.THREADS_NOT_AVAILABLE),
    *(Idiom("no_file_system", kind, re.compile(r"Errno"), _FILE_CALL, Msg.NO_FILE_SYSTEM)
      for kind in ("PermissionError", "FileNotFoundError")),
    Idiom("list_added_to_array", "ValueError",
          re.compile(r"operands could not be broadcast together"), _LIST_JOINED,
          Msg.LIST_ADDED_TO_ARRAY, needs_line=True),
    Idiom("window_past_edge", "ValueError", _SHAPES, _ANY_SLICE, Msg.WINDOW_PAST_EDGE,
          needs_line=True, holds=_cut_short),
    Idiom("builtin_max_of_array", "ValueError",
          re.compile(r"truth value of an array with more than one element is ambiguous"),
          _BUILTIN_MAX, Msg.BUILTIN_MAX_OF_ARRAY, needs_line=True),
    Idiom("numpy2_integer_out_of_bounds", "OverflowError",
          re.compile(r"Python integer (-?\d+) out of bounds for (u?int\d+)"), None,
          Msg.INTEGER_OUT_OF_BOUNDS),
    Idiom("shape_indexed", "IndexError", re.compile(r"tuple index out of range"),
          re.compile(r"\.shape\s*\[|\bshape\s*\([^)]*\)\s*\["), Msg.SHAPE_INDEXED),
    Idiom("input_asked", "EOFError", re.compile(r"EOF when reading a line"),
          re.compile(r"(?<![\w.])(input|raw_input)\s*\("), Msg.INPUT_ASKED),
    Idiom("array_as_index", "TypeError",
          re.compile(r"only integer scalar arrays can be converted to a scalar index"), None,
          Msg.ARRAY_AS_INDEX),
    Idiom("shape_not_a_tuple", "TypeError",
          re.compile(r"Cannot interpret '[^']*' as a data type"), None,
          Msg.SHAPE_NOT_A_TUPLE, needs_line=True,
          holds=lambda _, line, __: shape_call(line) is not None),
    Idiom("shape_unpacked", "ValueError",
          re.compile(r"(not enough|too many) values to unpack \(expected (\d+)(?:, got (\d+))?\)"),
          re.compile(r"\.shape\b|\bshape\s*\("), Msg.SHAPE_UNPACKED),
)

_PYTHON3 = {"xrange": "range", "raw_input": "input", "unicode": "str", "long": "int"}


@dataclass(frozen=True)
class Breakage:
    code: str
    message: str


def idiom_of(error: LearnerError, source: str = "", arguments: Shapes = frozenset(),
             ) -> Breakage | None:
    """The removed idiom ``error`` comes from, or None. A division may sit on an earlier line
    of ``source`` (the submission), in a name that the failing line uses: ``n = h / 2`` and
    then ``np.zeros((n, n))``. ``arguments``: the shapes of the case's arguments, if known."""
    for idiom in IDIOMS:
        if error.type != idiom.type:
            continue
        found = idiom.message.search(error.message or "")
        if found is None:
            continue
        if idiom.needs_line and not error.text:
            continue
        if idiom.holds is not None and not idiom.holds(found, error.text or "", arguments):
            continue
        if idiom.line is not None and error.text and not idiom.line.search(_code(error.text)) \
                and not (idiom.words is Msg.FLOAT_AS_INDEX
                         and _divided_names(source) & _names(error.text)):
            continue
        if idiom.unless is not None and error.text and idiom.unless.search(_code(error.text)):
            continue
        return Breakage(idiom.code, _words(idiom, error, found))
    return None


_ASSIGNMENT = re.compile(r"^[ \t]*([A-Za-z_]\w*(?:[ \t]*,[ \t]*[A-Za-z_]\w*)*)[ \t]*=(?!=)(.*)$",
                         re.MULTILINE)
_DIVISION = re.compile(r"(?<![/])/(?![/=])")
_NAME = re.compile(r"[A-Za-z_]\w*")


def _divided_names(source: str) -> set[str]:
    """Names that ``source`` assigns from an expression with a true division in it."""
    names: set[str] = set()
    for assigned in _ASSIGNMENT.finditer(source):
        if _DIVISION.search(_code(assigned.group(2))):
            names.update(_NAME.findall(assigned.group(1)))
    return names


def _names(line: str) -> set[str]:
    return set(_NAME.findall(_code(line)))


def _code(line: str) -> str:
    """The line without its comment and string literals (a '/' in a string is no division)."""
    line = re.sub(r"('[^']*'|\"[^\"]*\")", "''", line)
    return line.split("#", 1)[0]


def _words(idiom: Idiom, error: LearnerError, found: re.Match[str]) -> str:
    if idiom.words is Msg.ARRAY_TO_SCALAR:
        call = re.search(r"\b(float|int|complex)\s*\(", _code(error.text or ""))
        return say(idiom.words, call=f"{call.group(1)}()" if call else "float() or int()")
    if idiom.words is Msg.REMOVED_NUMPY_ALIAS:
        return say(idiom.words, name=found.group(1))
    if idiom.words is Msg.MODULE_NOT_AVAILABLE:
        return say(idiom.words, name=found.group(1)[:60], **_importable_words())
    if idiom.words is Msg.MODULE_NOT_IMPORTED:
        name = found.group(1)
        return say(idiom.words, name=name,
                   statement="import numpy as np" if name == "np" else f"import {name}")
    if idiom.words is Msg.INTEGER_OUT_OF_BOUNDS:
        return say(idiom.words, value=found.group(1)[:20], dtype=found.group(2))
    if idiom.words is Msg.BUILTIN_MAX_OF_ARRAY:
        line = _code(error.text or "")
        called = _BUILTIN_MAX.search(line)
        name = called.group(1) if called else "max"
        pair = called is not None and re.match(_ARGUMENT + ",", line[called.end():]) is not None
        return say(Msg.BUILTIN_MAX_OF_TWO if pair else idiom.words, name=name)
    if idiom.words is Msg.SHAPE_UNPACKED:
        expected, got = found.group(2), found.group(3)
        return say(idiom.words, expected=expected,
                   got=got if got else say(Msg.MORE_THAN, count=expected))
    if idiom.words is Msg.WINDOW_PAST_EDGE:
        short, full = _shapes_of(found)
        return say(idiom.words, short=show_shape(short), full=show_shape(full))
    if idiom.words is Msg.SHAPE_NOT_A_TUPLE:
        name, written = shape_call(error.text or "") or ("zeros", "")
        example = written or f"np.{name}((h, w){', value' if name == 'full' else ''})"
        return say(idiom.words, name=name, example=example)
    if idiom.words is Msg.PYTHON2_NAME:
        name = found.group(1)
        return say(idiom.words, name=name, replacement=_PYTHON3[name])
    return say(idiom.words)


def breakages(errors: Iterable[tuple[str, LearnerError]], source: str = "",
              arguments: Mapping[str, Shapes] | None = None,
              ) -> dict[str, tuple[str, list[str]]]:
    """The removed idioms behind ``errors`` (case name, error) of ``source``: code -> (words,
    cases). ``arguments``: by case name, the shapes of its arguments."""
    found: dict[str, tuple[str, list[str]]] = {}
    for name, error in errors:
        breakage = idiom_of(error, source, (arguments or {}).get(name, frozenset()))
        if breakage is not None:
            found.setdefault(breakage.code, (breakage.message, []))[1].append(name)
    return found
