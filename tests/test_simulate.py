"""The burst simulation: checked against what queueing gives in the plain cases."""

from __future__ import annotations

import pytest

from grader.bench.simulate import simulate, table


def test_too_few_places_leave_the_excess_queued() -> None:
    # 100/s for 60 s against 2 places of 25 ms each (80/s): 20/s pile up, about 1200 in all
    outcome = simulate(6000, 60.0, workers=1, cpus_per_worker=2, service=[0.025])
    assert outcome.deepest == pytest.approx(1200, rel=0.15)
    assert outcome.drained_after == pytest.approx(1200 / 80, rel=0.2)
    assert outcome.wait_p99 > 10


def test_enough_places_keep_waits_short_and_more_never_hurt() -> None:
    outcomes = [simulate(6000, 60.0, workers=n, cpus_per_worker=2, service=[0.005, 0.015])
                for n in (1, 2, 4)]
    assert outcomes[0].wait_p50 < 0.01 and outcomes[0].drained_after < 1
    assert [o.deepest for o in outcomes] == sorted((o.deepest for o in outcomes), reverse=True)


def test_runaways_cost_only_their_fast_lane_budget() -> None:
    # 120/s on 2 places of 20 ms (100/s) piles up; half of them loops that leave the fast lane
    # after 2 ms bring the load down to 66/s, and nothing piles up
    honest = simulate(3600, 30.0, 1, 2, service=[0.02])
    with_loops = simulate(3600, 30.0, 1, 2, service=[0.02], runaway_share=0.5,
                          runaway_cost=0.002)
    assert honest.deepest > 400 and with_loops.deepest < 20
    assert "2 places per worker" in table(100, 10.0, [1], 2, [0.01], 0.05, 0.001)[0]
