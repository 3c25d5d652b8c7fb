"""The seccomp allow-list: the assembled program, read by an interpreter of its own here, and
the filter loaded into a real process."""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct

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
