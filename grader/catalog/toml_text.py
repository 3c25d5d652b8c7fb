"""A spec's TOML text: read within bounds, and where in it a field is.

Every upload's spec is read here first. Before ``tomllib`` sees the text, its size and how
deeply its arrays and inline tables nest are bounded (``MAX_SPEC_CHARS``, ``MAX_TOML_DEPTH``):
``tomllib`` recurses once per level, and a few kilobytes of brackets would otherwise reach
Python's recursion limit. Every error is a ``SpecError`` that names the file and, where it can,
the line.
"""

from __future__ import annotations

import re
import sys
import tomllib
from typing import Any

from pydantic import ValidationError

from grader.errors import InvalidInput

MAX_SPEC_CHARS = 256 * 1024  # a spec is a page of settings, not data
MAX_TOML_DEPTH = 16  # arrays and inline tables inside each other (a 4-D array needs 5)


class SpecError(InvalidInput):
    """A spec file that cannot be used. The message names the file and each bad field."""


_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_STRING_QUOTES = ('"""', "'''", '"', "'")


def nesting(text: str) -> tuple[int, int]:
    """The deepest nesting of ``[`` and ``{`` in a TOML text, outside strings and comments,
    and the line (from 1) where it is first reached. A table header (``[[cases]]``) counts
    as its brackets. Unbalanced text is tomllib's to refuse; this only measures."""
    depth = deepest = 0
    line = deepest_line = 1
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\n":
            line += 1
        elif char == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif char in "\"'":
            quote = next(q for q in _STRING_QUOTES if text.startswith(q, i))
            end = _string_end(text, i + len(quote), quote)
            line += text.count("\n", i, end)
            i = end
            continue
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest, deepest_line = depth, line
        elif char in "]}":
            depth = max(0, depth - 1)
        i += 1
    return deepest, deepest_line


def _string_end(text: str, start: int, quote: str) -> int:
    """Where a string that opened with ``quote`` before ``start`` ends (past its quote); a
    basic string's backslash escapes the next character. The end of the text if it never
    closes."""
    basic = quote[0] == '"'
    i = start
    while i < len(text):
        if basic and text[i] == "\\":
            i += 2
            continue
        if text.startswith(quote, i):
            return i + len(quote)
        if len(quote) == 1 and text[i] == "\n":
            return i  # a one-line string ends at its line, closed or not
        i += 1
    return len(text)


def read_toml(text: str, source: str) -> dict[str, Any]:
    """A TOML text's data, bounded in size and depth first. Raises SpecError naming
    ``source`` and the line."""
    if len(text) > MAX_SPEC_CHARS:
        raise SpecError(f"{source}: the spec is {len(text)} characters long, more than the "
                        f"{MAX_SPEC_CHARS} allowed")
    depth, line = nesting(text)
    if depth > MAX_TOML_DEPTH:
        raise SpecError(f"{source}:{line}: arrays and inline tables nest {depth} deep, more "
                        f"than the {MAX_TOML_DEPTH} allowed")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        at = _TOML_AT.search(message)
        if at:
            raise SpecError(f"{source}:{at.group(1)}:{at.group(2)}: not valid TOML: "
                            f"{message[:at.start()]}") from None
        if message.endswith("(at end of document)"):
            raise SpecError(f"{source}:{len(text.splitlines())}: not valid TOML: "
                            f"{message.removesuffix(' (at end of document)')}, at the end of "
                            "the file") from None
        raise SpecError(f"{source}: not valid TOML: {message}") from None
    except ValueError:  # tomllib reads an integer of any length; int() takes so many digits
        digits = sys.get_int_max_str_digits()
        long_number = re.search(rf"\d{{{digits + 1}}}", text)
        where = f":{text.count(chr(10), 0, long_number.start()) + 1}" if long_number else ""
        raise SpecError(f"{source}{where}: not valid TOML: a "
                        f"number of more than {digits} digits") from None
    except (RecursionError, MemoryError) as error:  # bounded above; never a 500
        raise SpecError(f"{source}: not valid TOML: {type(error).__name__}") from None


# -- where in a TOML file a field is -----------------------------------------------------------

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\"-]+)\s*\]\]?")
_KEY = re.compile(r"^\s*([A-Za-z0-9_.\"-]+)\s*=")
_PATH = re.compile(r"^(?:Value error, )?([A-Za-z_][\w]*(?:\[\d+\]|\.[A-Za-z_]\w*)*): (.*)$",
                   re.DOTALL)


def toml_lines(text: str) -> dict[tuple[str | int, ...], int]:
    """Each table and key of a TOML text, as a pydantic-style path, and its line (from 1):
    ``("cases", 2, "shapes")`` is the ``shapes`` key of the third ``[[cases]]``. Keys inside
    inline tables are not listed; their key's line stands for them."""
    lines: dict[tuple[str | int, ...], int] = {}
    counts: dict[tuple[str | int, ...], int] = {}
    table: tuple[str | int, ...] = ()
    in_string: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if in_string is not None:
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        header = _HEADER.match(line)
        if header:
            keys = tuple(k.strip('"') for k in header.group(2).split("."))
            if header.group(1) == "[[":
                index = counts.get(keys, 0)
                counts[keys] = index + 1
                table = (*keys, index)
            else:
                table = keys
            lines.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            path = (*table, *(k.strip('"') for k in key.group(1).split(".")))
            lines.setdefault(path, number)
            rest = line[key.end():]
            for quote in ('"""', "'''"):
                if rest.count(quote) % 2 == 1:
                    in_string = quote
    return lines


def parse_where(where: str) -> tuple[str | int, ...]:
    parts: list[str | int] = []
    for name, index in re.findall(r"([A-Za-z_]\w*)|\[(\d+)\]", where):
        parts.append(int(index) if index else name)
    return tuple(parts)


def line_of(lines: dict[tuple[str | int, ...], int], loc: tuple[str | int, ...]) -> int | None:
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def format_errors(source: str, error: ValidationError, text: str | None = None) -> str:
    lines = toml_lines(text) if text is not None else {}
    out = [f"{source}: invalid exercise spec"]
    for item in error.errors():
        loc = tuple(item["loc"])
        message = item["msg"]
        found = _PATH.match(message)
        if found:  # a validator's error, located by its path
            loc = (*loc, *parse_where(found.group(1)))
            message = found.group(2)
        where = ".".join(str(p) for p in loc) or "(top level)"
        line = line_of(lines, loc)
        out.append(f"  {source}:{line}: {where}: {message}" if line
                   else f"  {where}: {message}")
    return "\n".join(out)
