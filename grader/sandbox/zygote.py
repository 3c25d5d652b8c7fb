"""The zygote: a warm, single-threaded fork server for sandbox children.

Started by the grader as a fresh interpreter (``python -I -m grader.sandbox.zygote``) with a
scrubbed environment, so it holds no secrets, database handles, specs or reference outputs.
It imports numpy once, then forks one confined child per run on request.

Control protocol, JSON messages on a SOCK_SEQPACKET socket from the grader:
    -> {"op": "run", "id", "scratch", "uid", "gid", "cpu", "memory"} + fds [in, out, err, result]
    <- {"op": "started", "id"}         once the child is forked
    -> {"op": "kill", "id"}            SIGKILL to the child's process group, if still alive
    <- {"op": "exited", "id", "code"}  once the child is reaped
At start it sends {"op": "hello", "layers": {...}, "skipped": {...}}.
"""

from __future__ import annotations

import array
import contextlib
import ctypes
import gc
import json
import os
import selectors
import signal
import socket
import sys
import sysconfig
from typing import Any

import numpy as np  # noqa: F401 - warmed once, shared by every child
import numpy.fft  # noqa: F401 - modules numpy loads lazily
import numpy.lib.stride_tricks  # noqa: F401
import numpy.linalg  # noqa: F401
import numpy.random  # noqa: F401

from grader.sandbox import child, confine, landlock, seccomp

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_CLONE_NEWPID = 0x20000000
_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _readable_roots(skipped: dict[str, str]) -> tuple[str, ...]:
    """The base interpreter's stdlib and numpy: all a child may read.

    The paths come from the base installation, not the virtual environment: in a venv,
    ``platstdlib`` is the venv's own lib folder, which holds every installed package, the
    grader's among them. A root that would contain the grader is dropped, and said so."""
    base = sysconfig.get_paths(vars={
        "base": sys.base_prefix, "platbase": sys.base_exec_prefix,
        "installed_base": sys.base_prefix, "installed_platbase": sys.base_exec_prefix})
    numpy_dir = os.path.dirname(np.__file__)
    roots = {base["stdlib"], base["platstdlib"], numpy_dir}
    if os.path.isdir(numpy_dir + ".libs"):
        roots.add(numpy_dir + ".libs")
    grader_dir = os.path.dirname(os.path.dirname(os.path.abspath(child.__file__)))
    for root in sorted(roots):
        if os.path.commonpath([root, grader_dir]) == root:
            roots.discard(root)
            skipped[f"read:{root}"] = "it contains the grader's own package"
    return tuple(sorted(roots))


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _enter_namespaces(skipped: dict[str, str]) -> list[str]:
    """Network and pid namespaces (and a user namespace when not root), where allowed."""
    flags = _CLONE_NEWNET | _CLONE_NEWPID
    root = os.geteuid() == 0
    uid, gid = os.getuid(), os.getgid()
    if not root:
        flags |= _CLONE_NEWUSER
    if _libc.unshare(flags) != 0:
        err = ctypes.get_errno()
        skipped["namespaces"] = f"unshare refused: {os.strerror(err)}"
        return []
    if not root:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    return ["user", "net", "pid"] if not root else ["net", "pid"]


def _become_pid_one() -> None:
    """After unshare(CLONE_NEWPID) only children enter the namespace: fork one to serve."""
    pid = os.fork()
    if pid == 0:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        return
    signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGKILL))
    _, status = os.waitpid(pid, 0)
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


class Zygote:
    def __init__(self, ctrl: socket.socket, plan: confine.Plan) -> None:
        self.ctrl = ctrl
        self.plan = plan
        self.selector = selectors.DefaultSelector()
        self.runs: dict[int, tuple[str, int]] = {}  # pidfd -> (run id, pid)
        self.by_id: dict[str, int] = {}  # run id -> pid

    def send(self, message: dict[str, Any]) -> None:
        self.ctrl.send(json.dumps(message).encode())

    def serve(self) -> None:
        self.selector.register(self.ctrl, selectors.EVENT_READ)
        while True:
            for key, _ in self.selector.select():
                if key.fileobj is self.ctrl:
                    if not self._on_message():
                        self._shutdown()
                        return
                else:
                    self._reap(int(key.fd))

    def _on_message(self) -> bool:
        fds = array.array("i")
        msg, ancdata, _, _ = self.ctrl.recvmsg(65536, socket.CMSG_SPACE(8 * fds.itemsize))
        for level, kind, data in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
        if not msg:
            return False
        request = json.loads(msg)
        if request["op"] == "run":
            self._start(request, list(fds))
        elif request["op"] == "kill":
            pid = self.by_id.get(request["id"])
            if pid is not None:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    os.kill(pid, signal.SIGKILL)
        return True

    def _start(self, request: dict[str, Any], fds: list[int]) -> None:
        pid = os.fork()
        if pid == 0:
            try:
                base_vm = confine.vm_size_bytes()
                confine.enter(
                    self.plan, fds, request["scratch"], request["uid"], request["gid"],
                    request["cpu"], request["memory"], base_vm,
                )
            except BaseException:  # noqa: BLE001 - a child that cannot be confined never runs code
                os._exit(71)
            child.main()
        for fd in fds:
            os.close(fd)
        pidfd = os.pidfd_open(pid)
        self.runs[pidfd] = (request["id"], pid)
        self.by_id[request["id"]] = pid
        self.selector.register(pidfd, selectors.EVENT_READ)
        self.send({"op": "started", "id": request["id"]})

    def _reap(self, pidfd: int) -> None:
        run_id, pid = self.runs.pop(pidfd)
        self.selector.unregister(pidfd)
        os.close(pidfd)
        del self.by_id[run_id]
        _, status = os.waitpid(pid, 0)
        self.send({"op": "exited", "id": run_id, "code": os.waitstatus_to_exitcode(status)})

    def _shutdown(self) -> None:
        for _, pid in self.runs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)


def _warm(plan: confine.Plan) -> None:
    """Run, once here, the code every child runs. CPython rewrites bytecode as it first runs
    it; done here, that memory stays shared instead of being copied into every child."""
    child._warm_up()
    if plan.seccomp is not None:
        plan.seccomp.program(os.getpid())
    if plan.landlock_abi:
        os.close(landlock.prepare(plan.read_only, [], plan.landlock_abi))


def main() -> None:
    ctrl_fd = int(sys.argv[sys.argv.index("--ctrl-fd") + 1])
    ctrl = socket.socket(fileno=ctrl_fd)
    skipped: dict[str, str] = {}
    namespaces = _enter_namespaces(skipped)
    if "pid" in namespaces:
        _become_pid_one()
    abi = landlock.abi_version()
    if not abi:
        skipped["landlock"] = "the kernel has no Landlock, or it is disabled"
    syscall_filter = seccomp.build()
    if syscall_filter is None:
        skipped["seccomp"] = "libseccomp (to resolve syscall names) is not installed, " \
            "or the architecture is not x86_64 or aarch64"
    drop_uid = os.geteuid() == 0
    if not drop_uid:
        skipped["uid_drop"] = "the service does not run as root, so children keep its uid"
    plan = confine.Plan(
        landlock_abi=abi, seccomp=syscall_filter, drop_uid=drop_uid,
        read_only=_readable_roots(skipped),
    )
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    zygote = Zygote(ctrl, plan)
    _warm(plan)
    gc.collect()
    gc.freeze()  # children's collections leave the shared heap alone
    zygote.send({
        "op": "hello",
        "layers": {
            "uid_drop": drop_uid,
            "landlock_abi": abi,
            "seccomp": plan.seccomp is not None,
            "namespaces": namespaces,
            "rlimits": True,
        },
        "skipped": skipped,
    })
    zygote.serve()


if __name__ == "__main__":
    main()
