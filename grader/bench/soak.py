"""``grader soak``: the distributed mode on a bad day, as an operator would try it.

On a PostgreSQL server of its own (a scratch cluster on a free port, so that it can be
restarted without touching anyone else's), two API replicas and two workers take, at once:
six learners resubmitting synchronously as fast as they are answered; a burst of asynchronous
submissions with callbacks to one host, while another URL of that host hangs; and a
PostgreSQL restart in the middle. Then an endless loop is submitted synchronously.

It prints figures and the checks that must hold, and exits non-zero when one does not: no
worker exits; no 5xx but 503 with Retry-After; every submission graded once and right; every
callback verified as a Standard Webhook and carrying its submission's id, the last within 30 s
of the last report; the endless loop answered within ``submission_seconds`` + 5 s.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from grader.bench.http import base_env, start, stop
from grader.bench.measure import free_port
from grader.catalog.exercises import Catalog
from grader.settings import PROJECT_ROOT

SAMPLES = PROJECT_ROOT / "exercises" / "conv2d" / "samples"
ENDLESS = "def conv(image, kernel):\n    while True:\n        pass\n"


class Cluster:
    """A PostgreSQL server in a scratch folder, on a free port, run as ``postgres`` when this
    is root: started, restarted and removed at will."""

    def __init__(self, folder: Path) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not found:
            raise RuntimeError("grader soak needs PostgreSQL's server programs (initdb)")
        self.bin, self.folder, self.port = found[-1].parent, folder, free_port()
        self.data = folder / "data"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        subprocess.run([*as_postgres, *command], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        if os.getuid() == 0:
            shutil.chown(self.folder, "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "--no-sync")
        self._ctl("start")

    def _ctl(self, action: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(self.bin / "pg_ctl"), action, "-w", "-m", "fast", "-D", str(self.data),
                  "-o", options, "-l", str(self.folder / "log"))

    def restart(self) -> None:
        self._ctl("restart")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(str(self.bin / "pg_ctl"), "stop", "-m", "immediate", "-D",
                      str(self.data))


@dataclass
class Received:
    at: float
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """The platform's one host: ``/ok`` records each callback, ``/hang`` never answers."""

    calls: list[Received] = field(default_factory=list)
    closing: threading.Event = field(default_factory=threading.Event)

    def serve(self) -> http.server.ThreadingHTTPServer:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path == "/hang":
                    receiver.closing.wait(300)
                    return
                receiver.calls.append(Received(time.time(), dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    without_retry_after: int = 0
    wrong: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, response: httpx.Response) -> None:
        with self.lock:
            self.statuses[response.status_code] += 1
            if response.status_code == 503 and "retry-after" not in response.headers:
                self.without_retry_after += 1


def submit(client: httpx.Client, tally: Tally, body: dict[str, Any], wait: bool
           ) -> dict[str, Any] | None:
    """One submission, resent with the same idempotency key while the answer is 503 (or the
    connection fails); its resource, or None when it was refused otherwise."""
    key = uuid.uuid4().hex
    for _ in range(600):
        try:
            response = client.post("/v1/submissions", json=body, params={"wait": wait},
                                   headers={"Idempotency-Key": key})
        except httpx.HTTPError:
            time.sleep(0.5)
            continue
        tally.answer(response)
        if response.status_code == 503:
            time.sleep(min(float(response.headers.get("retry-after", "1")), 2.0))
            continue
        return dict(response.json()) if response.status_code in (200, 202) else None
    return None


def learner(url: str, index: int, sources: dict[str, str], tally: Tally, stop: threading.Event,
            ids: dict[str, str]) -> None:
    """Resubmits as fast as it is answered, alternating right and wrong."""
    with httpx.Client(base_url=url, timeout=120) as client:
        turn = 0
        while not stop.is_set():
            kind = "correct" if turn % 2 == 0 else "flipped"
            body = {"exercise_id": "conv2d", "learner_id": f"learner-{index}",
                    "source": sources[kind]}
            found = submit(client, tally, body, wait=True)
            if found is not None:
                ids[found["id"]] = kind
            turn += 1


@dataclass
class Run:
    """What one soak run saw."""

    tally: Tally = field(default_factory=Tally)
    synchronous: dict[str, str] = field(default_factory=dict)  # id -> "correct" | "flipped"
    burst: dict[str, str] = field(default_factory=dict)
    last_report: float = 0.0
    endless_seconds: float = 0.0
    endless_statuses: list[str] = field(default_factory=list)
    seeds: dict[str, int] = field(default_factory=dict)  # id -> its report's seed
    misgraded: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)

    def check(self, holds: bool, what: str) -> None:
        self.figures.append(f"  [{'ok' if holds else 'FAILED'}] {what}")
        if not holds:
            self.failures.append(what)


def burst(urls: list[str], run: Run, sources: dict[str, str], receiver: str, count: int,
          hanging: int, cluster: Cluster) -> None:
    """``count`` asynchronous submissions with callbacks to ``receiver``/ok and ``hanging``
    more to ``receiver``/hang, from eight clients; PostgreSQL restarts half-way."""
    jobs = [(i, "/hang" if i < hanging else "/ok") for i in range(count + hanging)]
    lock = threading.Lock()

    def client(index: int) -> None:
        with httpx.Client(base_url=urls[index % len(urls)], timeout=60) as http_client:
            while True:
                with lock:
                    if not jobs:
                        return
                    number, path = jobs.pop()
                kind = "correct" if number % 2 else "flipped"
                body = {"exercise_id": "conv2d", "learner_id": f"async-{number}",
                        "source": sources[kind], "callback_url": f"{receiver}{path}"}
                found = submit(http_client, run.tally, body, wait=False)
                if found is not None and path == "/ok":
                    run.burst[found["id"]] = kind

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    while len(jobs) > (count + hanging) // 2:
        time.sleep(0.05)
    cluster.restart()
    run.figures.append(f"  PostgreSQL restarted with {len(jobs)} of the burst still to send")
    for thread in threads:
        thread.join()


def wait_graded(url: str, run: Run, ids: dict[str, str], max_score: float) -> float:
    """Every submission of ``ids`` graded, and right; the time of the last report."""
    last = 0.0
    with httpx.Client(base_url=url, timeout=30) as client:
        for submission_id, kind in ids.items():
            found = poll(client, submission_id)
            report = found.get("report") or {}
            expected = max_score if kind == "correct" else 0.0
            if found.get("status") != "done" or report.get("score") != expected:
                run.misgraded.append(f"{submission_id} ({kind}): {found.get('status')}, "
                                     f"score {report.get('score')} (expected {expected})")
                continue
            run.seeds[submission_id] = report["seed"]
            finished = found["finished_at"].replace("Z", "+00:00")
            last = max(last, _epoch(finished))
    return last


def poll(client: httpx.Client, submission_id: str) -> dict[str, Any]:
    end = time.monotonic() + 600
    found: dict[str, Any] = {}
    while time.monotonic() < end:
        with contextlib.suppress(httpx.HTTPError, ValueError):
            found = dict(client.get(f"/v1/submissions/{submission_id}").json())
            if found.get("status") in ("done", "failed"):
                return found
        time.sleep(0.2)
    return found


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()


def check_callbacks(run: Run, calls: list[Received], secret: str) -> None:
    try:
        from standardwebhooks import Webhook
    except ImportError:
        run.check(False, "callbacks verified (the standardwebhooks package is not installed)")
        return
    verifier, unverified, regraded = Webhook(secret), 0, 0
    ids: dict[Any, set[str | None]] = {}
    for call in calls:
        headers = {key.lower(): value for key, value in call.headers.items()}
        try:
            body = verifier.verify(call.body, headers)
        except Exception:  # noqa: BLE001 - any refusal of the verifier counts
            unverified += 1
            continue
        ids.setdefault(body.get("id"), set()).add(headers.get("webhook-id"))
        seed = (body.get("report") or {}).get("seed")
        regraded += body.get("id") in run.seeds and seed != run.seeds[body.get("id")]
    missing = set(run.burst) - set(ids)
    run.check(unverified == 0, f"{len(calls)} callbacks received, {unverified} not verified")
    run.check(not missing, f"every burst submission's callback arrived ({len(missing)} missing)")
    run.check(all(len(found) == 1 for found in ids.values()) and not regraded,
              f"one webhook-id per submission across deliveries, and its report the stored "
              f"one ({regraded} callbacks carried another grading)")
    last = max((call.at for call in calls), default=0.0)
    lag = last - run.last_report
    run.check(lag <= 30, f"the last callback {lag:.1f} s after the last report (at most 30 s)")


def endless(url: str, run: Run, limit: float) -> None:
    with httpx.Client(base_url=url, timeout=120) as client:
        began = time.monotonic()
        found = submit(client, run.tally, {"exercise_id": "conv2d", "source": ENDLESS}, True)
        run.endless_seconds = time.monotonic() - began
        if found is not None and found.get("status") not in ("done", "failed"):
            found = poll(client, found["id"])  # answered 202: not within its limit
    report = (found or {}).get("report") or {}
    run.endless_statuses = [case["status"] for case in report.get("cases", [])]
    run.check(run.endless_seconds <= limit + 5 and bool(run.endless_statuses),
              f"an endless loop answered in {run.endless_seconds:.1f} s (limit {limit:g} s "
              f"+ 5 s), cases {run.endless_statuses}")


@contextlib.contextmanager
def cluster_of_processes(folder: Path, env: dict[str, str]
                         ) -> Iterator[tuple[list[str], list[subprocess.Popen[bytes]]]]:
    """Migrated, two workers and two API replicas: their URLs, and the workers."""
    migrated = start(["migrate"], env, None)
    if migrated.wait(timeout=120) != 0:
        raise RuntimeError("grader migrate failed")
    workers, apis, urls = [], [], []
    try:
        for _ in range(2):
            health = free_port()
            workers.append(start(["worker", "--concurrency", "2", "--health-port", str(health)],
                                 env, f"http://127.0.0.1:{health}/healthz"))
        for _ in range(2):
            port = free_port()
            urls.append(f"http://127.0.0.1:{port}")
            apis.append(start(["serve", "--port", str(port)], env, f"{urls[-1]}/readyz"))
        yield urls, workers + apis
    finally:
        for process in apis + workers:
            stop(process)


def run_soak(count: int = 300, hanging: int = 10, learners: int = 6) -> tuple[str, bool]:
    """The soak, start to end: its figures and checks, and whether every check held."""
    sources = {"correct": (SAMPLES / "correct_loops.py").read_text(),
               "flipped": (SAMPLES / "flipped_kernel.py").read_text()}
    spec = Catalog(PROJECT_ROOT / "exercises").get("conv2d").spec
    max_score = sum(case.points for case in spec.cases)
    run, receiver = Run(), Receiver()
    secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    with tempfile.TemporaryDirectory(prefix="grader-soak-") as scratch:
        folder = Path(scratch)
        folder.chmod(0o755)
        (folder / "pg").mkdir()
        (folder / "data").mkdir()
        cluster = Cluster(folder / "pg")
        cluster.start()
        server = receiver.serve()
        env = {**base_env(str(folder / "data")), "GRADER_QUEUE": "procrastinate",
               "GRADER_DATABASE_URL": cluster.url, "GRADER_CALLBACK_SECRET": secret,
               "GRADER_CALLBACK_NETWORKS": "127.0.0.0/8",
               "GRADER_HIDDEN_SECRET": uuid.uuid4().hex * 2, "GRADER_LEARNER_LIMIT": "1000"}
        try:
            with cluster_of_processes(folder, env) as (urls, processes):
                _load(run, urls, sources, f"http://127.0.0.1:{server.server_port}", count,
                      hanging, learners, cluster, max_score)
                endless(urls[0], run, spec.limits.submission_seconds)
                _settle(run, receiver, secret, processes)
        finally:
            receiver.closing.set()
            server.shutdown()
            cluster.stop()
    return "\n".join(["grader soak: 2 API replicas, 2 workers, a PostgreSQL restart",
                      *run.figures, *[f"  - {failure}" for failure in run.failures[:20]]]), \
        not run.failures


def _load(run: Run, urls: list[str], sources: dict[str, str], receiver: str, count: int,
          hanging: int, learners: int, cluster: Cluster, max_score: float) -> None:
    stopping = threading.Event()
    threads = [threading.Thread(target=learner, args=(urls[i % len(urls)], i, sources,
                                                      run.tally, stopping, run.synchronous))
               for i in range(learners)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    burst(urls, run, sources, receiver, count, hanging, cluster)
    sent = time.monotonic() - began
    run.last_report = wait_graded(urls[1], run, run.burst, max_score)
    stopping.set()
    for thread in threads:
        thread.join()
    run.figures.append(f"  burst of {count} (+{hanging} to a hanging URL) sent in {sent:.1f} s, "
                       f"graded {time.monotonic() - began:.1f} s after the first; "
                       f"{len(run.synchronous)} synchronous resubmissions of {learners} "
                       "learners meanwhile")
    wait_graded(urls[0], run, run.synchronous, max_score)


def _settle(run: Run, receiver: Receiver, secret: str,
            processes: list[subprocess.Popen[bytes]]) -> None:
    end = time.monotonic() + 120
    while time.monotonic() < end and len({c.body for c in receiver.calls}) < len(run.burst):
        time.sleep(0.5)
    check_callbacks(run, list(receiver.calls), secret)
    statuses = run.tally.statuses
    run.check(all(process.poll() is None for process in processes),
              "no worker or API process exited")
    run.check(not [code for code in statuses if code >= 500 and code != 503]
              and run.tally.without_retry_after == 0,
              f"answers by status {dict(sorted(statuses.items()))}: no 5xx but 503, each "
              "with Retry-After")
    run.check(not run.misgraded, f"every submission graded and right "
              f"({len(run.burst) + len(run.synchronous)} checked, {len(run.misgraded)} not)")
    run.failures += run.misgraded

