"""The floor of a sandbox child that the benchmark prints beside its CPU account."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.bench import floor
from grader.bench.floor import Floor
from grader.bench.stages import Snapshot, table


def _snapshot(sandbox: float, faults: float, reaped: float) -> Snapshot:
    return Snapshot(stages={}, server=0.002 * reaped, loop=0.0, sandbox=sandbox, clients=0.0,
                    machine=0.0, faults=faults, reaped=reaped)


def test_a_child_s_floor_is_its_fork_and_exit_and_a_copy_per_fault() -> None:
    assert Floor(2.0, 3.0, 40.0).child_ms(500) == pytest.approx(3.5)
    assert Floor(2.0, 3.0, 40.0).child_ms(0) == pytest.approx(2.0)


def test_the_account_shows_the_children_s_faults_and_how_much_of_the_sandbox_the_floor_is() -> None:
    before = _snapshot(sandbox=1.0, faults=1000, reaped=2)
    # 100 submissions, 100 children reaped with 60,000 faults, 0.8 s of the sandbox's CPU
    after = _snapshot(sandbox=1.8, faults=61_000, reaped=102)
    lines = table(before, after, 100, Floor(2.0, 3.0, 40.0))
    assert "a sandbox child's page faults over its life: 600 (the mean of 100 children" \
        in "\n".join(lines)
    # 2.0 ms + 600 x 3 us = 3.8 ms a child, one child a submission, of 8 ms of the sandbox's
    assert lines[-1].endswith("3.800 ms per graded submission, 48% of the sandbox's 8.000 ms")


def test_without_children_reaped_the_account_claims_no_faults() -> None:
    lines = table(_snapshot(1.0, 0, 0), _snapshot(1.5, 0, 0), 10, Floor(2.0, 3.0, 40.0))
    assert not any("page faults" in line or "floor" in line for line in lines)


@pytest.mark.processes
def test_the_floor_is_measured_on_real_forks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(floor, "ROUNDS", 3)
    monkeypatch.setattr(floor, "FORKS", 5)
    measured = floor.measure()
    # CPU time, not wall-clock: a fork and an exit always take some, a copy never less than 0
    assert measured.fork_exit_ms > 0 and measured.page_us >= 0 and measured.rss_mib > 1


@pytest.mark.processes
def test_the_web_layer_s_floor_is_the_server_s_cpu_time_for_requests_that_do_nothing(
        tmp_path: Path) -> None:
    from grader.bench.http import base_env, start, stop, web_floor
    from grader.bench.measure import free_port

    port = free_port()
    server = start(["serve", "--port", str(port)], base_env(str(tmp_path)),
                   f"http://127.0.0.1:{port}/readyz")
    try:
        # 300 requests take the server tens of ms of CPU on any machine: more than the
        # 10 ms a clock tick of /proc counts in
        assert web_floor(port, server.pid, 300) > 0
    finally:
        stop(server)
