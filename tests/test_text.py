"""Inert text: every control character of a learner's is shown, none is obeyed."""

from __future__ import annotations

import logging

import pytest

from grader.grading.text import InertFormatter, inert


@pytest.mark.parametrize(("text", "shown"), [
    ("\x1b[2K", "\\x1b[2K"),                       # ESC: clear the line
    ("\x1b]52;c;aGVsbG8=\x07", "\\x1b]52;c;aGVsbG8=\\x07"),  # OSC 52: set the clipboard
    ("\rSCORE 4/4", "\\x0dSCORE 4/4"),             # carriage return
    ("0/4\x08\x08\x084/4", "0/4\\x08\\x08\\x084/4"),  # backspace
    ("\x00\x01\x0b\x0c\x1f", "\\x00\\x01\\x0b\\x0c\\x1f"),  # the rest of C0
    ("\x7f", "\\x7f"),                             # DEL
    ("\x80\x9b2K\x9d", "\\x80\\x9b2K\\x9d"),        # C1, CSI and OSC among them
])
def test_control_characters_are_shown_as_escapes(text: str, shown: str) -> None:
    assert inert(text) == shown


@pytest.mark.parametrize("char", [
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # bidi embeddings and overrides
    "\u2066", "\u2067", "\u2068", "\u2069",            # bidi isolates
    "\u200e", "\u200f", "\u061c",                      # bidi marks
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff",  # zero-width characters and the BOM
    "\u2028", "\u2029",                                # line and paragraph separators
    "\U000e0041",                                      # a tag character, invisible
    "\ud800",                                          # a lone surrogate
])
def test_characters_that_reorder_or_hide_text_are_shown_as_escapes(char: str) -> None:
    code = ord(char)
    escape = f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
    assert inert(f"score{char}4/4") == f"score{escape}4/4"


@pytest.mark.parametrize("text", [
    "", "all 36 values match", "line one\nline two\n\tindented", "café, naïve, É",
    "日本語のテキスト", "Ελληνικά, русский, עברית", "expected [[ 1.602 -5.245]]", "\\x1b as text",
    "emoji 🙂",
])
def test_ordinary_text_newlines_tabs_and_letters_of_any_script_are_unchanged(text: str) -> None:
    assert inert(text) == text


def test_inert_text_has_no_control_character_left() -> None:
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    shown = inert(every)
    assert not any(c in shown for c in "\x1b\x07\r\x08\x7f\x9b\u202e\u2066\ufeff")
    assert {c for c in shown if ord(c) < 0x20} == {"\n", "\t"}


def test_the_log_formatter_makes_each_record_inert() -> None:
    record = logging.LogRecord("grader.service.embedded", logging.ERROR, __file__, 1,
                               "grading %s failed: %s", ("abc", "\x1b[2K\rforged\u202e"), None)
    line = InertFormatter("%(levelname)s %(name)s: %(message)s").format(record)
    assert line == "ERROR grader.service.embedded: grading abc failed: \\x1b[2K\\x0dforged\\u202e"
