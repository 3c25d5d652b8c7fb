"""The zygote: a warm, single-threaded fork server for sandbox children.

Started by the grader as a fresh interpreter (``python -I -m grader.sandbox.zygote``) with a
scrubbed environment, so it holds no secrets, database handles, specs or reference outputs.
It imports numpy once, then forks one confined child per run on request.

Control protocol, JSON messages on a SOCK_SEQPACKET socket from the grader:
    -> {"op": "run", "id", "uid", "gid", "cpu", "memory", "scratch": null or [bytes, files],
        "warm": whether the child warms up before it greets} + fds [in, out, err, result]
    <- {"op": "started", "id", "pid", "cpu"}  once the child is forked (pid: in the zygote's
                                       namespace; cpu: the zygote's CPU seconds for the fork)
    -> {"op": "kill", "id"}            SIGKILL to the child's process group, if still alive
    -> {"op": "demote", "id"}          the child to the lowest CPU priority (SCHED_IDLE)
    <- {"op": "exited", "id", "cpu"} NUL record  once the child is reaped (cpu: the zygote's
                                       CPU time for killing and reaping it; record: wait4's
                                       status and rusage, raw, ``EXIT_RECORD`` in zygote_link)
At start it sends {"op": "hello", "layers": {...}, "skipped": {...}}. A layer it cannot build
is reported as skipped with the reason; the grader refuses to grade without a required one.
``--without LAYER`` (repeatable) makes it skip a layer on purpose, to prove that refusal.

Learner code can import only what is already loaded: the child has no file system. The zygote
loads numpy and the stdlib modules in ``modules.LEARNER_MODULES`` once, for every child to share.
"""

from __future__ import annotations

import array
import contextlib
import ctypes
import errno
import gc
import importlib
import json
import mmap
import os
import selectors
import signal
import socket
import sys
import time
from typing import Any

from grader.sandbox import child, confine, landlock, seccomp
from grader.sandbox.modules import LEARNER_MODULES

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_CLONE_NEWPID = 0x20000000
_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)
_libc.wait4.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
_libc.wait4.restype = ctypes.c_int
_libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                      ctypes.c_long]
_libc.mmap.restype = ctypes.c_void_p
_libc.mlock.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_MAP_FAILED = ctypes.c_void_p(-1).value


class _ExitRecord(ctypes.Structure):
    """What wait4 tells of one child: its wait status, then its ``struct rusage``.

    Read into this one buffer, sent as it is and wiped at once, the values a child chose (its
    exit status, its CPU time, its page faults) never become objects of the zygote's heap.
    Freed memory keeps its bytes, and every child forked later inherits them: a child could
    read there what an earlier one, of any learner, chose from its hidden inputs."""

    _fields_ = [("status", ctypes.c_int), ("_pad", ctypes.c_int),
                ("usage", ctypes.c_long * 18)]


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
        self.spent: dict[str, float] = {}  # run id -> this process's CPU time for its end
        # closed in every child with the rest of its fds (``confine.enter``)
        self.statm = os.open("/proc/self/statm", os.O_RDONLY | os.O_CLOEXEC)
        self.page_size = os.sysconf("SC_PAGE_SIZE")
        self.exit_record = _ExitRecord()

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
        cpu = time.thread_time()
        fds = array.array("i")
        msg, ancdata, _, _ = self.ctrl.recvmsg(65536, socket.CMSG_SPACE(8 * fds.itemsize))
        for level, kind, data in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
        if not msg:
            return False
        request = json.loads(msg)
        if request["op"] == "run":
            self._start(request, list(fds), cpu)
        elif request["op"] == "kill":
            pid = self.by_id.get(request["id"])
            if pid is not None:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    os.kill(pid, signal.SIGKILL)
                self._count(request["id"], cpu)
        elif request["op"] == "demote":
            pid = self.by_id.get(request["id"])
            if pid is not None:
                with contextlib.suppress(OSError):  # gone already
                    os.setpriority(os.PRIO_PROCESS, pid, 19)
                with contextlib.suppress(OSError):
                    os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))
        return True

    def _count(self, run_id: str, since: float) -> None:
        """This process's CPU time since ``since``, for run ``run_id``'s end."""
        if run_id in self.spent:
            self.spent[run_id] += time.thread_time() - since

    def _start(self, request: dict[str, Any], fds: list[int], cpu: float) -> None:
        # the child's address space at fork is this one's: read here, from an open file,
        # it costs the child nothing
        base_vm = int(os.pread(self.statm, 64, 0).split()[0]) * self.page_size
        pid = os.fork()
        if pid == 0:
            try:
                scratch = request.get("scratch")
                confine.enter(
                    self.plan, fds, request["uid"], request["gid"],
                    request["cpu"], request["memory"], base_vm,
                    confine.Scratch(*scratch) if scratch else None,
                )
                # a new thread's CPU clock starts at fork: this is what confinement took (the
                # process's clock lags by up to a tick once RLIMIT_CPU arms its timer)
                child.CONFINED_CPU = time.thread_time()
                child.WARM = request.get("warm") is True
            except BaseException:  # noqa: BLE001 - a child that cannot be confined never runs code
                os._exit(71)
            child.main()
        for fd in fds:
            os.close(fd)
        pidfd = os.pidfd_open(pid)
        self.runs[pidfd] = (request["id"], pid)
        self.by_id[request["id"]] = pid
        self.spent[request["id"]] = 0.0
        self.selector.register(pidfd, selectors.EVENT_READ)
        self.send({"op": "started", "id": request["id"], "pid": pid,
                   "cpu": time.thread_time() - cpu})

    def _reap(self, pidfd: int) -> None:
        cpu = time.thread_time()
        run_id, pid = self.runs.pop(pidfd)
        self.selector.unregister(pidfd)
        os.close(pidfd)
        del self.by_id[run_id]
        record = self.exit_record
        while _libc.wait4(pid, ctypes.byref(record, 0), 0, ctypes.byref(record, 8)) < 0 \
                and ctypes.get_errno() == errno.EINTR:
            pass
        self._count(run_id, cpu)
        header = json.dumps({"op": "exited", "id": run_id, "cpu": self.spent.pop(run_id)})
        try:
            self.ctrl.sendmsg([header.encode(), b"\0", memoryview(record).cast("B")])
        finally:
            ctypes.memset(ctypes.addressof(record), 0, ctypes.sizeof(record))

    def _shutdown(self) -> None:
        for _, pid in self.runs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)


# Modules whose after-fork hooks only repair what other threads may have left behind: locks
# they held, and the records of threads that a child does not have.
THREAD_REPAIR = frozenset({"threading", "logging"})


class ForkHooks:
    """Keeps the after-fork hooks of ``THREAD_REPAIR``'s modules from being registered while
    the learner modules load (``numpy.random`` imports ``threading``, ``numpy.testing``
    ``logging``). The zygote forks its children from its only thread, holding none of their
    locks, so there is nothing for them to repair; run, they would write about 160 of its pages
    in every child (0.4 ms of CPU), and logging's would take and release its lock around every
    fork. Every other module's hooks are registered as usual (``random`` reseeds each child).
    Should the zygote have more than one thread once the modules are loaded, the held hooks are
    registered after all."""

    def __init__(self, register: Any = None) -> None:
        self.register = register or os.register_at_fork
        self.held: list[dict[str, Any]] = []
        self.replaced: Any = None

    def __enter__(self) -> ForkHooks:
        self.replaced, os.register_at_fork = os.register_at_fork, self.filter
        return self

    def filter(self, **hooks: Any) -> None:
        if all(getattr(hook, "__module__", None) in THREAD_REPAIR for hook in hooks.values()):
            self.held.append(hooks)
        else:
            self.register(**hooks)

    def __exit__(self, *_: object) -> None:
        os.register_at_fork = self.replaced
        if threads() != 1:
            for hooks in self.held:
                self.register(**hooks)
            self.held.clear()


def threads() -> int:
    """This process's threads, its native ones included."""
    return len(os.listdir("/proc/self/task"))


def _warm(plan: confine.Plan) -> None:
    """Run, once here, the code every child runs. CPython rewrites bytecode as it first runs
    it; done here, that memory stays shared instead of being copied into every child."""
    with ForkHooks():
        for name in LEARNER_MODULES:
            importlib.import_module(name)
    child._warm_up()
    plan.seccomp.write_pid(os.getpid())
    # ctypes looks a C function up, and keeps it, on its first use: here, not in every child
    for library in (confine._libc, landlock._libc, seccomp._libc):
        library.prctl  # noqa: B018 - looked up for its side effect
    child._forget_grader_modules()  # after the last import of the grader's


def _batch() -> None:
    """SCHED_BATCH for this process and every child it forks (they inherit it, and may not
    change it): the same share of the CPU as any process, but a woken one never preempts the
    one running. A message to the zygote, a child's answer or its end then waits for a free CPU
    or the grader's next wait instead of cutting into the grader's thread, which is where a
    submission's time goes; a child that computes still gets its fair share."""
    with contextlib.suppress(OSError):  # a scheduling choice, not a layer: kept as it was
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))


def _pin_files(skipped: dict[str, str]) -> float:
    """Keep in memory, for as long as the zygote lives, every page of every file it maps.

    Which pages of a file are in the page cache is the kernel's state, shared by every process:
    a child can bring a page of a library it maps into memory (a read, ``MADV_WILLNEED``), and a
    later child, of any submission, can tell whether a page is there (a read that takes a major
    fault, or long). Pages locked here are always there: nothing to set, nothing to read.
    Returns the MiB locked; 0, with the reason in ``skipped``, when they cannot all be."""
    paths = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].startswith("/"):
                paths.add(fields[5].rstrip("\n"))
    locked = 0
    for path in sorted(paths):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as error:
            skipped["pinned_files"] = f"{path} cannot be opened to keep it in memory: {error}"
            return 0.0
        try:
            size = os.fstat(fd).st_size
            address = _libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0) \
                if size else 0
            if address in (None, _MAP_FAILED) or (size and _libc.mlock(address, size) != 0):
                skipped["pinned_files"] = (
                    f"the files the zygote maps cannot be kept in memory "
                    f"({os.strerror(ctypes.get_errno())}): a child could pass data to a later "
                    f"one through which of their pages are cached; give the service "
                    f"CAP_IPC_LOCK, or a memlock limit above the files' size")
                return 0.0
            locked += size
        finally:
            os.close(fd)
    return locked / (1 << 20)


def _scratch_possible(skipped: dict[str, str]) -> bool:
    """Whether a child could make a private tmpfs its root (a mount namespace is needed)."""
    pid = os.fork()
    if pid == 0:
        try:
            confine.private_tmpfs_root(confine.Scratch(4096, 1), os.getuid(), os.getgid())
        except BaseException:  # noqa: BLE001 - only the exit status is reported
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        skipped["scratch"] = "no mount namespace for a private tmpfs (exercises that ask " \
            "for a writable scratch cannot be graded here)"
        return False
    return True


def _build_layers(without: set[str], skipped: dict[str, str]) -> tuple[int, int,
                                                                        seccomp.Filter | None]:
    """(Landlock ABI, ruleset fd, seccomp filter); what cannot be built is said in skipped."""
    abi, ruleset = landlock.abi_version(), -1
    if "landlock" in without:
        abi, skipped["landlock"] = 0, "left out on purpose (GRADER_SANDBOX_WITHOUT)"
    elif not abi:
        skipped["landlock"] = "the kernel has no Landlock, or it is disabled"
    else:
        try:
            ruleset = landlock.prepare((), (), abi)  # no path at all, no TCP, scoped signals
        except landlock.LandlockError as error:
            abi, skipped["landlock"] = 0, f"a ruleset could not be made: {error}"
    syscall_filter: seccomp.Filter | None = None
    if "seccomp" in without:
        skipped["seccomp"] = "left out on purpose (GRADER_SANDBOX_WITHOUT)"
    else:
        try:
            syscall_filter = seccomp.build()
        except seccomp.SeccompError as error:
            skipped["seccomp"] = str(error)
    return abi, ruleset, syscall_filter


def main() -> None:
    ctrl_fd = int(sys.argv[sys.argv.index("--ctrl-fd") + 1])
    ctrl = socket.socket(fileno=ctrl_fd)
    skipped: dict[str, str] = {}
    namespaces = _enter_namespaces(skipped)
    if "pid" in namespaces:
        _become_pid_one()
    without = {sys.argv[i + 1] for i, arg in enumerate(sys.argv[:-1]) if arg == "--without"}
    abi, ruleset, syscall_filter = _build_layers(without, skipped)
    drop_uid = os.geteuid() == 0
    if not drop_uid:
        skipped["uid_drop"] = "the service does not run as root, so children keep its uid"
    scratch = _scratch_possible(skipped)
    layers = {
        "scratch": scratch,
        "uid_drop": drop_uid,
        "landlock_abi": abi,
        "seccomp": syscall_filter is not None,
        "seccomp_instructions": syscall_filter.instructions if syscall_filter else 0,
        "namespaces": namespaces,
        "rlimits": True,
    }
    if syscall_filter is None or ruleset < 0:
        # Report and serve nothing: the grader refuses to grade without these layers.
        ctrl.send(json.dumps({"op": "hello", "layers": layers, "skipped": skipped}).encode())
        ctrl.recv(1)
        return
    plan = confine.Plan(landlock_ruleset=ruleset, landlock_abi=abi,
                        seccomp=seccomp.Loader(syscall_filter),
                        scratch_seccomp=seccomp.Loader(seccomp.build(scratch=True)),
                        drop_uid=drop_uid, streams=confine.std_streams())
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _batch()
    zygote = Zygote(ctrl, plan)
    _warm(plan)
    layers["pinned_files_mib"] = round(_pin_files(skipped), 1)  # every file is mapped by now
    gc.collect()
    gc.freeze()  # children's collections leave the shared heap alone
    zygote.send({"op": "hello", "layers": layers, "skipped": skipped})
    zygote.serve()


if __name__ == "__main__":
    main()
