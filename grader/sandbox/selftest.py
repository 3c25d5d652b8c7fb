"""A start-up self-test: hostile probes that the sandbox must stop, and one honest run.

Each probe tries one escape and returns a value only if the escape worked. The sandbox passes
when the honest probe returns its value and every hostile probe fails with an exception. The
runner runs it once at start and refuses to grade if it fails.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from grader.sandbox import seccomp
from grader.sandbox.base import CaseInput, CaseRun, Job, RunLimits, RunResult, SandboxError

_PROBES = {
    "honest": "def probe(x):\n    return x + 1\n",
    "read_a_file": (
        "def probe(x):\n"
        "    open('/etc/passwd', 'rb').read(1)\n"
        "    return x\n"
    ),
    "stat_a_path": (
        "import os\n"
        "def probe(x):\n"
        "    os.stat('/')\n"
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
    "signal_parent": (
        "import os\n"
        "def probe(x):\n"
        "    os.kill(os.getppid(), 0)\n"
        "    return x\n"
    ),
    "limits_of_parent": (
        "import os, resource\n"
        "def probe(x):\n"
        "    resource.prlimit(os.getppid(), resource.RLIMIT_NOFILE)\n"
        "    return x\n"
    ),
    "cpu_clock_of_parent": (
        "import os, time\n"
        "def probe(x):\n"
        "    time.clock_gettime(((~os.getppid()) << 3) | 2)\n"
        "    return x\n"
    ),
    "sleep_on_cpu_clock_of_parent": (  # the deadline is past: an allowed sleep returns 0
        "import ctypes, os\n"
        "def probe(x):\n"
        "    clock, past = ((~os.getppid()) << 3) | 2, (ctypes.c_long * 2)(0, 0)\n"
        "    error = ctypes.CDLL(None).clock_nanosleep(clock, 1, past, None)\n"
        "    if error:\n"
        "        raise OSError(error, os.strerror(error))\n"
        "    return x\n"
    ),
    "futex_pid_oracle": (  # TRYLOCK_PI on the parent's pid: EAGAIN if it lives, ESRCH if not
        "import ctypes, errno, os\n"
        "def probe(x):\n"
        "    libc = ctypes.CDLL(None, use_errno=True)\n"
        "    word = ctypes.c_uint32(os.getppid())\n"
        "    if libc.syscall(__FUTEX__, ctypes.byref(word), 8, 0, None, None, 0) == -1 \\\n"
        "            and ctypes.get_errno() == errno.EPERM:\n"
        "        raise PermissionError(errno.EPERM, 'refused')\n"
        "    return x\n"
    ),
}


# Run with a writable scratch (when the sandbox can give one): the child's file system is then a
# private tmpfs, and nothing of the machine's may show through it.
_SCRATCH_PROBES = {
    "scratch_honest": (
        "def probe(x):\n"
        "    open('notes', 'w').write('mine')\n"
        "    assert open('notes').read() == 'mine'\n"
        "    return x + 1\n"
    ),
    "scratch_read_a_file": (
        "def probe(x):\n"
        "    open('/etc/passwd', 'rb').read(1)\n"
        "    return x\n"
    ),
    "scratch_see_the_machine": (
        "import os\n"
        "def probe(x):\n"
        "    os.chdir('..')\n"
        "    if not os.listdir('/'):\n"
        "        raise LookupError('nothing there')\n"
        "    return x\n"
    ),
    "scratch_past_its_budget": (
        "def probe(x):\n"
        "    open('big', 'wb').write(bytes(1 << 20))\n"
        "    return x\n"
    ),
}


@dataclass
class SelfTest:
    passed: bool
    failures: list[str] = field(default_factory=list)


def _facts(run: CaseRun) -> str:
    """A run's kind and whichever facts it has, for an operator's log."""
    facts = {"limit": run.limit, "signal": run.signal, "exit_status": run.exit_status,
             "cause": run.cause, "invalid": run.invalid,
             "error": run.error.type if run.error else None}
    return " ".join([run.kind, *(f"{k}={v}" for k, v in facts.items() if v is not None)])


def self_test(run: Callable[[Job], RunResult], scratch: bool = False) -> SelfTest:
    """Run the probes through ``run`` (a runner's own, unchecked run); with ``scratch``, the
    scratch probes too, in children with a writable scratch."""
    failures = []
    limits = RunLimits(case_seconds=5.0, submission_seconds=10.0, memory_mb=64)
    with_scratch = RunLimits(case_seconds=5.0, submission_seconds=10.0, memory_mb=64,
                             scratch_bytes=64 * 1024, scratch_files=8)
    case = CaseInput((np.zeros(2),), hidden=False)
    futex = seccomp.NUMBERS["futex"][0 if platform.machine() == "x86_64" else 1]
    probes = [(name, source.replace("__FUTEX__", str(futex)), limits)
              for name, source in _PROBES.items()]
    if scratch:
        probes += [(name, source, with_scratch) for name, source in _SCRATCH_PROBES.items()]
    for name, source, probe_limits in probes:
        try:
            result = run(Job(source, "probe", [case], probe_limits))
        except SandboxError as error:
            failures.append(f"{name}: the sandbox failed: {error}")
            continue
        outcome = result.cases[0]
        if name in ("honest", "scratch_honest"):
            if outcome.kind != "output" or outcome.array is None \
                    or not np.array_equal(outcome.array, np.ones(2)):
                failures.append(f"{name}: expected [1, 1], got {_facts(outcome)}")
        elif outcome.kind != "error":
            failures.append(f"{name}: the probe was not stopped ({_facts(outcome)})")
    return SelfTest(passed=not failures, failures=failures)
