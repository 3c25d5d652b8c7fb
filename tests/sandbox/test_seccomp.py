"""The seccomp allow-list: the assembled program, read by an interpreter of its own here, and
the filter loaded into a real process."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import platform
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from grader.sandbox import seccomp

ARCHES = {"x86_64": (0xC000003E, 0), "aarch64": (0xC00000B7, 1)}
KILL, ALLOW = 0x80000000, 0x7FFF0000
OWN_PID = 4321


def errno_action(code: int) -> int:
    return 0x00050000 | code


def evaluate(program: bytes, nr: int, arch: int, args: tuple[int, ...] = (0,) * 6) -> int:
    """Run a classic BPF program over one seccomp_data, as the kernel would."""
    data = struct.pack("<iI Q 6Q", nr, arch, 0, *args)
    ops = [struct.unpack_from("<HBBI", program, i) for i in range(0, len(program), 8)]
    pc, accumulator = 0, 0
    while True:
        code, jt, jf, k = ops[pc]
        if code == 0x20:  # LD W ABS
            accumulator = struct.unpack_from("<I", data, k)[0]
            pc += 1
        elif code in (0x15, 0x35):  # JEQ K, JGE K
            taken = accumulator == k if code == 0x15 else accumulator >= k
            pc += 1 + (jt if taken else jf)
        elif code == 0x54:  # ALU AND K
            accumulator &= k
            pc += 1
        elif code == 0x06:  # RET K
            return k
        else:
            raise AssertionError(f"unexpected instruction {code:#x}")


@pytest.mark.parametrize("machine", sorted(ARCHES))
def test_only_the_calls_in_the_policy_are_allowed(machine: str) -> None:
    arch, column = ARCHES[machine]
    program = seccomp.build(machine).program(OWN_PID)
    by_number = {numbers[column]: name for name, numbers in seccomp.NUMBERS.items()
                 if numbers[column] is not None}
    for nr in range(0, 512):
        name = by_number.get(nr)
        action = evaluate(program, nr, arch)
        if name in seccomp.POLICY and seccomp.POLICY[name] is None:
            assert action == ALLOW, name
        elif name in seccomp.ERRNO:
            assert action == errno_action(seccomp.ERRNO[name]), name
        elif name not in seccomp.POLICY:
            assert action == errno_action(errno.EPERM), (nr, name)
    assert sorted(seccomp.allowed_names(machine)) == sorted(
        n for n in seccomp.POLICY if seccomp.NUMBERS[n][column] is not None)


@pytest.mark.parametrize("machine", sorted(ARCHES))
def test_calls_that_name_a_process_are_allowed_only_for_the_caller(machine: str) -> None:
    arch, column = ARCHES[machine]
    program = seccomp.build(machine).program(OWN_PID)

    def action(name: str, *args: int) -> int:
        number = seccomp.NUMBERS[name][column]
        assert number is not None
        return evaluate(program, number, arch, (*args, *(0,) * (6 - len(args))))

    for name in ("kill", "tgkill", "tkill"):
        assert action(name, OWN_PID) == ALLOW
        for other in (1, 0, OWN_PID + 1, 0xFFFFFFFF):  # 0 and -1 reach a group, everyone
            assert action(name, other) == errno_action(errno.EPERM), (name, other)
    assert action("prlimit64", 0) == ALLOW
    assert action("prlimit64", 1) == errno_action(errno.EPERM)
    assert action("prlimit64", OWN_PID) == errno_action(errno.EPERM)
    assert action("fcntl", 3, 3) == ALLOW  # F_GETFL
    assert action("fcntl", 3, 8) == errno_action(errno.EPERM)  # F_SETOWN: signals to others
    assert action("ioctl", 1, 0x5401) == ALLOW  # TCGETS
    assert action("ioctl", 1, 0x5412) == errno_action(errno.EPERM)  # TIOCSTI


@pytest.mark.parametrize("machine", sorted(ARCHES))
def test_another_architecture_or_x32_kills(machine: str) -> None:
    arch, _ = ARCHES[machine]
    program = seccomp.build(machine).program(OWN_PID)
    assert evaluate(program, 0, 0x40000003) == KILL  # i386
    other = next(a for m, (a, _) in ARCHES.items() if m != machine)
    assert evaluate(program, 0, other) == KILL
    if machine == "x86_64":
        assert evaluate(program, 0x40000000 | 39, arch) == KILL  # x32 getpid


@pytest.mark.parametrize("machine", sorted(ARCHES))
@pytest.mark.parametrize("scratch", [False, True])
def test_the_loader_a_child_installs_holds_the_filter_s_own_program(machine: str,
                                                                    scratch: bool) -> None:
    """The zygote makes the program's C memory once; each child writes its pid into it. What
    a child loads is what ``program`` assembles for that pid, whichever pid came before."""
    compiled = seccomp.build(machine, scratch=scratch)
    loader = seccomp.Loader(compiled)
    for pid in (OWN_PID, 1, 0x7FFFFFFF, 2, OWN_PID):
        assert loader.write_pid(pid) == compiled.program(pid)


def test_an_unknown_architecture_has_no_filter() -> None:
    with pytest.raises(seccomp.UnsupportedArchitecture):
        seccomp.build("riscv64")


@pytest.mark.processes
@pytest.mark.skipif(platform.machine() not in ARCHES, reason="no table for this machine")
def test_a_process_under_the_filter_is_refused_what_is_not_listed() -> None:
    compiled = seccomp.build()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child reports through the pipe
        results = []
        try:
            parent = os.getppid()
            seccomp.install(compiled, os.getpid())
            libc = ctypes.CDLL(None, use_errno=True)
            for name, call in (
                ("getpid", lambda: os.getpid()),
                ("kill-self", lambda: os.kill(os.getpid(), 0)),
                ("kill-parent", lambda: os.kill(parent, 0)),
                ("open", lambda: os.open("/", os.O_RDONLY)),
                ("stat", lambda: os.stat("/")),
                ("getcwd", lambda: os.getcwd()),
                ("uname", lambda: os.uname()),
                ("pipe", lambda: os.pipe()),
                ("dup", lambda: os.dup(1)),
                ("memfd", lambda: os.memfd_create("x")),
            ):
                try:
                    call()
                    results.append(f"{name}:ok")
                except PermissionError:
                    results.append(f"{name}:denied")
            libc.syscall.restype = ctypes.c_long
            fork_result = libc.syscall(57 if platform.machine() == "x86_64" else 220, 17, 0)
            results.append(f"raw-clone:{'denied' if fork_result < 0 else 'ok'}")
        except BaseException as error:  # noqa: BLE001 - reported to the parent
            results.append(f"error:{error!r}")
        os.write(write_end, " ".join(results).encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    report = os.read(read_end, 4096).decode().split()
    os.close(read_end)
    assert report == ["getpid:ok", "kill-self:ok", "kill-parent:denied", "open:denied",
                      "stat:denied", "getcwd:denied", "uname:denied", "pipe:denied",
                      "dup:denied", "memfd:denied", "raw-clone:denied"]


def cpu_clock(pid: int, which: int = 2, thread: bool = False) -> int:
    """The clock id of a process's (or a thread's) CPU clock, as clock_getcpuclockid makes
    it: PROF 0, VIRT 1, SCHED 2; negative, as a 32-bit int."""
    return ((~pid) << 3) | (4 if thread else 0) | which


def fd_clock(fd: int) -> int:
    return ((~fd) << 3) | 3


STATIC_CLOCKS = {0, 1, 2, 3, 4, 5, 6, 7, 11}  # REALTIME .. BOOTTIME, TAI
PLAIN_FUTEX_OPS = {0, 1, 3, 4, 5, 9, 10}  # WAIT WAKE REQUEUE CMP_REQUEUE WAKE_OP *_BITSET
PI_FUTEX_OPS = {6: "LOCK_PI", 7: "UNLOCK_PI", 8: "TRYLOCK_PI", 11: "WAIT_REQUEUE_PI",
                12: "CMP_REQUEUE_PI", 13: "LOCK_PI2"}
FUTEX_PRIVATE, FUTEX_CLOCK_REALTIME = 128, 256
NO_SUCH_PID = 0x3FFFFFFF  # above any pid_max, and a whole futex tid field


@pytest.mark.parametrize("machine", sorted(ARCHES))
def test_clocks_are_the_static_ones_only(machine: str) -> None:
    arch, column = ARCHES[machine]
    program = seccomp.build(machine).program(OWN_PID)
    others = [cpu_clock(pid, which, thread) for pid in (0, 1, OWN_PID, OWN_PID + 1, 4194304)
              for which in (0, 1, 2, 3) for thread in (False, True)]
    ids = [*range(0, 64), 1 << 16, 0x7FFFFFFF, *others, *(fd_clock(fd) for fd in range(64))]
    for name in ("clock_gettime", "clock_getres", "clock_nanosleep"):
        number = seccomp.NUMBERS[name][column]
        assert number is not None
        for clock in ids:
            action = evaluate(program, number, arch, (clock & 0xFFFFFFFF, 0, 0, 0, 0, 0))
            expected = ALLOW if clock in STATIC_CLOCKS else errno_action(errno.EPERM)
            assert action == expected, (name, clock)


@pytest.mark.parametrize("machine", sorted(ARCHES))
def test_futex_private_ops_without_priority_inheritance_only(machine: str) -> None:
    arch, column = ARCHES[machine]
    program = seccomp.build(machine).program(OWN_PID)
    number = seccomp.NUMBERS["futex"][column]
    assert number is not None
    for op in [*range(0, 1024), 1 << 10 | 129, 1 << 31 | 137, 0xFFFFFFFF]:
        command = op & ~(FUTEX_PRIVATE | FUTEX_CLOCK_REALTIME)
        private = bool(op & FUTEX_PRIVATE)
        expected = ALLOW if private and command in PLAIN_FUTEX_OPS else errno_action(errno.EPERM)
        assert evaluate(program, number, arch, (0, op, 0, 0, 0, 0)) == expected, op
    for op in PI_FUTEX_OPS:
        for flags in (0, FUTEX_PRIVATE, FUTEX_CLOCK_REALTIME, FUTEX_PRIVATE | FUTEX_CLOCK_REALTIME):
            action = evaluate(program, number, arch, (0, op | flags, 0, 0, 0, 0))
            assert action == errno_action(errno.EPERM), (op, flags)


def test_every_call_that_names_a_process_is_refused_or_checked() -> None:
    for name, how in seccomp.NAMES_A_PROCESS.items():
        assert None not in seccomp.NUMBERS[name], name  # both architectures have each
        for scratch in (False, True):
            rule = seccomp.policy(scratch).get(name, "refused")
            if how == "refused":
                assert rule == "refused", name
            else:
                assert how == "self" and isinstance(rule, seccomp.Arg), name


libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
COLUMN = ARCHES.get(platform.machine(), (0, 0))[1]


class Timespec(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_long), ("nsec", ctypes.c_long)]


def raw(name: str, *args: object) -> str:
    """A raw syscall: "ok", or the name of its errno."""
    number = seccomp.NUMBERS[name][COLUMN]
    assert number is not None
    passed = [ctypes.c_long(a) if isinstance(a, int) else a for a in args]
    ctypes.set_errno(0)
    if libc.syscall(ctypes.c_long(number), *passed) == -1:
        return errno.errorcode[ctypes.get_errno()]
    return "ok"


def in_child(calls: Callable[[], list[str]], filtered: bool = True) -> list[str]:
    """What ``calls`` reports when made in a forked child, under the filter when ``filtered``."""
    compiled = seccomp.build()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            if filtered:
                seccomp.install(compiled, os.getpid())
            report = calls()
        except BaseException as error:  # noqa: BLE001 - reported to the parent
            report = [f"error:{error!r}"]
        data = json.dumps(report).encode()
        while data:
            data = data[os.write(write_end, data):]
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        data = reader.read()
    os.waitpid(pid, 0)
    return list(json.loads(data))


@pytest.fixture
def sibling() -> Iterator[int]:
    """Another live process (of the same uid): it uses some CPU time, then waits."""
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys\nsum(range(10 ** 5))\nprint(flush=True)\n"
         "sys.stdin.read()"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdout is not None and process.stdout.readline() == b"\n"
    try:
        yield process.pid
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
        if process.stdin:
            process.stdin.close()


needs_table = pytest.mark.skipif(platform.machine() not in ARCHES, reason="no table here")


@pytest.mark.processes
@needs_table
def test_a_child_cannot_read_any_other_process_cpu_clock(sibling: int) -> None:
    """Nor its thread clocks, nor a clock through an fd: no covert channel in CPU time."""
    parent = os.getpid()
    buffer = Timespec()
    others = [cpu_clock(pid, which, thread) for pid in (parent, sibling, 1)
              for which in (0, 1, 2) for thread in (False, True)]

    def calls() -> list[str]:
        own = [raw(name, clock, ctypes.byref(buffer)) for name in ("clock_gettime",
               "clock_getres") for clock in sorted(STATIC_CLOCKS)]
        theirs = [raw(name, clock, ctypes.byref(buffer)) for name in ("clock_gettime",
                  "clock_getres") for clock in others]
        fds = [raw("clock_gettime", fd_clock(fd), ctypes.byref(buffer)) for fd in range(4)]
        mine = raw("clock_gettime", cpu_clock(os.getpid()), ctypes.byref(buffer))
        return [*own, *theirs, *fds, mine]

    assert in_child(calls) == ["ok"] * 18 + ["EPERM"] * (36 + 4 + 1)
    # without the filter, the sibling's CPU clock is there to read
    assert in_child(lambda: [raw("clock_gettime", cpu_clock(sibling), ctypes.byref(buffer)),
                             raw("clock_getres", cpu_clock(sibling), ctypes.byref(buffer))],
                    filtered=False) == ["ok", "ok"]


@pytest.mark.processes
@needs_table
def test_a_child_cannot_sleep_on_another_process_cpu_clock(sibling: int) -> None:
    timer_abstime = 1
    past = Timespec(0, 0)  # an absolute time long gone: an allowed sleep returns at once

    def sleep_on(clock: int) -> str:
        return raw("clock_nanosleep", clock, timer_abstime, ctypes.byref(past), None)

    def calls() -> list[str]:
        own = [sleep_on(clock) for clock in (0, 1, 7)]  # REALTIME, MONOTONIC, BOOTTIME
        return own + [sleep_on(cpu_clock(pid)) for pid in (os.getppid(), sibling, 1)]

    assert in_child(calls) == ["ok"] * 3 + ["EPERM"] * 3
    assert in_child(lambda: [sleep_on(cpu_clock(sibling))], filtered=False) == ["ok"]


@pytest.mark.processes
@needs_table
def test_a_child_cannot_use_a_futex_to_look_up_another_process(sibling: int) -> None:
    """PI ops read an owner's tid from the word: EAGAIN for a live one, ESRCH for none."""
    word, other = ctypes.c_uint32(), ctypes.c_uint32()
    expired = Timespec(0, 0)  # for LOCK_PI, were it let through: give up at once

    def futex(op: int, owner: int, val3: int = 0, fourth: object = 0) -> str:
        """The fourth argument is a timeout, or a count (val2) for the requeue ops."""
        word.value = owner
        return raw("futex", ctypes.byref(word), op, 0, fourth, ctypes.byref(other), val3)

    def pi_calls() -> list[str]:
        return [futex(op | flags, owner, fourth=ctypes.byref(expired))
                for owner in (sibling, os.getppid(), NO_SUCH_PID)
                for op in sorted(PI_FUTEX_OPS) for flags in (0, FUTEX_PRIVATE)]

    def plain_calls() -> list[str]:
        p, realtime, every = FUTEX_PRIVATE, FUTEX_CLOCK_REALTIME, 0xFFFFFFFF
        return [futex(1 | p, 5), futex(0 | p, 5),  # WAKE, WAIT (the word is 5, not 0)
                futex(9 | p | realtime, 5, every), futex(10 | p, 5, every),  # *_BITSET
                futex(3 | p, 5), futex(4 | p, 5, 6), futex(5 | p, 5),  # REQUEUE, CMP_, WAKE_OP
                futex(1, 5), futex(0, 5), futex(9, 5, every),  # shared: not private
                futex(2 | p, 5), futex(14 | p, 5), futex(1 | p | 1 << 9, 5)]  # FD, ?, stray

    assert in_child(pi_calls) == ["EPERM"] * 36
    assert in_child(plain_calls) == ["ok", "EAGAIN", "EAGAIN", "ok", "ok", "EAGAIN", "ok",
                                     *["EPERM"] * 6]
    # without the filter, TRYLOCK_PI tells a live pid from none
    assert in_child(lambda: [futex(8, sibling), futex(8, NO_SUCH_PID)],
                    filtered=False) == ["EAGAIN", "ESRCH"]


@pytest.mark.processes
@needs_table
def test_every_call_that_names_a_process_is_refused_for_another(sibling: int) -> None:
    buffer = ctypes.create_string_buffer(256)
    refused = sorted(n for n, how in seccomp.NAMES_A_PROCESS.items() if how == "refused"
                     and seccomp.NUMBERS[n][COLUMN] is not None)

    def calls() -> list[str]:
        report = [raw(n, sibling, sibling, 0, 0, 0, 0) for n in refused]
        report += [raw("kill", sibling, 0), raw("tgkill", sibling, sibling, 0),
                   raw("tkill", sibling, 0), raw("prlimit64", sibling, 7, None, buffer),
                   raw("fcntl", 1, 8, sibling),  # F_SETOWN: SIGIO to the sibling
                   raw("ioctl", 1, 0x5410, ctypes.byref(ctypes.c_int(sibling)))]  # TIOCSPGRP
        me = os.getpid()
        report += [raw("kill", me, 0), raw("tgkill", me, me, 0), raw("tkill", me, 0),
                   raw("prlimit64", 0, 7, None, buffer), raw("fcntl", 1, 1)]  # F_GETFD
        return report

    assert in_child(calls) == ["EPERM"] * (len(refused) + 6) + ["ok"] * 5
    assert len(refused) >= 35


@pytest.mark.processes
@needs_table
def test_python_clocks_sleeps_locks_and_numpy_work_under_the_filter() -> None:
    def calls() -> list[str]:
        done = []
        for name, clock in (("time", time.time), ("monotonic", time.monotonic),
                            ("perf_counter", time.perf_counter),
                            ("process_time", time.process_time),
                            ("thread_time", time.thread_time)):
            assert clock() >= 0
            done.append(name)
        for clock in (time.CLOCK_REALTIME, time.CLOCK_MONOTONIC, time.CLOCK_PROCESS_CPUTIME_ID,
                      time.CLOCK_THREAD_CPUTIME_ID, time.CLOCK_BOOTTIME):
            time.clock_gettime(clock)
            time.clock_getres(clock)
        done.append("clock_gettime")
        time.sleep(0.001)
        time.sleep(0)
        done.append("sleep")
        lock = threading.Lock()
        assert lock.acquire(timeout=1)
        assert not lock.acquire(timeout=0.001)  # a timed wait on a futex, then a timeout
        lock.release()
        condition = threading.Condition()
        with condition:
            condition.notify_all()
            assert not condition.wait(timeout=0.001)
        assert not threading.Event().wait(0.001)
        assert threading.Semaphore(1).acquire(timeout=0.001)
        done.append("locks")
        matrix = np.arange(64.0).reshape(8, 8)
        assert np.allclose(np.linalg.inv(matrix @ matrix.T + np.eye(8)).shape, (8, 8))
        done.append("numpy")
        return done

    assert in_child(calls) == ["time", "monotonic", "perf_counter", "process_time",
                               "thread_time", "clock_gettime", "sleep", "locks", "numpy"]


@pytest.mark.processes
@needs_table
def test_a_child_cannot_wake_another_process_through_a_shared_futex() -> None:
    """A futex without the private flag, on a page of a file (libc's text here, which every
    child maps), is keyed by the file: every process that maps it shares the futex."""
    address = (ctypes.cast(libc.getpid, ctypes.c_void_p).value or 0) & ~3
    value = ctypes.c_uint32.from_address(address).value
    futex_nr = seccomp.NUMBERS["futex"][COLUMN]

    def calls() -> list[str]:
        return [raw("futex", address, 0, value ^ 1, None, None, 0),  # WAIT (returns at once)
                raw("futex", address, 1, 1, None, None, 0),  # WAKE
                raw("futex", address, 1 | FUTEX_PRIVATE, 1, None, None, 0)]  # its own

    assert in_child(calls) == ["EPERM", "EPERM", "ok"]
    # without the filter, this process wakes a child that waits there
    read_end, write_end = os.pipe()
    waiter = os.fork()
    if waiter == 0:
        os.write(write_end, b"!")
        bound = Timespec(60, 0)  # only if no wake ever came
        os._exit(0 if raw("futex", address, 0, value, ctypes.byref(bound), None, 0) == "ok"
                 else 1)
    os.close(write_end)
    assert os.read(read_end, 1) == b"!"
    os.close(read_end)
    woken, (pid, status) = 0, os.waitpid(waiter, os.WNOHANG)
    while not woken and pid == 0:  # until it waits there, and is woken
        woken = libc.syscall(ctypes.c_long(futex_nr), ctypes.c_void_p(address), ctypes.c_long(1),
                             ctypes.c_long(1), None, None, ctypes.c_long(0))
        time.sleep(0.001)
        pid, status = os.waitpid(waiter, os.WNOHANG)
    if pid == 0:
        _, status = os.waitpid(waiter, 0)
    assert woken == 1 and os.waitstatus_to_exitcode(status) == 0
