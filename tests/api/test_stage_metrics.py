"""A real server exports every stage of a graded submission's CPU account, with the child's
and the zygote's CPU time in it. (Not among the sandbox's tests, which also run inside the
container, where the server has no exercises folder beside the tests.)"""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from grader.sandbox.account import Stage
from grader.service.metrics import STAGES
from tests.conftest import EXERCISES, Server


@pytest.mark.processes
def test_a_real_server_exports_each_stage_of_a_graded_submission(tmp_path: Path) -> None:
    server = Server(tmp_path).start()
    try:
        source = (EXERCISES / "conv2d" / "samples" / "correct_numpy.py").read_text()
        answer = httpx.post(f"{server.url}/v1/submissions", timeout=60,
                            json={"exercise_id": "conv2d", "source": source})
        assert answer.status_code == 200 and answer.json()["report"]["passed"]
        deadline = time.monotonic() + 30
        while True:  # the child's end is counted once the zygote has reaped it
            text = httpx.get(f"{server.url}/metrics", timeout=30).text
            counts = dict(re.findall(
                r'^grader_stage_cpu_seconds_count\{stage="([a-z_]+)"\} (\S+)$', text, re.M))
            faults = dict(re.findall(
                r'^grader_sandbox_child_page_faults_(sum|count) (\S+)$', text, re.M))
            if (float(counts.get("exit", 0)) >= 1 and float(faults.get("count", 0)) >= 1) \
                    or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        sums = dict(re.findall(
            r'^grader_stage_cpu_seconds_sum\{stage="([a-z_]+)"\} (\S+)$', text, re.M))
    finally:
        server.stop()
    graded = {Stage.REQUEST, Stage.ADMISSION, Stage.HANDOFF, Stage.FORK, Stage.CONFINE,
              Stage.WARM_UP, Stage.INPUTS, Stage.LOAD, Stage.FRAMES, Stage.COMPARE,
              Stage.REPORT, Stage.UPDATE, Stage.RESPONSE, Stage.EXIT}
    # Loading is charged from the child's CPU readings around it, which a run does not
    # always take (then it is left out, not guessed); never below zero when it is. A child
    # forked while a job already waits for it (a busy machine) does not warm up.
    assert {name for name, value in sums.items() if float(value) > 0} >= graded - {
        Stage.LOAD, Stage.WARM_UP}, sums
    assert float(sums.get(Stage.LOAD, 0.0)) >= 0 and float(sums.get(Stage.WARM_UP, 0.0)) >= 0
    assert set(sums) <= set(STAGES)
    # every child reaped told its page faults: a forked Python that ran any code took many
    assert float(faults["count"]) >= 1
    assert float(faults["sum"]) / float(faults["count"]) > 50, faults
