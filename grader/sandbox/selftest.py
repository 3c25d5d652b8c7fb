"""A start-up self-test: a few hostile probes that the sandbox must stop, and one honest run.

Each probe tries one escape and returns a value only if the escape worked. The sandbox passes
when the honest probe returns its value and every hostile probe fails with an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from grader.sandbox.base import CaseInput, Job, RunLimits, Runner, SandboxError

_PROBES = {
    "honest": "def probe(x):\n    return x + 1\n",
    "read_grader": (
        "def probe(x):\n"
        "    return open({path!r}, 'rb').read(1)\n"
    ),
    "write_outside_scratch": (
        "def probe(x):\n"
        "    open('/tmp/grader-self-test', 'w').write('escaped')\n"
        "    return x\n"
    ),
    "network": (
        "import socket\n"
        "def probe(x):\n"
        "    socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
        "    return x\n"
    ),
    "fork": (
        "import os\n"
        "def probe(x):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        os._exit(0)\n"
        "    return x\n"
    ),
    "kill_parent": (
        "import os\n"
        "def probe(x):\n"
        "    os.kill(os.getppid(), 0)\n"
        "    return x\n"
    ),
}


@dataclass
class SelfTest:
    passed: bool
    failures: list[str] = field(default_factory=list)


def self_test(runner: Runner, grader_file: str) -> SelfTest:
    """Run the probes; ``grader_file`` is a file of the grader that children must not read."""
    failures = []
    limits = RunLimits(case_seconds=5.0, submission_seconds=10.0, memory_mb=64)
    case = CaseInput((np.zeros(2),), hidden=False)
    for name, template in _PROBES.items():
        source = template.format(path=grader_file)
        try:
            result = runner.run(Job(source, "probe", [case], limits))
        except SandboxError as error:
            failures.append(f"{name}: the sandbox failed: {error}")
            continue
        run = result.cases[0]
        if name == "honest":
            if run.kind != "output" or run.array is None or not np.array_equal(run.array,
                                                                               np.ones(2)):
                failures.append(f"honest: expected [1, 1], got {run.kind} {run.detail}")
        elif run.kind != "error":
            failures.append(f"{name}: the probe was not stopped ({run.kind} {run.detail})")
    return SelfTest(passed=not failures, failures=failures)
