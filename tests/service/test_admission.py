"""Admission's rules on their own: which limit refuses first, Retry-After, and the caps on
work a request starts (report pages, proofs)."""

from __future__ import annotations

import time

import pytest

from grader.errors import OverLimit
from grader.service.admission import (
    DRAIN_WINDOW,
    MAX_RETRY_AFTER,
    Busy,
    Caps,
    Counts,
    Drain,
    Limits,
    Shares,
    admit,
    drain_rate,
    retry_after,
)

LIMITS = Limits(backlog=10, learner=2, token=4)


def never(_: int) -> int:
    raise AssertionError("the backlog is not full")


def test_under_every_limit_a_submission_is_admitted() -> None:
    admit(Counts(queued=9, of_token=3, of_learner=1), LIMITS, never)


def test_a_full_backlog_refuses_first_with_the_seconds_it_is_given() -> None:
    with pytest.raises(Busy) as refused:
        admit(Counts(queued=10, of_token=4, of_learner=2), LIMITS, lambda queued: queued * 3)
    assert refused.value.retry_after == 30 and "busy" in str(refused.value)
    assert not isinstance(refused.value, OverLimit)  # 503, not 429


def test_the_learners_share_refuses_before_the_tokens() -> None:
    with pytest.raises(OverLimit, match="this learner has 2"):
        admit(Counts(queued=0, of_token=4, of_learner=2), LIMITS, never)
    with pytest.raises(OverLimit, match="this platform token has 4"):
        admit(Counts(queued=0, of_token=4, of_learner=1), LIMITS, never)


def test_retry_after_is_the_time_to_drain_to_one_place_free_within_bounds() -> None:
    assert retry_after(waiting=10, limit=10, rate=0.25) == 4
    assert retry_after(waiting=10, limit=10, rate=None) == 1  # a guess of 10 a second
    assert retry_after(waiting=10_000, limit=10, rate=0.001) == MAX_RETRY_AFTER


def test_the_drain_rate_counts_only_recent_departures() -> None:
    drain = Drain()
    assert drain.retry_after(10, 10) == 1  # nothing measured yet: a guess of 10 a second
    now = time.monotonic()
    drain.departures.extend(now - 4.0 * i for i in range(6, 0, -1))  # one every 4 s
    assert 4 <= drain.retry_after(10, 10) <= 6
    drain.departures.clear()
    drain.since = now - 60.0  # 30 s of stall, then two at once: two in the whole window
    drain.departures.extend([now - 0.1, now - 0.05])
    assert drain.retry_after(10, 10) == DRAIN_WINDOW / 2
    drain.departures.clear()
    drain.departures.extend(now - 0.01 * i for i in range(300, 0, -1))  # a fast drain
    assert drain.retry_after(10, 10) == 1


def test_a_backlog_that_drained_by_fewer_than_two_in_the_window_is_stalled() -> None:
    """Every place held (by loops, until their limits) and none or one left in the last 30 s:
    at most one in 30 s, not the guess of 10 a second, which would have every refused client
    back within a second for as long as the stall lasts."""
    drain = Drain()
    now = time.monotonic()
    drain.since = now - 100.0
    drain.departures.extend(now - 100.0 - i for i in range(5))  # long ago
    assert drain.retry_after(10, 10) == DRAIN_WINDOW
    assert drain.retry_after(12, 10) == 3 * DRAIN_WINDOW
    drain.departures.append(now - 1.0)  # one lately
    assert drain.retry_after(10, 10) == DRAIN_WINDOW
    young = Drain()
    young.since = now - 5.0  # has not looked for a whole window: a guess still
    assert young.retry_after(10, 10) == 1


def test_the_drain_rate_of_departures_over_a_span() -> None:
    assert drain_rate(6, 24.0) == 0.25
    assert drain_rate(1, DRAIN_WINDOW) == drain_rate(0, DRAIN_WINDOW) == 1 / DRAIN_WINDOW
    assert drain_rate(1, 10.0) is None and drain_rate(0, 0.0) is None


def test_shares_count_per_token_and_learner_and_give_back_once() -> None:
    shares = Shares()
    shares.take("a", "t1", "ann")
    shares.take("b", "t1", None)
    shares.take("c", "t2", "ann")
    assert shares.count("t1", "ann") == (2, 1)
    assert shares.count("t2", "ann") == (1, 1)  # the same learner id under another token
    shares.give_back("a")
    shares.give_back("a")
    assert shares.count("t1", "ann") == (1, 0)
    shares.give_back("b")
    assert shares.count("t1", None) == (0, 0) and not shares.of_token.get("t1")


def test_caps_refuse_past_the_learners_and_the_tokens_share_with_429() -> None:
    caps = Caps("report pages", per_learner=1, per_token=2, retry_after=2)
    with caps.hold("t1", "ann"):
        with pytest.raises(OverLimit, match="this learner has 1 report pages") as refused, \
                caps.hold("t1", "ann"):
            pass
        assert refused.value.retry_after == 2
        with caps.hold("t1", "bob"):
            with pytest.raises(OverLimit, match="this token has 2"), caps.hold("t1", "cid"):
                pass
            with caps.hold("t2", "ann"):  # another token has its own share
                assert caps.under_way("t1") == 2 and caps.under_way("t2") == 1
    assert caps.under_way("t1") == 0


def test_a_place_is_given_back_when_the_work_fails() -> None:
    caps = Caps("proofs", per_learner=1, per_token=1)
    with pytest.raises(RuntimeError), caps.hold("instructor-a"):
        raise RuntimeError("the proof broke")
    with caps.hold("instructor-a"):  # free again
        pass

