"""The zygote's children do not run the after-fork hooks that repair other threads' leftovers
(threading's, logging's): the zygote forks from its only thread. Everything learner code may
do with those modules still works, and ``random`` still differs in every child."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from typing import Any

import numpy as np
import pytest

from grader.sandbox import zygote
from grader.sandbox.base import CaseInput, Job, RunLimits
from grader.sandbox.forkserver import ForkServerRunner
from grader.sandbox.zygote_link import _SCRUBBED_ENV


def _hook_of(module: str) -> Any:
    def hook() -> None:
        pass
    hook.__module__ = module
    return hook


def test_only_the_thread_repair_hooks_are_held_back() -> None:
    registered: list[dict[str, Any]] = []
    original = os.register_at_fork
    kept, threading_hook = _hook_of("random"), _hook_of("threading")
    logging_hooks = {"before": _hook_of("logging"), "after_in_child": _hook_of("logging"),
                     "after_in_parent": _hook_of("logging")}
    mixed = {"before": _hook_of("logging"), "after_in_child": _hook_of("numpy")}
    with zygote.ForkHooks(register=lambda **hooks: registered.append(hooks)) as hooks:
        os.register_at_fork(after_in_child=kept)
        os.register_at_fork(after_in_child=threading_hook)
        os.register_at_fork(**logging_hooks)
        os.register_at_fork(**mixed)
    assert os.register_at_fork is original
    if zygote.threads() == 1:
        assert registered == [{"after_in_child": kept}, mixed]
        assert hooks.held == [{"after_in_child": threading_hook}, logging_hooks]
    else:  # this test process has threads of its own: every hook is registered after all
        assert registered == [{"after_in_child": kept}, mixed,
                              {"after_in_child": threading_hook}, logging_hooks]


def test_with_a_second_thread_the_held_hooks_are_registered_after_all() -> None:
    registered: list[dict[str, Any]] = []
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        with zygote.ForkHooks(register=lambda **hooks: registered.append(hooks)):
            os.register_at_fork(after_in_child=_hook_of("threading"))
        assert [hooks["after_in_child"].__module__ for hooks in registered] == ["threading"]
    finally:
        release.set()
        other.join()


LEARNER = """
import logging
import random
import threading
import numpy as np

def conv(image, kernel):
    lock = threading.RLock()
    with lock, lock:
        pass
    assert threading.current_thread() is threading.main_thread()
    assert threading.active_count() == 1 and threading.main_thread().is_alive()
    event = threading.Event()
    event.set()
    assert event.wait(0)
    logging.getLogger("learner").warning("logged from the sandbox")
    return np.full((image.shape[0] - 2, image.shape[1] - 2), random.random())
"""


@pytest.mark.processes
def test_threading_logging_and_random_work_in_children_and_random_differs() -> None:
    runner = ForkServerRunner(slots=1)
    try:
        assert runner.refusal is None, runner.refusal
        job = Job(LEARNER, "conv", [CaseInput((np.ones((5, 5)), np.ones((3, 3))), hidden=False)],
                  RunLimits(case_seconds=5.0, submission_seconds=10.0, memory_mb=256))
        values = []
        for _ in range(3):
            result = runner.run(job)
            [case] = result.cases
            assert case.kind == "output", (case, result.stderr)
            assert "logged from the sandbox" in result.stderr
            assert case.array is not None
            values.append(float(case.array[0, 0]))
        assert len(set(values)) == 3, values  # each child's random is seeded afresh
    finally:
        runner.close()


ZYGOTE_IMPORTS = """
import importlib, json, sys
import grader.sandbox.zygote as zygote
from grader.sandbox.modules import LEARNER_MODULES
before = sorted(name for name in ("threading", "logging") if name in sys.modules)
with zygote.ForkHooks() as hooks:
    for name in LEARNER_MODULES:
        importlib.import_module(name)
held = sorted({hook.__module__ for held in hooks.held for hook in held.values()})
print(json.dumps({"before": before, "held": held, "threads": zygote.threads()}))
"""


def test_a_zygote_s_interpreter_holds_back_both_modules_hooks() -> None:
    """As the zygote starts: a fresh ``python -I`` in its environment, where nothing the
    zygote's module imports loads threading or logging before the learner modules do."""
    done = subprocess.run([sys.executable, "-I", "-c", ZYGOTE_IMPORTS], env=_SCRUBBED_ENV,
                          cwd="/", capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(done.stdout) == {"before": [], "held": ["logging", "threading"],
                                       "threads": 1}
