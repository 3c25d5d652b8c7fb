"""The learner's words: one table of templates, filled from facts."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.grading.faults import signal_name
from grader.grading.messages import TEMPLATES, Msg, say
from grader.grading.numbers import pair


def test_every_message_id_has_a_template() -> None:
    assert set(TEMPLATES) == set(Msg)


def test_a_template_names_its_fields() -> None:
    fields = {name for _, name, _, _ in string.Formatter().parse(TEMPLATES[Msg.EXITED]) if name}
    assert fields == {"status"}
    assert say(Msg.EXITED, status=3) == \
        "the process exited with status 3 before returning a result"


def test_a_known_signal_is_named_and_another_is_given_by_number() -> None:
    assert "SIGSEGV" in signal_name(11)
    assert signal_name(14) == "signal 14"


@pytest.mark.parametrize(("expected", "got", "shown"), [
    (1.5, 2.25, ("1.5", "2.25")),
    (0.004497, 0.0044970001, ("0.004497", "0.0044970001")),
    (1.0, 1.0000000000000002, ("1", "1.0000000000000002")),
])
def test_two_numbers_are_printed_with_enough_digits_to_differ(
        expected: float, got: float, shown: tuple[str, str]) -> None:
    assert pair(expected, got) == shown


@given(st.floats(allow_nan=False), st.floats(allow_nan=False))
def test_two_different_numbers_never_print_the_same(expected: float, got: float) -> None:
    a, b = pair(expected, got)
    assert a != b or expected == got


def test_every_frame_fault_has_words_and_missing_facts_read_as_malformed() -> None:
    from grader.grading.faults import FRAME_FAULTS, frame_fault
    from grader.sandbox.frames import Fault

    assert set(FRAME_FAULTS) == {str(fault) for fault in Fault}
    assert frame_fault({"fault": "dtype", "dtype": "<f1"}) == "unsupported dtype '<f1'"
    assert frame_fault({"fault": "dtype"}) == FRAME_FAULTS["malformed"]
    assert frame_fault({"fault": "no such fault"}) == FRAME_FAULTS["malformed"]


def test_a_course_can_change_the_words_of_the_page_and_the_cli(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Words are data: replacing a template changes what the page and the CLI say."""
    from grader.cli import format_report
    from grader.grading import messages
    from grader.grading.report import Report
    from grader.pages.report_page import render_report

    monkeypatch.setitem(messages.TEMPLATES, messages.Msg.PAGE_PRINTED,
                        "Ce que votre code a affiché")
    monkeypatch.setitem(messages.TEMPLATES, messages.Msg.TEXT_PRINTED, "sortie :")
    report = Report(exercise_id="conv2d", passed=True, score=0, max_score=0, seed=1,
                    duration_ms=1.0, cases=[], stdout="bonjour\n")
    assert "Ce que votre code a affiché" in render_report(report, "conv2d")
    assert "sortie :" in format_report(report, "conv2d")
