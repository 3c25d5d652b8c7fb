"""The CPU account of a grading: nested stages are charged once, and every stage is a label
of the metrics (tests/api/test_stage_metrics.py: a real server exports them)."""

from __future__ import annotations

import time

import pytest

from grader.sandbox import account
from grader.sandbox.account import Account, Stage, stage
from grader.service.metrics import STAGES


def _spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_a_nested_stage_is_charged_to_the_inner_stage_only() -> None:
    charged = Account()
    started = time.thread_time()
    with account.using(charged), stage(Stage.GRADING_OTHER):
        _spin(0.01)
        with stage(Stage.COMPARE):
            _spin(0.02)
            with stage(Stage.REPORT):
                _spin(0.01)
        _spin(0.01)
    gross = time.thread_time() - started
    assert set(charged.seconds) == {Stage.GRADING_OTHER, Stage.COMPARE, Stage.REPORT}
    assert charged.seconds[Stage.COMPARE] >= 0.02
    assert charged.seconds[Stage.REPORT] >= 0.01
    assert charged.seconds[Stage.GRADING_OTHER] >= 0.02
    assert sum(charged.seconds.values()) == pytest.approx(gross, abs=0.005)


def test_without_an_account_nothing_is_measured() -> None:
    with stage(Stage.COMPARE):
        _spin(0.001)
    assert account.current() is None


def test_every_stage_name_is_a_label_of_the_metrics() -> None:
    assert set(STAGES) == {str(s) for s in Stage}
