"""The fork-server runner's own recovery, with real processes."""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import signal
import subprocess
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import numpy as np
import pytest

from grader.catalog.exercises import Exercise
from grader.grading.grade import grade
from grader.sandbox import forkserver as forkserver_module
from grader.sandbox.base import (
    CaseInput,
    CaseRun,
    Inputs,
    Job,
    RunLimits,
    RunResult,
    SandboxUnavailable,
)
from grader.sandbox.forkserver import ForkServerRunner
from grader.sandbox.uids import UidClaim
from grader.sandbox.zygote_link import ZygoteLink, children_of
from tests.conftest import EXERCISES, HIDDEN_SECRET, drop_ready_children, timeless

pytestmark = pytest.mark.processes


def test_a_dead_zygote_is_replaced_and_its_ready_children_dropped(conv2d: Exercise) -> None:
    runner = ForkServerRunner(slots=1)
    try:
        runner.settle()
        assert runner.warm_children > 0
        old = runner.zygote_pid
        os.kill(old, signal.SIGKILL)
        end = time.monotonic() + 10
        while runner._zygote is not None and runner._zygote.alive and time.monotonic() < end:
            time.sleep(0.01)
        source = (EXERCISES / "conv2d" / "samples" / "correct_numpy.py").read_text()
        assert grade(conv2d, source, runner, seed=1, hidden_secret=HIDDEN_SECRET).passed
        assert runner.zygote_pid != old
    finally:
        runner.close()


def test_what_a_dying_zygote_writes_is_logged(conv2d: Exercise,
                                               caplog: pytest.LogCaptureFixture) -> None:
    runner = ForkServerRunner(slots=1)
    try:
        runner.settle()
        zygote = runner._ensure_zygote()
        with caplog.at_level(logging.WARNING, logger="grader.sandbox"):
            zygote.send({"op": "kill"})  # no id: the zygote fails on it
            zygote.process.wait(timeout=10)
            zygote._stderr_reader.join(timeout=10)
        lines = [r.getMessage() for r in caplog.records if "sandbox zygote (pid" in r.getMessage()]
        assert any("KeyError: 'id'" in line for line in lines), lines
        source = (EXERCISES / "conv2d" / "samples" / "correct_numpy.py").read_text()
        # a new zygote took over
        assert grade(conv2d, source, runner, seed=2, hidden_secret=HIDDEN_SECRET).passed
        assert runner.zygote_pid != zygote.pid
    finally:
        runner.close()


HONEST = (EXERCISES / "conv2d" / "samples" / "correct_numpy.py").read_text()


def test_closing_waits_for_the_children_killed_at_their_runs_end_to_be_reaped(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A run's child is killed at its end and reaped by the zygote meanwhile. A runner closed
    before that waits for it, and only then stops the zygote: else the child's end is unknown,
    and its uid is held (with a warning) as though it had outlived its run."""
    # however busy the machine, the timer below fires long before closing would give up
    monkeypatch.setattr(forkserver_module, "CLOSE_REAP_SECONDS", 600.0)
    runner = ForkServerRunner(slots=1)
    runner.settle()
    zygote = runner._ensure_zygote()
    with runner._dying_lock:
        runner._dying += 1  # a child killed at its run's end, not reaped yet
    dying_at_stop = []
    stop = zygote.stop

    def stopped() -> None:
        dying_at_stop.append(runner._dying)
        stop()

    zygote.stop = stopped  # type: ignore[method-assign]
    threading.Timer(0.3, runner._reaped).start()  # the zygote's "exited", a moment later
    runner.close()
    assert dying_at_stop == [0]


@pytest.mark.parametrize("layer", ["seccomp", "landlock"])
def test_a_runner_without_a_required_layer_refuses_to_grade(layer: str, conv2d: Exercise) -> None:
    runner = ForkServerRunner(slots=1, without=(layer,))
    try:
        assert runner.refusal is not None and layer in runner.refusal
        with pytest.raises(SandboxUnavailable, match=layer):
            grade(conv2d, HONEST, runner, seed=1, hidden_secret=HIDDEN_SECRET)
        runner.settle()
        assert runner.warm_children == 0  # no child was ever forked
    finally:
        runner.close()


def test_two_runners_at_once_claim_different_uids() -> None:
    first, second = ForkServerRunner(slots=1), ForkServerRunner(slots=1)
    try:
        assert first.refusal is None and second.refusal is None
        if first.layers.uid_drop:
            assert not set(first.uid_range) & set(second.uid_range)
    finally:
        first.close()
        second.close()


def test_uid_claims_exclude_each_other_and_are_given_back(tmp_path: Path) -> None:
    one = UidClaim(70000, 10, folder=tmp_path)
    two = UidClaim(70000, 100, folder=tmp_path)
    assert len(one.uids) == 10 and len(two.uids) == 100
    assert not set(one.uids) & set(two.uids)
    one.release()
    three = UidClaim(70000, 10, folder=tmp_path)
    assert three.uids == one.uids  # the released block is the first free one again
    two.release()
    three.release()


def test_uids_of_running_processes_are_not_claimed(tmp_path: Path) -> None:
    claim = UidClaim(os.getuid() - os.getuid() % 64, 1, folder=tmp_path)
    try:
        assert os.getuid() not in claim.uids
    finally:
        claim.release()


def test_descriptors_past_1024_are_handled(conv2d: Exercise) -> None:
    """A server with many open connections has high descriptor numbers for its pipes."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2048:
        pytest.skip(f"the hard limit of open files is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (2048, hard))
    held = []
    try:
        while not held or held[-1] < 1100:
            held.append(os.open("/dev/null", os.O_RDONLY))
        before = len(os.listdir("/proc/self/fd"))
        runner = ForkServerRunner(slots=1)
        try:
            assert runner.refusal is None
            for seed in range(3):
                assert grade(conv2d, HONEST, runner, seed=seed, hidden_secret=HIDDEN_SECRET).passed
        finally:
            runner.close()
        assert len(os.listdir("/proc/self/fd")) == before  # no pipe left open
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_every_byte_a_child_writes_counts_against_one_deadline(conv2d: Exercise) -> None:
    """Output that never ends, undecodable, cannot hold a slot past the time limit."""
    source = (
        "import os\n"
        "def conv(image, kernel):\n"
        "    while True:\n"
        "        os.write(1, b'\\xff\\xfe' * 30000)\n"
        "        os.write(2, b'\\x80' * 30000)\n"
    )
    runner = ForkServerRunner(slots=1)
    try:
        started = time.monotonic()
        job = Job(source, "conv", [CaseInput((np.ones((5, 5)), np.ones((3, 3))), hidden=False)],
                  RunLimits(case_seconds=0.5, submission_seconds=1.0, memory_mb=64))
        result = runner.run(job)
        # held for its deadline, not for ever (room for a zygote started on a busy machine)
        assert time.monotonic() - started < 15.0
        assert [c.kind for c in result.cases] == ["timeout"]
        assert len(result.stdout) <= job.limits.output_bytes
    finally:
        runner.close()


def _descendants(pid: int) -> list[int]:
    found = []
    for child in children_of(pid):
        found += [child, *_descendants(child)]
    return found


def test_the_zygote_and_its_children_never_preempt_the_grader() -> None:
    """SCHED_BATCH: a woken child or zygote waits for a free CPU instead of cutting in."""
    runner = ForkServerRunner(slots=1)
    try:
        runner.settle()
        assert runner.warm_children > 0
        serving = [runner.zygote_pid] if "pid" not in runner.layers.namespaces else []
        processes = serving + _descendants(runner.zygote_pid)
        assert len(processes) >= 2  # the serving zygote and a child ready for a job
        assert {os.sched_getscheduler(pid) for pid in processes} == {os.SCHED_BATCH}
        assert os.sched_getscheduler(0) == os.SCHED_OTHER  # the grader itself: as it was
    finally:
        runner.close()


def _run_with_inputs_made_slowly(source: str, limits: RunLimits) -> list[CaseRun]:
    """One case of ``source``, whose inputs take the grader 1.5 s to make (as on a busy
    machine) while the child loads it."""
    def slowly() -> Inputs:
        time.sleep(1.5)
        return Inputs([CaseInput((np.ones((5, 5)), np.ones((3, 3))), hidden=False)])

    runner = ForkServerRunner(slots=1)
    try:
        return runner.run(Job(source, "conv", None, limits, later=slowly)).cases
    finally:
        runner.close()


def test_the_graders_own_work_is_on_no_wall_clock_of_the_learners() -> None:
    """The inputs are made while the child loads the source: the time that takes counts
    against neither the loading's wall-clock limit nor the submission's."""
    source = "def conv(image, kernel):\n    return image[1:-1, 1:-1] * 0\n"
    limits = RunLimits(case_seconds=0.25, submission_seconds=1.2, memory_mb=64)
    assert [c.kind for c in _run_with_inputs_made_slowly(source, limits)] == ["output"]


def test_what_the_child_computes_while_the_inputs_are_made_counts_to_its_loading() -> None:
    """Module code that burns CPU while the grader makes the inputs is stopped at the case's
    CPU limit all the same."""
    source = ("import time\nend = time.process_time() + 2.0\n"
              "while time.process_time() < end:\n    pass\n"
              "def conv(image, kernel):\n    return image\n")
    limits = RunLimits(case_seconds=1.0, submission_seconds=30.0, memory_mb=64)
    [case] = _run_with_inputs_made_slowly(source, limits)
    assert case.kind == "timeout" and case.loading


def test_without_a_pid_namespace_a_childs_pid_is_its_own_if_the_zygote_forked_it() -> None:
    """As in a container whose profile forbids namespaces: the zygote's pids are the grader's,
    and only its own children are taken as such."""
    parent = subprocess.Popen(["sh", "-c", "sleep 60 & wait"])
    try:
        deadline = time.monotonic() + 20.0
        while not (found := children_of(parent.pid)):
            assert time.monotonic() < deadline, "the shell forked no child"
            time.sleep(0.01)
        link = SimpleNamespace(layers=SimpleNamespace(namespaces=[]), process=parent)
        assert ZygoteLink.host_pid(cast(ZygoteLink, link), found[0]) == found[0]
        assert ZygoteLink.host_pid(cast(ZygoteLink, link), os.getpid()) is None
    finally:
        for pid in children_of(parent.pid):  # before the shell: its orphans would be no one's
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        parent.kill()
        parent.wait()


def _run_once(source: str, cases: list[CaseInput]) -> RunResult:
    """The run of ``source`` on ``cases`` in a runner of its own, with room to spare."""
    runner = ForkServerRunner(slots=1)
    try:
        return runner.run(Job(source, "conv", cases, RunLimits(
            case_seconds=5.0, submission_seconds=30.0, memory_mb=256)))
    finally:
        runner.close()


def test_a_child_started_after_a_hidden_case_prints_nothing_to_the_report() -> None:
    """A child that took hidden inputs can pick the moment it dies from them, and the child
    started after it can print that moment (the clock is shared): what a later child prints is
    withheld as well, not only what the child that took them printed."""
    source = (
        "import os\n"
        "print('loaded', os.getpid())\n"
        "calls = [0]\n"
        "def conv(image, kernel):\n"
        "    calls[0] += 1\n"
        "    if calls[0] == 2:\n"
        "        os._exit(0)  # in the first child, its first hidden case\n"
        "    return image[1:-1, 1:-1]\n"
    )
    cases = [CaseInput((np.ones((5, 5)), np.ones((3, 3))), hidden=hidden)
             for hidden in (False, True, True)]
    result = _run_once(source, cases)
    # the first child answered the visible case and died in the first hidden one; a second
    # child, started for the last case, loaded (printing) and answered it
    assert [c.kind for c in result.cases] == ["output", "crashed", "output"]
    assert result.stdout.count("loaded") == 1, result.stdout
    assert result.hidden_sent and result.output_withheld


@pytest.mark.parametrize("source, found", [
    ("raise RuntimeError('made of a hidden input')\n", "error"),
    ("def not_conv(image, kernel):\n    return image\n", "error"),
])
def test_a_later_child_s_load_error_or_names_are_a_hidden_case_s_error(
        monkeypatch: pytest.MonkeyPatch, source: str, found: str) -> None:
    """After hidden inputs reached a child of the run, a later child's load error and the
    names it defines could carry them: they become the hidden cases' errors (which a report
    shows by status only), not the report's own load error or list of names."""
    import grader.sandbox.forkserver as forkserver

    # a run whose earlier child already took hidden inputs
    monkeypatch.setattr(forkserver, "RunResult",
                        lambda cases: RunResult(cases=cases, hidden_sent=True))
    source = "print('loading')\n" + source
    cases = [CaseInput((np.ones((5, 5)), np.ones((3, 3))), hidden=True)] * 2
    result = _run_once(source, cases)
    assert [c.kind for c in result.cases] == [found, found]
    assert result.load_error is None and result.missing_entry is None
    assert "loading" not in result.stdout and result.output_withheld


_SCAN = """
import ctypes, gc, re
import numpy as np
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def readable(address):
    # rt_sigprocmask reads the set before it refuses an unknown "how": EFAULT if it cannot
    return not (libc.syscall(14, 999, ctypes.c_void_p(address), None, 8) == -1
                and ctypes.get_errno() == 14)


def count(mark):
    hits = pages = 0
    for window in sorted({id(o) >> 20 for o in gc.get_objects()}):
        for address in range(window << 20, (window + 1) << 20, 4096):
            if readable(address):
                pages += 1
                hits += len(re.findall(mark, ctypes.string_at(address, 4096)))
    return hits, pages


HITS, PAGES = count(rb'"code": 17[3]\\b')  # (a mark that does not match its own text)


def conv(image, kernel):
    return np.zeros((1 + HITS, 2 if PAGES > 100 else 1))
"""


def test_what_an_earlier_child_chose_at_its_end_is_not_in_a_later_child_s_memory() -> None:
    """A child's exit status, CPU time and page faults are its own choice. The zygote that
    reaps it must not keep them in its heap, which every later child inherits (freed memory
    keeps its bytes): a child could end at a status made of a hidden input, and a later one,
    of any submission, read it there and print it."""
    limits = RunLimits(case_seconds=5.0, submission_seconds=60.0, memory_mb=256)
    case = [CaseInput((np.ones((5, 5)), np.ones((3, 3))), hidden=False)]
    runner = ForkServerRunner(slots=1)
    found = []
    try:
        runner.settle()
        runner.ahead = 0  # each child forked when its job comes, after the one before ended
        drop_ready_children(runner)
        for _ in range(3):
            ended = runner.run(Job("import os\ndef conv(image, kernel):\n    os._exit(173)\n",
                                   "conv", case, limits))
            assert [c.kind for c in ended.cases] == ["crashed"]  # reaped, its status read
            run = runner.run(Job(_SCAN, "conv", case, limits)).cases[0]
            assert run.array is not None, run
            found.append(run.array.shape)
    finally:
        runner.close()
    # the scan read the memory around the heap it shares with the zygote (where the code
    # before found the status three times a scan: its "exited" message, freed) ...
    assert all(pages == 2 for _, pages in found), found
    # ... and no status the earlier child chose is there
    assert all(code == 1 for code, _ in found), found


def test_every_file_a_child_maps_stays_in_memory_while_the_zygote_lives() -> None:
    """Which pages of a library are cached is state every process shares: a child that could
    bring chosen pages in would pass bits to any later child that times its reads. The zygote
    locks every file it maps (its children map nothing else), so every page is always in."""
    runner = ForkServerRunner(slots=1)
    try:
        zygote = runner.zygote_pid
        # in a pid namespace the zygote serves from the process it forked into it
        inner = children_of(zygote) if "pid" in runner.layers.namespaces else []
        serving = inner[0] if inner else zygote
        files = set()
        with open(f"/proc/{serving}/maps") as maps:
            for line in maps:
                fields = line.split(maxsplit=5)
                if len(fields) == 6 and fields[5].startswith("/"):
                    files.add(fields[5].strip())
        size = sum(os.stat(path).st_size for path in files)
        with open(f"/proc/{serving}/status") as status:
            locked = sum(int(line.split()[1]) for line in status
                         if line.startswith("VmLck:")) * 1024
        pinned, skipped = runner.layers.pinned_files_mib, runner.layers.skipped
    finally:
        runner.close()
    if os.geteuid() == 0:  # CAP_IPC_LOCK: the files are locked, whatever their size
        assert "pinned_files" not in skipped, skipped
        assert pinned * (1 << 20) >= 0.99 * size and locked >= size > 10 << 20, \
            (pinned, locked, size)
    else:  # a memlock limit too small is said, never passed over
        assert pinned > 0 or "CAP_IPC_LOCK" in skipped["pinned_files"], skipped


def test_children_ahead_warm_up_unless_jobs_queue_for_a_fast_place(
        conv2d: Exercise, monkeypatch: pytest.MonkeyPatch) -> None:
    """A child forked ahead warms up, unless jobs queue for a fast place: then the CPUs are
    busy with jobs and it is soon taken, so it goes without, as does one forked for a job that
    found none ready. Each grades the same report."""
    runner = ForkServerRunner(slots=1)
    try:
        runner.settle()
        ahead = list(runner._warm.queue)  # each greeted as asked, or it would be refused
        assert ahead and all(child.warm for child in ahead)
        warmed = timeless(grade(conv2d, HONEST, runner, seed=5, hidden_secret=HIDDEN_SECRET))

        monkeypatch.setattr(runner.lanes, "fast_lane_queued", lambda: True)
        runner.settle()
        drop_ready_children(runner)  # those forked while there was room
        runner._refill()
        [cold] = list(runner._warm.queue)
        assert not cold.warm
        assert timeless(grade(conv2d, HONEST, runner, seed=5,
                              hidden_secret=HIDDEN_SECRET)) == warmed

        runner.ahead = 0  # no child ready: the job forks its own, which it waits for
        runner.settle()
        drop_ready_children(runner)
        taken: list[bool] = []
        take = runner._take
        monkeypatch.setattr(runner, "_take",
                            lambda job: taken.append((child := take(job)).warm) or child)
        assert timeless(grade(conv2d, HONEST, runner, seed=5,
                              hidden_secret=HIDDEN_SECRET)) == warmed
        assert taken == [False]
    finally:
        runner.close()


def test_a_child_s_standard_streams_are_its_own_pipes_and_start_empty() -> None:
    """The zygote makes a child's streams once: each child still finds stdout and stderr over
    its own pipes (fds 1 and 2, which cannot seek), open whatever an earlier child did to its
    own, nothing an earlier child wrote in them, and an empty stdin."""
    source = (
        "import sys\n"
        "try:\n"
        "    input()\n"
        "except EOFError:\n"
        "    print('input: EOF')\n"
        "print(sys.stdout.fileno(), sys.stderr.fileno(), sys.stdout.seekable(),"
        " sys.stderr.seekable(), repr(sys.stdin.read()), sys.stdout.line_buffering,"
        " sys.stderr.write_through)\n"
        "sys.stdout.write('half a line')\n"  # in the stream's buffer until the harness flushes
        "sys.stderr.write('to stderr\\n')\n"
        "sys.stderr.close()\n"
        "def conv(image, kernel):\n"
        "    return image[1:-1, 1:-1]\n"
    )
    cases = [CaseInput((np.ones((5, 5)), np.ones((3, 3))), hidden=False)]
    runner = ForkServerRunner(slots=1)
    try:
        # the runner keeps two children ahead, forked at its start: from the third run on,
        # each child is forked after an earlier one wrote to its streams and closed one
        for _ in range(4):
            result = runner.run(Job(source, "conv", cases, RunLimits(
                case_seconds=5.0, submission_seconds=30.0, memory_mb=256)))
            assert [c.kind for c in result.cases] == ["output"], result
            assert result.stdout == "input: EOF\n1 2 False False '' False True\nhalf a line", \
                result.stdout
            assert result.stderr == "to stderr\n", result.stderr
    finally:
        runner.close()
