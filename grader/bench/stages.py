"""The per-stage CPU account of an HTTP row: where the CPU time of one graded submission goes.

The stages come from the server's own histograms (``grader_stage_cpu_seconds``, read from
``/metrics`` before and after the row); the totals they are checked against from ``/proc``: the
CPU time of the server, of its zygote and of every child the zygote reaped, and of the
clients (this process). On a machine others share, CPU time is what this run used, whatever
the load; wall-clock figures are not.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field

import httpx

from grader.bench.floor import Floor
from grader.sandbox.account import Stage

# Where each stage's CPU time is spent, and what it is, for the table.
WHERE: dict[Stage, tuple[str, str]] = {
    Stage.REQUEST: ("server", "HTTP parsing, routing, validation"),
    Stage.ADMISSION: ("server", "admission, database insert"),
    Stage.HANDOFF: ("server", "to a thread, a fast place, a ready child"),
    Stage.FORK: ("server+zygote", "fork (zygote) and starting a child (grader)"),
    Stage.CONFINE: ("child", "after fork until confined: fds, rlimits, uid, Landlock, seccomp"),
    Stage.WARM_UP: ("child", "warm-up (the harness run once, unless jobs queue), greeting"),
    Stage.INPUTS: ("server", "syntax check, inputs, reference outputs"),
    Stage.LOAD: ("child", "import of the learner's source"),
    Stage.LEARNER: ("child", "the learner's conv, 4 cases (child's timing)"),
    Stage.CHILD_FRAMES: ("child", "decoding inputs, checks, encoding answers"),
    Stage.FRAMES: ("server", "frames, pipes, checks of each answer"),
    Stage.EXIT: ("child", "the child's end: kill, teardown, reaping"),
    Stage.COMPARE: ("server", "comparison and diagnosis"),
    Stage.REPORT: ("server", "report built, serialised"),
    Stage.UPDATE: ("server", "database update"),
    Stage.GRADING_OTHER: ("server", "the rest of the grading thread"),
    Stage.RESPONSE: ("server", "response built and sent"),
}
_SUM = re.compile(r'^grader_stage_cpu_seconds_sum\{stage="([a-z_]+)"\} (\S+)$', re.MULTILINE)
_FAULTS = re.compile(r'^grader_sandbox_child_page_faults_(sum|count) (\S+)$', re.MULTILINE)
_TICK = os.sysconf("SC_CLK_TCK")


def stat(pid: int, task: str = "") -> tuple[float, float]:
    """(its own CPU seconds, those of its reaped children) from /proc/<pid>/stat (or a
    thread's, ``task``: "task/<tid>/")."""
    try:
        with open(f"/proc/{pid}/{task}stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0, 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK, (int(fields[13]) + int(fields[14])) / _TICK


def _children(pid: int) -> list[int]:
    """Its children, whichever of its threads started them."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found: list[int] = []
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found.extend(int(p) for p in f.read().split())
        except OSError:
            continue
    return found


def _machine_busy() -> float:
    """CPU seconds the whole machine spent busy (every process, every user)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / _TICK


@dataclass
class Snapshot:
    stages: dict[str, float]
    server: float  # the server process itself
    loop: float  # its event loop's thread
    sandbox: float  # the zygote's processes and every child they reaped
    clients: float  # this process
    machine: float
    faults: float = 0.0  # page faults of the sandbox children reaped so far
    reaped: float = 0.0  # sandbox children reaped so far
    at: float = field(default_factory=time.monotonic)


def snapshot(port: int, server_pid: int) -> Snapshot:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30).text
    stages = {name: float(value) for name, value in _SUM.findall(text)}
    children = {kind: float(value) for kind, value in _FAULTS.findall(text)}
    server, _ = stat(server_pid)
    loop, _ = stat(server_pid, f"task/{server_pid}/")
    sandbox = 0.0
    pending = _children(server_pid)
    while pending:  # the zygote (and the one it forked into its pid namespace), their children
        pid = pending.pop()
        own, reaped = stat(pid)
        sandbox += own + reaped
        pending.extend(_children(pid))
    return Snapshot(stages, server, loop, sandbox, time.process_time(), _machine_busy(),
                    children.get("sum", 0.0), children.get("count", 0.0))


def table(before: Snapshot, after: Snapshot, count: int, floor: Floor | None = None) -> list[str]:
    """The account per graded submission, in ms of CPU time, and how much of the total the
    stages explain; given the ``floor`` of a child measured in this run, how much of the
    sandbox's part it is."""
    per = 1000.0 / count
    stages = {name: (after.stages.get(name, 0.0) - before.stages.get(name, 0.0)) * per
              for name in Stage}
    server = (after.server - before.server) * per
    loop = (after.loop - before.loop) * per
    sandbox = (after.sandbox - before.sandbox) * per
    clients = (after.clients - before.clients) * per
    machine = (after.machine - before.machine) * per
    measured = server + sandbox
    staged = sum(stages.values())
    lines = [f"CPU per graded submission, by stage ({count} submissions; ms of CPU time):"]
    for name in sorted(Stage, key=lambda s: -stages[s]):
        where, what = WHERE[name]
        lines.append(f"  {name:<14} {stages[name]:6.3f} ms  {where:<13} {what}")
    loop_staged = stages[Stage.REQUEST] + stages[Stage.RESPONSE]
    on_server = sum(v for k, v in stages.items() if WHERE[Stage(k)][0] == "server")
    lines += [
        f"  stages together {staged:6.3f} ms = {staged / measured:.0%} of the server's, the "
        f"zygote's and the children's CPU time ({measured:.3f} ms: server {server:.3f}, "
        f"sandbox {sandbox:.3f})",
        f"  server CPU in no stage: at most {server - on_server:.3f} ms (the event loop's "
        f"thread took {loop:.3f} ms in all, request and response {loop_staged:.3f} ms)",
        f"  this run's processes, clients included: {measured + clients:.3f} ms (clients "
        f"{clients:.3f}); the whole machine, every user: {machine:.3f} ms; load average "
        f"{os.getloadavg()[0]:.1f}",
    ]
    reaped = after.reaped - before.reaped
    if reaped > 0:
        faults = (after.faults - before.faults) / reaped
        lines.append(f"  a sandbox child's page faults over its life: {faults:.0f} (the mean of "
                     f"{reaped:.0f} children reaped)")
        if floor is not None and sandbox > 0:
            least = floor.child_ms(faults) * reaped / count
            lines.append(
                f"  the floor of those children, measured in this run: a fork and an exit "
                f"with no work {floor.fork_exit_ms:.2f} ms, each page copied "
                f"{floor.page_us:.2f} us; {least:.3f} ms per graded submission, "
                f"{least / sandbox:.0%} of the sandbox's {sandbox:.3f} ms")
    return lines
