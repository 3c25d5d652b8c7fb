"""The grader's link to the zygote: the process, its layers, and the thread that routes its
messages to the runs waiting for them. The zygote's side is ``zygote``; the protocol is
described there.
"""

from __future__ import annotations

import array
import contextlib
import json
import logging
import os
import queue
import socket
import struct
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from grader.sandbox.base import (
    SandboxError,
)

log = logging.getLogger("grader.sandbox")

_SCRUBBED_ENV = {
    "PATH": "/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
}


def cpu_time_readable(zygote: ZygoteLink) -> bool:
    """Whether this kernel lets the grader find a child (its children files) and read its CPU
    time (its schedstat file); the lanes measure CPU time where it can."""
    pid = zygote.pid
    return (os.path.exists(f"/proc/{pid}/task/{pid}/children")
            and os.path.exists(f"/proc/{pid}/schedstat"))


def children_of(pid: int) -> list[int]:
    """Its children's pids, read with the os module's calls alone: a file object would also
    stat the file, ask whether it is a terminal and seek, for each child forked."""
    try:
        fd = os.open(f"/proc/{pid}/task/{pid}/children", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return []
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    except OSError:
        return []
    finally:
        os.close(fd)
    return [int(p) for p in b"".join(chunks).split()]


# wait4's status (and 4 bytes of padding), then the 18 longs of its ``struct rusage``: two
# timevals (user and system CPU time), maxrss, ixrss, idrss, isrss, minflt, majflt, ...
EXIT_RECORD = struct.Struct("@ii18l")  # native sizes, as the zygote's ctypes buffer


def _message(data: bytes) -> dict[str, Any]:
    """A message of the zygote's. An "exited" one carries wait4's record raw after a NUL (see
    ``zygote._ExitRecord``): its child's exit code, whole CPU time and page faults are read
    from it here."""
    head, nul, record = data.partition(b"\0")
    message: dict[str, Any] = json.loads(head)
    if nul and len(record) == EXIT_RECORD.size:
        status, _, *usage = EXIT_RECORD.unpack(record)
        with contextlib.suppress(ValueError):  # a status no exit gives: the end is unknown
            message["code"] = os.waitstatus_to_exitcode(status)
        message["cpu"] = (usage[0] + usage[1] / 1e6 + usage[2] + usage[3] / 1e6
                          + float(message.get("cpu", 0.0)))
        message["faults"] = usage[8] + usage[9]
    return message


def exit_code(message: dict[str, Any]) -> int | None:
    if message.get("op") != "exited":
        return None
    code = message.get("code")
    return code if type(code) is int else -9


# What is called once the zygote has reaped a run: its "exited" message, or None (the zygote
# died first).
Reaped = Callable[[dict[str, Any] | None], None]

# Layers without which no learner code runs, in any mode.
REQUIRED_LAYERS = ("seccomp", "landlock")


@dataclass
class Layers:
    """What the zygote reported it can apply, and why anything is skipped."""

    uid_drop: bool
    landlock_abi: int
    seccomp: bool
    seccomp_instructions: int
    namespaces: list[str]
    scratch: bool
    skipped: dict[str, str]
    pinned_files_mib: float = 0.0  # the files it maps, kept in memory (0: see skipped)

    @property
    def refusal(self) -> str | None:
        """Why the sandbox must not grade with these layers, or None."""
        have = {"seccomp": self.seccomp, "landlock": self.landlock_abi > 0}
        missing = [f"{name} ({self.skipped.get(name, 'not available')})"
                   for name in REQUIRED_LAYERS if not have[name]]
        if missing:
            return "a required sandbox layer cannot be built: " + "; ".join(missing)
        return None

    def summary(self) -> dict[str, Any]:
        return {
            "uid_drop": self.uid_drop,
            "landlock_abi": self.landlock_abi,
            "seccomp": self.seccomp,
            "seccomp_instructions": self.seccomp_instructions,
            "namespaces": self.namespaces,
            "rlimits": True,
            "pinned_files_mib": self.pinned_files_mib,
            "filesystem": "none; a private tmpfs for exercises that ask for a scratch"
            if self.scratch else "none",
            "skipped": self.skipped,
        }


class ZygoteLink:
    """The zygote process and the thread that routes its messages to waiting runs."""

    def __init__(self, python: str, start_timeout: float, without: tuple[str, ...] = ()) -> None:
        self._stderr_reader: threading.Thread | None = None
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock = ours
        flags = [arg for layer in without for arg in ("--without", layer)]
        self.process = subprocess.Popen(
            [python, "-I", "-m", "grader.sandbox.zygote", "--ctrl-fd", str(theirs.fileno()),
             *flags],
            pass_fds=[theirs.fileno()],
            env=_SCRUBBED_ENV,
            cwd="/",
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        theirs.close()
        self.sock.settimeout(start_timeout)
        try:
            hello = json.loads(self.sock.recv(65536) or b"null")
        except (TimeoutError, ValueError) as error:
            self.stop()
            raise SandboxError(f"the sandbox zygote did not start: {error}") from None
        if not isinstance(hello, dict) or hello.get("op") != "hello":
            stderr = self.process.stderr
            err = stderr.read().decode(errors="replace")[-2000:] if stderr else ""
            self.stop()
            raise SandboxError(f"the sandbox zygote did not start:\n{err}")
        self.sock.settimeout(None)
        layers = hello["layers"]
        self.layers = Layers(
            uid_drop=bool(layers["uid_drop"]),
            landlock_abi=int(layers["landlock_abi"]),
            seccomp=bool(layers["seccomp"]),
            seccomp_instructions=int(layers["seccomp_instructions"]),
            namespaces=list(layers["namespaces"]),
            scratch=bool(layers["scratch"]),
            skipped=dict(hello["skipped"]),
            pinned_files_mib=float(layers.get("pinned_files_mib", 0.0)),
        )
        self.orphaned_uids: list[int] = []
        self._server_pid: int | None = None  # ``_serving``, once found
        self._send_lock = threading.Lock()
        # per run: a queue of its messages, or what to call once it is reaped
        self._waiters: dict[str, queue.Queue[dict[str, Any]] | Reaped] = {}
        self._waiters_lock = threading.Lock()
        self.alive = True
        self._reader = threading.Thread(target=self._read_loop, name="zygote-reader", daemon=True)
        self._reader.start()
        self._stderr_reader = threading.Thread(target=self._log_stderr, name="zygote-stderr",
                                               daemon=True)
        self._stderr_reader.start()

    def _log_stderr(self) -> None:
        """What the zygote writes once running (a traceback if it dies) goes to the log, a
        line at a time; the pipe is kept drained, so the zygote never blocks on it."""
        stream = self.process.stderr
        if stream is None:
            return
        with contextlib.suppress(OSError, ValueError):
            for line in stream:
                text = line.decode(errors="replace").rstrip()
                if text:
                    log.warning("sandbox zygote (pid %d): %s", self.process.pid, text[:2000])

    def _read_loop(self) -> None:
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            message = _message(data)
            with self._waiters_lock:
                waiter = self._waiters.get(str(message.get("id")))
                if isinstance(waiter, queue.Queue):
                    waiter.put(message)
                    continue
                if waiter is None or message.get("op") != "exited":
                    continue
                del self._waiters[message["id"]]
            waiter(message)
        with self._waiters_lock:
            self.alive = False
            reaped = []
            for waiter in self._waiters.values():
                if isinstance(waiter, queue.Queue):
                    waiter.put({"op": "zygote_died"})
                else:
                    reaped.append(waiter)
        for callback in reaped:
            callback(None)

    def when_exited(self, run_id: str, events: queue.Queue[dict[str, Any]],
                    callback: Reaped) -> None:
        """Call ``callback(message)`` once the zygote has reaped run ``run_id``, whose messages
        went to ``events`` until now (the "exited" message); with None if the zygote died
        first (the end unknown)."""
        with self._waiters_lock:
            message: dict[str, Any] | None = None
            while message is None and not events.empty():
                got = events.get_nowait()
                if got.get("op") in ("exited", "zygote_died"):
                    message = got
            if message is None and self.alive:
                self._waiters[run_id] = callback
                return
            self._waiters.pop(run_id, None)
        callback(message if message is not None and message.get("op") == "exited" else None)

    def open(self, run_id: str) -> queue.Queue[dict[str, Any]]:
        events: queue.Queue[dict[str, Any]] = queue.Queue()
        with self._waiters_lock:
            self._waiters[run_id] = events
        return events

    def forget(self, run_id: str) -> None:
        with self._waiters_lock:
            self._waiters.pop(run_id, None)

    def send(self, message: dict[str, Any], fds: list[int] | None = None) -> None:
        data = json.dumps(message).encode()
        with self._send_lock:
            if fds:
                self.sock.sendmsg(
                    [data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))]
                )
            else:
                self.sock.send(data)

    @property
    def pid(self) -> int:
        return self.process.pid

    def host_pid(self, pid: int) -> int | None:
        """The pid, as this process sees it, of the zygote's child ``pid`` (as the zygote sees
        it, in its pid namespace), or None when there is no such child."""
        if "pid" not in self.layers.namespaces:  # no namespace: the zygote's pids are ours
            return pid if pid in children_of(self.process.pid) else None
        serving = self._serving()
        # newest first: the child asked about is most often the one forked last
        for candidate in reversed(children_of(serving)):
            try:
                fd = os.open(f"/proc/{candidate}/status", os.O_RDONLY | os.O_CLOEXEC)
                try:
                    status = os.read(fd, 8192)
                finally:
                    os.close(fd)
                at = status.index(b"\nNSpid:")
                if int(status[at:status.index(b"\n", at + 1)].split()[-1]) == pid:
                    return candidate
            except (OSError, ValueError):
                continue
        return None

    def _serving(self) -> int:
        """The pid of the zygote's process that forks the children: the zygote itself, or
        the child it forked into its pid namespace, which serves for the zygote's whole life
        (the zygote exits when it ends), so it is looked up once."""
        serving = self._server_pid
        if serving is None:
            serving = self.process.pid
            if "pid" in self.layers.namespaces:  # the zygote forked itself into the namespace
                found = children_of(serving)
                if not found:
                    return serving  # not forked yet: asked again next time
                serving = found[0]
            self._server_pid = serving
        return serving

    def stop(self) -> None:
        self.alive = False
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self._stderr_reader is not None:
            self._stderr_reader.join(timeout=1.0)  # ends at EOF, once no process holds the pipe
            if self._stderr_reader.is_alive():
                return  # still held open: the reader keeps the pipe until then
        if self.process.stderr:
            self.process.stderr.close()

