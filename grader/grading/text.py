"""Learner text made inert before it reaches a terminal or a log.

Learner code chooses what it prints and what its exceptions say. Written raw to a terminal,
an ESC sequence can move the cursor, clear the score line or set the clipboard (OSC 52), a
carriage return or backspace can overwrite what came before, and a bidi override can make a
line read differently from what it contains. ``inert`` shows every such character as an
escape instead (``\\x1b``, ``\\u202e``); newlines, tabs and ordinary letters of any script are
kept as they are.
"""

from __future__ import annotations

import logging
import re
import unicodedata

_KEPT = "\n\t"
# Other (control, format, surrogate) and the line and paragraph separators
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# Printable ASCII and the kept characters never need a look-up.
_CANDIDATE = re.compile(r"[^\x20-\x7e\n\t]")


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _shown(match: re.Match[str]) -> str:
    char = match.group()
    if char in _KEPT or unicodedata.category(char) not in _ESCAPED_CATEGORIES:
        return char
    return _escape(char)


def inert(text: str) -> str:
    """``text`` with every control, format and separator character but newline and tab shown
    as an escape: C0 controls (ESC, CR, BS, BEL, ...), DEL, C1 controls, bidi overrides and
    isolates, zero-width characters, the BOM, lone surrogates, U+2028 and U+2029."""
    return _CANDIDATE.sub(_shown, text)


class InertFormatter(logging.Formatter):
    """A log formatter whose output is inert: log records may quote learner text."""

    def format(self, record: logging.LogRecord) -> str:
        return inert(super().format(record))
