from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import settings

from grader.bench.receiver import Receiver
from grader.catalog.bundle import BundleFiles
from grader.catalog.exercises import Catalog, Exercise
from grader.catalog.spec import Limits
from grader.grading.grade import grade
from grader.grading.report import Report
from grader.sandbox.forkserver import ForkServerRunner

SUBMISSIONS = Path(__file__).parent / "submissions"
# The checkout's root (in the container, /srv/grader), wherever the package is installed.
ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
# The built-in bundles' reference modules, one per exercise: reference/<id>.py.
REFERENCES = ROOT / "reference"
# The exercise bundles shipped, in the catalog's order (by id).
SHIPPED = ["conv1d", "conv2d", "conv2d_kernels", "conv2d_strided", "conv_layer", "maxpool2d",
           "patch_dot"]
# The server's secret for hidden inputs, in tests that grade directly.
HIDDEN_SECRET = b"hidden-inputs-secret-for-tests-0123"

# Property tests draw the same examples on every run (no example database, no deadline: a
# busy machine must not fail them); GRADER_FUZZ_EXPLORE=1 lets them explore anew.
settings.register_profile("fixed", derandomize=True, database=None, deadline=None)
settings.register_profile("explore", deadline=None)
settings.load_profile("explore" if os.environ.get("GRADER_FUZZ_EXPLORE") else "fixed")



def copy_bundle(exercise_id: str, target: Path) -> Path:
    """A built-in bundle copied to ``target`` as a push sends it: its reference module as its
    own reference.py, so that the copy is whole wherever it is."""
    for name, text in BundleFiles.read(EXERCISES / exercise_id).files().items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return target

# Storage tests run on SQLite always, and on PostgreSQL where one answers (always in CI).
POSTGRES = os.environ.get("GRADER_TEST_POSTGRES",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_schema() -> Iterator[str]:
    engine = sa.create_engine(POSTGRES)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the storage tests on PostgreSQL, which is not reachable "
                        f"at {POSTGRES}: {error}")
        pytest.skip(f"no PostgreSQL at {POSTGRES}")
    schema = f"grader_test_{uuid.uuid4().hex[:12]}"
    with engine.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        _drop_schema(engine, schema)
        engine.dispose()


def _drop_schema(engine: sa.Engine, schema: str) -> None:
    """Drop a test's schema. Work the test left going (a callback's last write, a grading
    thread a closed service did not wait for) may still hold a lock in it, and take its locks
    in another order than the drop: PostgreSQL then ends one of the two as a deadlock. The
    drop is tried again, and the other's work ends meanwhile."""
    for attempt in range(50):
        try:
            with engine.begin() as connection:
                connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            return
        except sa.exc.OperationalError:
            if attempt == 49:
                raise
            time.sleep(0.1)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'grader.db'}"
    else:
        yield from _postgres_schema()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A schema of its own on PostgreSQL, for what lives there only (the job queue)."""
    yield from _postgres_schema()


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog(EXERCISES)


@pytest.fixture(scope="session")
def conv2d(catalog: Catalog) -> Exercise:
    return catalog.get("conv2d")


@pytest.fixture(scope="session")
def quick_conv2d(conv2d: Exercise) -> Exercise:
    """conv2d with short time limits, for tests of timeouts."""
    limits = Limits(case_seconds=0.5, submission_seconds=3.0, memory_mb=256)
    return dataclasses.replace(conv2d, spec=conv2d.spec.model_copy(update={"limits": limits}))


@pytest.fixture(scope="session")
def runner() -> Iterator[ForkServerRunner]:
    runner = ForkServerRunner(slots=2)
    yield runner
    runner.close()


def drop_ready_children(runner: ForkServerRunner) -> None:
    """Finish every child the runner forked ahead: the next job forks its own."""
    while runner.warm_children:
        runner._warm.get_nowait().finish()


def timeless(report: Report) -> str:
    """The report's JSON without its clock readings (``duration_ms``), which no two gradings
    share."""
    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "duration_ms"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value
    return json.dumps(strip(json.loads(report.model_dump_json())))


def source_of(name: str) -> str:
    """A file of tests/submissions/, or a bundle's sample as ``exercise/sample``."""
    path = SUBMISSIONS / f"{name}.py"
    if not path.exists():
        exercise, _, sample = name.partition("/")
        path = EXERCISES / exercise / "samples" / f"{sample}.py"
    return path.read_text()


@pytest.fixture
def grade_file(conv2d: Exercise, runner: ForkServerRunner) -> Callable[..., Report]:
    def run(name: str, exercise: Exercise | None = None, seed: int = 7) -> Report:
        return grade(exercise or conv2d, source_of(name), runner, seed=seed,
                     hidden_secret=HIDDEN_SECRET)

    return run


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """A ``grader`` process on a free loopback port: ``serve`` by default, or ``command``
    (given the port) of another that answers HTTP there, such as a worker's health port."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None,
                 command: Callable[[int], list[str]] | None = None, grace: float = 15.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GRADER_SLOTS": "2",
                    "GRADER_DATA_DIR": str(data_dir), "GRADER_LOG_LEVEL": "WARNING",
                    **(env or {})}
        self.command = (command or (lambda port: ["serve", "--port", str(port)]))(self.port)
        self.grace = grace  # seconds a stopping process has before it is killed
        self.log_path = data_dir / f"{self.command[0]}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0, probe: str = "/readyz") -> Server:
        self.log = open(self.log_path, "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "grader.cli", *self.command],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"grader {self.command[0]} exited: {self.read_log()}")
            try:
                if httpx.get(f"{self.url}{probe}", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"grader {self.command[0]} was not ready in {timeout} s: "
                           f"{self.read_log()}")

    def read_log(self, tail: int | None = 4000) -> str:
        """The end of the process's log (``tail`` characters; None: all of it)."""
        text = self.log_path.read_text(errors="replace")
        return text if tail is None else text[-tail:]

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no shutdown code runs
        self.process.wait()
        self.log.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=self.grace)
            except subprocess.TimeoutExpired:
                self.kill()
        if hasattr(self, "log"):
            self.log.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real HTTP receiver of callbacks on a loopback port of its own."""
    receiver = Receiver()
    yield receiver
    receiver.close()
