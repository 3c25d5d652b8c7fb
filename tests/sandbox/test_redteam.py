"""The red-team suite: hostile submissions against the real sandbox.

Each submission in ``tests/redteam/`` gets an exact verdict, and after each one: no file
appeared outside the scratch space, no connection reached a loopback listener, no process of a
sandbox uid is left but the children kept ready, the zygote is the same process, and an honest
submission still passes.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import grader
from grader.catalog.exercises import Catalog, Exercise
from grader.catalog.spec import Limits
from grader.grading.grade import WITHHELD, grade
from grader.grading.report import Report
from grader.pages.case_outputs import visible_outputs
from grader.pages.report_page import render_report
from grader.sandbox.conversation import Conversation
from grader.sandbox.forkserver import ForkServerRunner
from tests.conftest import HIDDEN_SECRET, ROOT

pytestmark = pytest.mark.processes

REDTEAM = Path(__file__).resolve().parent.parent / "redteam"
SECRET_A, SECRET_B = "tok-7f3a9c", "e1d5b2-not-for-learners"
SECRET = SECRET_A + SECRET_B
HONEST = (ROOT / "exercises" / "conv2d" / "samples" / "correct_numpy.py").read_text()

DENIED = ("error", "PermissionError")
# Sleeping, blocked or stopped: the case's limit on the wall clock, five times its 0.5 s.
WALL_LIMIT = ("timeout", "stopped after 2.5 s on the wall clock, the wall-clock limit of a case")
# Computing: its 0.5 s of CPU time, or on a busy machine the wall clock's limit first.
CASE_LIMIT = ("timeout", "limit of a case")
# Submissions whose later cases may end at their time limit instead, on a machine others load:
# a list that grows until the memory limit stops it, in a child whose earlier case already
# took the memory once, may reach its case's time first
EITHER = {"list_subclass_lies"}
# name -> (status of every case, a fragment of the first case's message)
EXPECTED: dict[str, tuple[str, str]] = {
    # comparison tricks
    "eq_always_true": ("invalid_output", "got a Liar"),
    "ndarray_subclass": ("wrong_values", "differ from the expected"),
    "monkeypatched_numpy": ("wrong_values", "differ from the expected"),
    "array_interface_lies": ("invalid_output", "got a Shifty"),
    # verdict forgery
    "fake_stdout_verdict": ("wrong_values", "differ from the expected"),
    "sys_exit_zero": ("error", "SystemExit"),
    "os_exit_zero": ("crashed", "exited with status 0 before returning a result"),
    "exit_status_71": ("crashed", "exited with status 71 before returning a result"),
    "keyboard_interrupt": ("error", "KeyboardInterrupt"),
    "frames_to_every_fd": ("invalid_output", "bad frame magic"),
    "pickle_payload_result": ("invalid_output", "bad frame magic"),
    "returns_pickle_bytes": ("invalid_output", "got a bytes"),
    # hand-written frames on the result channel: the harness's own answer is dropped, so each
    # case gets the forged frame alone
    "frame_dtype_f1": ("invalid_output", "unsupported dtype '<f1'"),
    "frame_dtype_big_endian": ("invalid_output", "unsupported dtype '>f8'"),
    "frame_dtype_object": ("invalid_output", "unsupported dtype '|O'"),
    "frame_dtype_complex": ("invalid_output", "unsupported dtype '<c16'"),
    "frame_dtype_void": ("invalid_output", "unsupported dtype '|V8'"),
    "frame_dtype_unicode": ("invalid_output", "unsupported dtype '<U4'"),
    "frame_huge_shape": ("invalid_output", "shape is not a short list of non-negative integers"),
    "frame_negative_dims": ("invalid_output", "shape is not a short list of non-negative integers"),
    "frame_shape_overflow": ("invalid_output", "array of 18446744073709551616 elements is over"),
    "frame_body_too_short": ("invalid_output", "body is 8 bytes but dtype <f8 and shape [6, 6]"),
    # the grader waits for a body that never comes, until the case's time is up
    "frame_body_never_arrives": WALL_LIMIT,
    "frame_body_over_limit": ("invalid_output", "bytes is over the limit"),
    "frame_json_array": ("invalid_output", "frame header is not a JSON object"),
    "frame_json_deep_nesting": ("invalid_output", "frame header is not JSON"),
    "frame_json_nan": ("wrong_values", "differ from the expected"),  # NaN seconds are ignored
    "frame_json_nan_index": ("crashed", "wrote garbage to the grader's channel"),
    "frame_other_case_index": ("crashed", "wrote garbage to the grader's channel"),
    "frame_result_then_exit": ("crashed", "wrote garbage to the grader's channel"),
    # answers for hidden cases written before their inputs were sent are taken as answers:
    # guesses, since the child never saw those inputs
    "frame_answers_every_case": ("wrong_shape", "expected an array of shape (6, 6), got (1,)"),
    # text a child chooses, quoted in the report: lone surrogates (no UTF-8 text can hold
    # them, so no report could be written) and the grader's install path
    "surrogate_in_exception": ("error", "ValueError: half a character: ?"),
    "surrogate_in_function_name": ("error", "no function named 'conv'"),
    # a reason that is not one of the grader's codes is not quoted at all
    "surrogate_in_frame_text": ("invalid_output", "got something the grader cannot use"),
    "path_in_frame_text": ("invalid_output", "got something the grader cannot use"),
    "path_in_frame_dtype": ("invalid_output", "unsupported dtype '<grader>'"),
    "path_in_function_name": ("error", "no function named 'conv'"),
    # reading the grader, its data and its secrets
    "import_grader": ("error", "Error"),
    "import_reference_by_path": ("error", "Error"),
    "importlib_reference_file": DENIED,
    "read_grader_package": DENIED,
    "import_other_package": ("error", "Error"),
    "read_reference_source": DENIED,
    "read_spec": DENIED,
    "list_exercises_dir": DENIED,
    "read_database": DENIED,
    # numpy's own readers and writers of files (load, fromfile, memmap, loadtxt, save...)
    "numpy_file_readers": ("error", "every numpy file reader and writer was refused"),
    "read_environment": ("error", "env: [("),
    "proc_parent_environ": DENIED,
    "proc_self_environ": DENIED,
    "proc_other_process_mem": DENIED,
    "proc_listing": DENIED,
    "gc_hunt_for_expected": ("wrong_values", "differ from the expected"),
    # every string reachable in its heap and up its stack into the zygote's frames: the
    # zygote was started with a scrubbed environment, so none is a secret of the grader's
    "heap_secret_scan": ("error", "found 0 secrets"),
    # the zygote's control socket, found in the zygote's frames: sending is refused (seccomp)
    "zygote_control_socket": ("error", "PermissionError: refused: ['PermissionError']"),
    "frames_hunt_for_expected": ("wrong_values", "differ from the expected"),
    "secret_in_exception": ("error", "leaked 0 secrets"),
    # fd 0 read without blocking, and the harness's queue of frames read ahead, during each
    # visible case: no hidden input is there yet
    "peek_for_hidden_inputs": ("error", "case 0: nothing hidden waits (0 bytes"),
    # resource exhaustion
    "fork_bomb": DENIED,
    "thread_storm": ("error", "can't start new thread"),
    "memory_bomb_bytes": ("memory_limit", "MemoryError"),
    "memory_bomb_gradual": ("memory_limit", "MemoryError"),
    "constant_folding_bomb": ("memory_limit", "MemoryError"),
    "busy_loop_signals_ignored": CASE_LIMIT,
    "sleeping_loop": WALL_LIMIT,
    # a byte a write, yielding between writes: the grader wakes for a few bytes at a time
    "stdout_trickle": CASE_LIMIT,
    # a result frame a byte per write, in packet mode: the grader reads it at a bounded pace
    "result_frame_trickle": CASE_LIMIT,
    "huge_stdout": WALL_LIMIT,
    "huge_result": ("invalid_output", "4000000 elements, more than the 65536 allowed"),
    # a trillion elements of zero strides: counted before anything is copied
    "zero_stride_huge_view": ("invalid_output", "1000000000000 elements, more than the 65536"),
    "deep_nested_lists": ("invalid_output", "nested lists that do not form an array"),
    # output that never ends, and is not UTF-8: one budget for the run, then a timeout
    "flood_stdout_undecodable": WALL_LIMIT,
    "flood_stdout_undecodable_lines": WALL_LIMIT,
    "flood_stderr_undecodable": WALL_LIMIT,
    "flood_stderr_undecodable_lines": WALL_LIMIT,
    # memory past the limit, by other ways than allocating: mmap and mremap fail with ENOMEM
    # (an OSError), memfds cannot be made, and poisoning a page fails (EPERM without
    # CAP_SYS_ADMIN, EINVAL on kernels without memory-failure support)
    "mmap_shared_beyond_limit": ("error", "OSError: [Errno 12] Cannot allocate memory"),
    "mremap_beyond_limit": ("error", "OSError: [Errno 12] Cannot allocate memory"),
    # a page at address zero, for a kernel bug that follows a null pointer: below mmap_min_addr
    "mmap_null_page": ("error", "the null page: refused"),
    "inherited_memory_refilled": ("error", "inherited memory stays as it was: refused"),
    "memfd_beyond_memory_limit": DENIED,
    "madvise_hwpoison": ("error", "madvise refused both"),
    # writes
    "write_tmp": DENIED,
    "write_dev_shm": DENIED,
    "write_watched_dir": DENIED,
    "symlink_out_of_scratch": DENIED,
    "hard_link_out_of_scratch": DENIED,
    "chmod_scratch": DENIED,
    "mkfifo": DENIED,
    "rename_out_of_scratch": DENIED,
    "dev_shm_raw_open": DENIED,
    # files that would break cleanup
    "deep_directory_chain": DENIED,
    "unlistable_directories": DENIED,
    "fill_disk": DENIED,
    "many_small_files": DENIED,
    # metadata outside, without opening a file
    "xattr_outside": DENIED,
    "utime_outside": DENIED,
    "chown_outside": DENIED,
    "chmod_outside": DENIED,
    "stat_secret_file": DENIED,
    "listmount_statmount": DENIED,
    "sysv_ipc": DENIED,
    # a mark in memory inherited from the zygote, one child a case: none sees another's
    "inherited_memory_marker": ("crashed", "exited with status 0 before returning a result"),
    # kills and escapes
    "kill_parent": DENIED,
    "kill_process_group": DENIED,
    "kill_everyone": DENIED,
    "kill_init": DENIED,
    "setsid_escape": DENIED,
    # other processes, of the same uid or not: limits, priorities, CPUs, I/O classes, handles
    "prlimit_parent": DENIED,
    "prlimit_pid_one": DENIED,
    "prlimit_other_pids": DENIED,
    "setpriority_others": DENIED,
    "sched_setaffinity_others": DENIED,
    "sched_setscheduler_others": DENIED,
    "ioprio_others": DENIED,
    "ctypes_clone_vfork": DENIED,
    "ctypes_other_process_handles": DENIED,
    "ctypes_perf_userfaultfd": DENIED,
    # other processes' CPU clocks, read or slept on (in a container pid 1 is the server, with
    # no pid namespace to hide it), futexes that look a pid up, and futexes shared through a
    # file's page: all refused
    "cpu_clock_of_parent": DENIED,
    "cpu_clock_nanosleep_parent": DENIED,
    "cpu_clock_covert_channel": DENIED,
    "futex_pi_pid_oracle": DENIED,
    "futex_shared_file_page": DENIED,
    # raised limits
    "raise_memory_limit": ("error", "ValueError"),
    "raise_cpu_limit": ("error", "ValueError"),
    # pending signals are counted per uid: queued past the limit, they go with the child
    "sigpending_flood": ("error", "raising the limit: ValueError"),
    # a real-time policy, a negative nice value, or the limits that would permit them
    "realtime_self": ("error", "PermissionError: every attempt was refused"),
    # raw syscalls and other programs
    "ctypes_socket": DENIED,
    "ctypes_io_uring": DENIED,
    "ctypes_unshare": DENIED,
    "ctypes_keyctl": DENIED,
    "ctypes_ptrace_parent": DENIED,
    "ctypes_bpf": DENIED,
    # every syscall number the filter does not allow, 0 to 1023 and beyond: EPERM, each
    "syscall_sweep": ("error", "calls refused before the kernel ran them"),
    "exec_shell": DENIED,
    "subprocess_run": DENIED,
    "connect_loopback": DENIED,
    "connect_at_import": ("invalid_output", "got a NoneType"),
    # crashes
    "segfault_ctypes": ("crashed", "SIGSEGV"),
    "array_interface_bad_pointer": ("crashed", "SIGSEGV"),
    "stack_overflow": ("crashed", "SIGSEGV"),
    "rt_sigreturn_garbage": ("crashed", "SIGSEGV"),
    "alarm_default_action": ("crashed", "signal 14"),
    # another architecture's entry points: the filter kills the process (SIGSYS)
    "x32_syscall": ("crashed", "signal 31"),
    "int80_syscall": ("error", "no executable memory"),
    # a SIGKILL of its own is told as the grader's memory kill: contained, but the wording is
    # a guess the learner chose
    "sigkill_self": ("memory_limit", "killed, most likely for its memory use"),
    # its own SIGXCPU, with its CPU time far from the limit: a crash of its own, not the limit
    "sigxcpu_self": ("crashed", "signal 24"),
    # descriptors and signals of its own
    "dup2_over_fds": DENIED,
    # resizing its pipes, asking what waits in them, owning them: refused (seccomp's fcntl
    # and ioctl commands)
    "pipe_resize": DENIED,
    # dumpable again, renamed, a personality, a subreaper, a death signal, a session: refused
    "process_attributes_self": DENIED,
    # with fd 3 closed the harness cannot answer, and exits with status 70
    "close_result_fd": ("crashed", "exited with status 70 before returning a result"),
    "close_result_fd_and_linger": ("crashed", "closed the grader's channel and stopped answering"),
    "write_to_case_input": ("error", "OSError: [Errno 9] Bad file descriptor"),
    "nonblocking_stdout": ("error", "BlockingIOError"),
    "pipe_flags": ("wrong_values", "differ from the expected"),  # zeros, answered despite them
    "sigstop_self": WALL_LIMIT,
    # handlers that re-raise SIGSEGV nest until Python's recursion limit
    "sigsegv_handler_loop": ("error", "RecursionError"),
    # a real fault with a Python handler repeats forever, in C, until the time limit
    "sigsegv_handled_fault": CASE_LIMIT,
    "itimer_storm": CASE_LIMIT,
    "exception_str_recursion": ("error", "<the exception's message could not be shown>"),
    # exceptions that lie about themselves: a SyntaxError's fields of other types (only
    # well-typed parts are kept), a BaseException that escapes every ``except Exception``, a
    # message of 20 million characters (cut), a class whose module is the install path
    "syntax_error_forged_fields": ("error", "your code raised submission.Forged (line 13"),
    "base_exception_subclass": ("error", "submission.Escape: out of the harness"),
    "exception_huge_message": ("error", "ValueError: xxxx"),
    "exception_module_is_path": ("error", "raised <grader>.Boom: installed in <grader>"),
    # a class whose ``__traceback__`` is a fake that is its own next entry: the harness walks
    # it forever, within the case's time; a message, a str subclass, that says it is empty but
    # holds 2 million characters: sent whole, a frame header over the limit
    "fake_traceback_cycle": CASE_LIMIT,
    "exception_str_subclass_lies": ("invalid_output", "frame header of 2000106 bytes is over"),
    # markup and terminal escapes, printed and raised: quoted as text (the page test below)
    "html_in_messages": ("error", "ValueError: <script>"),
    # escapes where names are quoted: an exception's class name, qualified name and module
    "escapes_in_exception_names": ("error", "\u202eBoom"),
    # the harness's builtins replaced under it: it cannot answer, and exits with status 70
    "builtins_sabotage": ("crashed", "exited with status 70 before returning a result"),
    # likewise with a recursion limit just above conv's own depth
    "recursion_limit_tiny": ("crashed", "exited with status 70 before returning a result"),
    # its answer cut after ten bytes, then exit 0: no answer
    "half_frame_then_exit": ("crashed", "exited with status 0 before returning a result"),
    # frames forged at exit by atexit, finalizers and __del__: the harness ends with os._exit
    "finalizers_forge_frames": ("wrong_values", "differ from the expected"),
    "array_hook_sleeps": WALL_LIMIT,
    # garbage output
    "nan_output": ("invalid_output", "NaN"),
    # the largest finite floats: compared, and drawn on the page (the page test below)
    "extreme_finite_values": ("wrong_values", "the largest error is 1.798e+308"),
    "extreme_uniform_values": ("wrong_values", "the largest error is 1.798e+308"),
    "extreme_values_many": ("wrong_shape", "got (100, 100)"),
    # outputs with no values: nothing for the diagnosis to explain, empty pictures
    "empty_outputs": ("wrong_shape", "expected an array of shape (6, 6), got (6, 0)"),
    "empty_output_wide": ("wrong_shape", "expected an array of shape (6, 6), got (0, 100)"),
    "inf_output": ("invalid_output", "infinite"),
    "object_array": ("invalid_output", "Python objects"),
    "ragged_lists": ("invalid_output", "nested lists that do not form an array"),
    "generator_output": ("invalid_output", "got a generator"),
    # a list subclass that claims 2**62 items and makes them up forever, one a call
    "list_subclass_lies": ("invalid_output", "nested lists that do not form an array"),
}


def test_every_hostile_submission_has_an_expected_verdict() -> None:
    from tests.sandbox.test_lanes_hostile import HOSTILE  # the lanes' own, checked there

    on_disk = {p.stem for p in REDTEAM.glob("*.py")} - set(HOSTILE)
    assert on_disk == set(EXPECTED)
    assert len(EXPECTED) >= 40


class Listener:
    """A loopback TCP server that counts every connection that reaches it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@dataclasses.dataclass
class Arena:
    runner: ForkServerRunner
    exercise: Exercise
    listener: Listener
    outside: Path
    secret_file: Path
    zygote_pid: int

    def watched(self) -> dict[Path, set[str]]:
        """What is in the places a hostile child might write to. Folders only this test uses
        are listed whole; in the machine's shared temp folders, where other programs come and
        go, what counts is an entry owned by a sandbox uid, or named as an attack names it."""
        own = [self.outside, ROOT, ROOT / "exercises" / "conv2d", ROOT / "exercises"]
        seen = {p: set(os.listdir(p)) for p in own}
        for shared in (Path("/tmp"), Path("/dev/shm"), Path("/var/tmp")):
            if shared.is_dir():
                seen[shared] = {e.name for e in os.scandir(shared) if self._suspect(e)}
        return seen

    def _suspect(self, entry: os.DirEntry[str]) -> bool:
        if any(word in entry.name for word in ("pwned", "escape", "stolen", "self-test")):
            return True
        try:
            owner = entry.stat(follow_symlinks=False).st_uid
        except OSError:
            return False
        return self.runner.layers.uid_drop and owner in self.runner.uid_range

    def source(self, name: str) -> str:
        text = (REDTEAM / f"{name}.py").read_text()
        for key, value in {
            "__PORT__": str(self.listener.port),
            "__REFERENCE_DIR__": str(ROOT / "reference"),
            "__EXERCISES_DIR__": str(ROOT / "exercises"),
            "__GRADER_DIR__": str(Path(grader.__file__).parent),
            "__SECRET_FILE__": str(self.secret_file),
            "__OUTSIDE_DIR__": str(self.outside),
            "__SECRET_A__": SECRET_A,
            "__SECRET_B__": SECRET_B,
        }.items():
            text = text.replace(key, value)
        return text


def _descendants(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
        for child in children:
            found += [child, *_descendants(child)]
    return found


def sandbox_processes(runner: ForkServerRunner) -> list[int]:
    """Pids of the sandbox's children: every process of a sandbox uid when uids are dropped;
    otherwise (not root) every process below the zygote but the serving zygote itself."""
    if not runner.layers.uid_drop:
        below = _descendants(runner.zygote_pid)
        serving = [p for p in below if Path(f"/proc/{p}/status").exists()
                   and f"PPid:\t{runner.zygote_pid}" in Path(f"/proc/{p}/status").read_text()]
        return [p for p in below if p not in serving] if "pid" in runner.layers.namespaces \
            else below
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
        if uid in runner.uid_range:
            pids.append(int(entry))
    return pids


@pytest.fixture(scope="module")
def arena(catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Arena]:
    data = tmp_path_factory.mktemp("data")
    secret_file = data / "grader.db"
    secret_file.write_text(f"submissions and a token: {SECRET}")
    outside = tmp_path_factory.mktemp("outside")
    os.chmod(outside, 0o777)  # only the sandbox's own walls may stop a write here
    saved = os.environ.get("GRADER_PLATFORM_TOKENS")
    os.environ["GRADER_PLATFORM_TOKENS"] = SECRET  # present in the grader's environment
    # Claims uids of its own, apart from others'. Verdicts here must not depend on how busy the
    # machine is: no job is moved to the slow lane (whose lowest priority can starve a heavy but
    # finite submission past these short limits); the lanes have tests of their own.
    runner = ForkServerRunner(slots=2, fast_seconds=60.0)
    conv2d = catalog.get("conv2d")
    # Short limits keep the suite quick: a memory bomb fills 64 MiB well within its 0.5 s.
    limits = Limits(case_seconds=0.5, submission_seconds=3.0, memory_mb=64)
    exercise = dataclasses.replace(conv2d, spec=conv2d.spec.model_copy(update={"limits": limits}))
    listener = Listener()
    try:
        yield Arena(runner, exercise, listener, outside, secret_file, runner.zygote_pid)
    finally:
        listener.close()
        runner.close()
        if saved is None:
            del os.environ["GRADER_PLATFORM_TOKENS"]
        else:
            os.environ["GRADER_PLATFORM_TOKENS"] = saved


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_submission_is_contained(arena: Arena, name: str) -> None:
    status, fragment = EXPECTED[name]
    before = arena.watched()

    report: Report = grade(arena.exercise, arena.source(name), arena.runner, seed=1,
                           hidden_secret=HIDDEN_SECRET)

    statuses = [c.status for c in report.cases]
    if name in EITHER:  # its own verdict either way: the primary one, or a case's time limit
        assert set(statuses) <= {status, "timeout"} and status in statuses, statuses
        assert fragment in next(c.message for c in report.cases if c.status == status)
    else:
        assert statuses == [status] * 4, report.cases[0].message
        assert fragment in report.cases[0].message
    limit = report.cases[0].limit
    if limit is not None:  # the number stated is the limit's own
        assert f" {limit.seconds:g} s" in report.cases[0].message
    assert report.score == 0
    assert SECRET not in report.model_dump_json()
    assert str(ROOT) not in report.model_dump_json()  # no path of the grader's, ever
    arena.runner.settle()
    assert arena.watched() == before
    assert arena.listener.connections == 0
    assert len(sandbox_processes(arena.runner)) == arena.runner.warm_children
    assert arena.runner.zygote_pid == arena.zygote_pid
    assert not Path("/tmp/grader-pwned").exists()
    honest = grade(arena.exercise, HONEST, arena.runner, seed=2, hidden_secret=HIDDEN_SECRET)
    assert honest.passed


def test_huge_stdout_is_capped(arena: Arena) -> None:
    # blocked on its output, each case ends at its wall-clock limit (2.5 s): time enough for
    # all four, so that the hidden ones run too
    limits = Limits(case_seconds=0.5, submission_seconds=12.0, memory_mb=64)
    exercise = dataclasses.replace(arena.exercise, spec=arena.exercise.spec.model_copy(
        update={"limits": limits}))
    report = grade(exercise, arena.source("huge_stdout"), arena.runner, seed=1,
                   hidden_secret=HIDDEN_SECRET)
    printed, note = report.stdout.rsplit("\n", 1)
    assert len(printed) == 16 * 1024
    assert note == WITHHELD


def test_the_child_has_no_file_system(arena: Arena) -> None:
    """Not even its working folder: no file is opened, listed, stat'ed or made."""
    source = HONEST.replace("def conv(", "def _conv(") + (
        "\nimport os\n"
        "def conv(image, kernel):\n"
        "    tried = []\n"
        "    for attempt in (lambda: open('notes.txt', 'w'), lambda: os.listdir('.'),\n"
        "                    lambda: os.stat('/'), lambda: os.getcwd(),\n"
        "                    lambda: open('/dev/null'), lambda: os.mkdir('d')):\n"
        "        try:\n"
        "            attempt()\n"
        "            tried.append('worked')\n"
        "        except PermissionError:\n"
        "            tried.append('refused')\n"
        "    assert tried == ['refused'] * 6, tried\n"
        "    return _conv(image, kernel)\n"
    )
    report = grade(arena.exercise, source, arena.runner, seed=1, hidden_secret=HIDDEN_SECRET)
    assert report.passed, report.cases[0].message


@pytest.mark.parametrize("name", ["html_in_messages", "extreme_finite_values",
                                  "extreme_uniform_values", "extreme_values_many",
                                  "empty_outputs", "empty_output_wide",
                                  "escapes_in_exception_names"])
def test_the_report_page_of_a_hostile_submission_is_drawn_inert(arena: Arena, name: str) -> None:
    """The learner's page, drawn as the server draws it (the visible cases run again): what it
    printed and raised is text, outputs whose ranges and sums overflow still get colours, and
    empty ones are empty pictures."""
    source = arena.source(name)
    report = grade(arena.exercise, source, arena.runner, seed=1, hidden_secret=HIDDEN_SECRET)
    outputs = visible_outputs(arena.exercise, source, report.seed, arena.runner,
                              hidden_secret=HIDDEN_SECRET)
    spec = arena.exercise.spec
    page = render_report(report, spec.title, outputs, statement=spec.statement,
                         entry_point=spec.entry_point, source=source)
    assert "<script" not in page and "<img" not in page and "<a href" not in page
    assert "\x1b" not in page and "\u202e" not in page
    assert 'fill="#nan' not in page.lower() and "NaN" not in page
    assert str(ROOT) not in page and SECRET not in page


@pytest.mark.parametrize(("source", "channel"), [
    # a child's printout, a byte per write: a pipe that gave little is left unwatched for 5 ms
    ("stdout_trickle", "printout"),
    # a frame that a child sends a byte per write (each its own read, in the pipe's packet
    # mode) and never completes: rested likewise once 8 small reads completed no frame
    ("result_frame_trickle", "results"),
])
def test_a_trickle_of_bytes_wakes_the_grader_a_bounded_number_of_times(
        arena: Arena, monkeypatch: pytest.MonkeyPatch, source: str, channel: str) -> None:
    """The grader's work on what a child writes is bounded per run, not per byte: counted in
    reads of the child's pipes (no clock)."""
    reads = []
    original = Conversation._read_some

    def counting(self: Conversation, fd: int) -> bool:
        if (fd == self.child.results) == (channel == "results"):
            reads.append(fd)
        return original(self, fd)

    monkeypatch.setattr(Conversation, "_read_some", counting)
    report = grade(arena.exercise, arena.source(source), arena.runner, seed=1,
                   hidden_secret=HIDDEN_SECRET)
    assert report.cases[0].status == "timeout"
    # at most about 600 reads in the run's 3 s (once about 400 000: one for every byte)
    assert len(reads) <= 1000
