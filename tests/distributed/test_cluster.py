"""The distributed mode, proven with real processes on real PostgreSQL: API replicas that
store and defer, workers that grade, and what happens when any of them dies."""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from standardwebhooks import Webhook

from tests.distributed.conftest import (
    CORRECT,
    FLIPPED,
    OTHER,
    SLOW,
    I,
    P,
    submit,
    wait_done,
)

pytestmark = pytest.mark.processes


def graded_lines(logs: str) -> Counter[str]:
    """How many times each submission's report was written, from the workers' logs."""
    return Counter(re.findall(r"grader\.service\.attempt: graded ([0-9a-f]{32}) ", logs))


def test_serve_and_worker_refuse_an_old_schema_until_migrated(make_cluster) -> None:
    cluster = make_cluster()
    for command in (("serve", "--port", "1"), ("worker",)):
        refused = cluster.command(*command)
        assert refused.returncode == 3, refused.stderr
        assert "grader migrate" in refused.stderr
    first, again = cluster.migrate(), cluster.migrate()
    assert first.returncode == again.returncode == 0, first.stderr + again.stderr
    tables = {r[0] for r in cluster.database.sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"submissions", "exercise_versions", "procrastinate_jobs"} <= tables


def test_two_apis_and_three_workers_grade_500_submissions_exactly_once(make_cluster) -> None:
    cluster = make_cluster()
    assert cluster.migrate().returncode == 0
    apis = [cluster.api(), cluster.api()]
    for _ in range(3):
        cluster.worker()
    rng = random.Random(5)
    plan = [(rng.random() < 0.5, rng.random() < 0.2) for _ in range(500)]  # (sync, flipped)

    def one(i: int) -> tuple[int, str, bool, int]:
        """As a platform does: a 503 (this machine's PostgreSQL out of connections, when
        another suite shares it) is sent again after its Retry-After."""
        sync, flipped = plan[i]
        for _ in range(20):
            response = submit(apis[i % 2], FLIPPED if flipped else CORRECT, wait=sync,
                              learner_id=f"learner-{i % 40}", key=f"cluster-{i}")
            if response.status_code != 503:
                break
            refusals.append((response.headers.get("Retry-After"), response.text[:300]))
            time.sleep(int(response.headers["Retry-After"]))
        return response.status_code, response.json().get("id", ""), flipped, i

    refusals: list[tuple[str | None, str]] = []
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(one, range(500)))
    statuses = Counter(status for status, *_ in answers)
    assert set(statuses) <= {200, 202}, (statuses, refusals[:3], cluster.explain())
    assert all(after and after.isdigit() for after, _ in refusals), refusals
    assert statuses[200] >= 200  # the synchronous ones were answered graded
    ids = [submission_id for _, submission_id, _, _ in answers]
    done = wait_done(apis[0], ids)
    for _, submission_id, flipped, _ in answers:
        report = done[submission_id]["report"]
        assert report["passed"] is not flipped, submission_id
    rows = cluster.database.sql("SELECT attempts, count(*) FROM submissions GROUP BY attempts")
    assert rows == [(1, 500)]  # one attempt each: none graded twice
    writes = graded_lines(cluster.worker_logs())
    assert len(writes) == 500 and set(writes.values()) == {1}
    took_work = [w for w in cluster.workers if "graded" in w.read_log(tail=None)]
    assert len(took_work) == 3
    # each worker kept its visible cases' arrays with the report: an API's page draws them
    assert cluster.database.sql("SELECT count(*) FROM submissions WHERE drawings IS NULL") \
        == [(0,)]
    flipped_one = next(sid for _, sid, flipped, _ in answers if flipped)
    page = httpx.get(apis[1].url + done[flipped_one]["report_url"], timeout=30)
    assert page.status_code == 200 and page.text.count('<svg class="heatmap"') == 10


def test_a_killed_worker_s_job_is_recovered_and_graded_once(make_cluster) -> None:
    cluster = make_cluster()
    assert cluster.migrate().returncode == 0
    api = cluster.api()
    doomed = cluster.worker()
    response = submit(api, SLOW, wait=False)
    assert response.status_code == 202
    submission_id = response.json()["id"]
    end = time.monotonic() + 30
    while cluster.database.sql("SELECT status FROM submissions WHERE id = %s",
                               submission_id) != [("running",)]:
        assert time.monotonic() < end, "the worker never started it"
        time.sleep(0.05)
    time.sleep(0.5)  # well into it
    doomed.kill()
    assert cluster.database.sql("SELECT status FROM procrastinate_jobs "
                                "WHERE task_name = 'grader.grade'") == [("doing",)]
    cluster.worker()
    try:
        done = wait_done(api, [submission_id], seconds=90)
    except AssertionError as error:
        raise AssertionError(f"{error}\n{cluster.explain()}") from None
    assert done[submission_id]["report"]["passed"] is True
    assert cluster.database.sql("SELECT attempts FROM submissions") == [(2,)]
    assert graded_lines(cluster.worker_logs()) == {submission_id: 1}
    assert "was on a worker silent" in cluster.worker_logs()
    counters = dict(cluster.database.sql("SELECT name, value FROM counters"))
    assert counters.get("stalled_recovered") == 1
    assert httpx.get(f"{api.url}/metrics").status_code == 401  # platform tokens are set
    metrics = httpx.get(f"{api.url}/metrics", headers=I).text
    assert "grader_queue_stalled_recovered_total 1.0" in metrics


def test_a_killed_api_replica_loses_nothing_it_accepted(make_cluster) -> None:
    cluster = make_cluster()
    assert cluster.migrate().returncode == 0
    doomed, survivor = cluster.api(), cluster.api()
    cluster.worker(concurrency=2)
    accepted: list[str] = []
    survivor_answers: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()

    def load(api, answers: list[int] | None) -> None:
        with httpx.Client(base_url=api.url, headers=P, timeout=30) as client:
            while not stop.is_set():
                try:
                    response = client.post("/v1/submissions", params={"wait": "false"},
                                           json={"exercise_id": "conv2d", "source": CORRECT})
                except httpx.HTTPError:
                    if answers is not None:
                        raise
                    continue  # the killed replica: no answer, nothing accepted
                with lock:
                    if answers is not None:
                        answers.append(response.status_code)
                    if response.status_code == 202:
                        accepted.append(response.json()["id"])

    threads = [threading.Thread(target=load, args=(doomed, None)) for _ in range(2)]
    threads += [threading.Thread(target=load, args=(survivor, survivor_answers))
                for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    doomed.kill()
    time.sleep(2)
    stop.set()
    for thread in threads:
        thread.join()
    assert survivor_answers and set(survivor_answers) == {202}
    stored = {r[0] for r in cluster.database.sql("SELECT id FROM submissions")}
    assert set(accepted) <= stored
    done = wait_done(survivor, sorted(stored))
    assert all(body["status"] == "done" for body in done.values())
    # a stored row always has its job: every one of them was graded
    assert cluster.database.sql("SELECT count(*) FROM submissions WHERE status <> 'done'") == \
        [(0,)]


def test_jobs_flow_after_the_database_drops_every_connection(make_cluster) -> None:
    cluster = make_cluster()
    assert cluster.migrate().returncode == 0
    api = cluster.api()
    cluster.worker()
    cluster.worker()
    assert submit(api).json()["status"] == "done"
    terminated = cluster.database.sql(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    assert terminated[0][0] >= 4  # the listening connections of both workers and the API
    started = time.monotonic()
    answers = [submit(api) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert all(a.json()["status"] == "done" for a in answers)
    assert time.monotonic() - started < 30
    listening = cluster.database.sql(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND query LIKE 'LISTEN%%'")
    assert listening[0][0] >= 1


def test_stop_everything_and_start_again_grades_every_accepted_one(make_cluster) -> None:
    cluster = make_cluster()
    assert cluster.migrate().returncode == 0
    api = cluster.api()
    ids = [submit(api, wait=False, learner_id=f"l{i}").json()["id"] for i in range(30)]
    api.stop()  # no worker ran: all 30 wait in the queue
    assert cluster.database.sql("SELECT count(*) FROM procrastinate_jobs "
                                "WHERE status = 'todo'") == [(30,)]
    api = cluster.api()
    cluster.worker(concurrency=2)
    done = wait_done(api, ids)
    assert all(body["report"]["passed"] for body in done.values())


def test_one_idempotency_key_over_two_replicas_is_one_submission(make_cluster) -> None:
    cluster = make_cluster()
    assert cluster.migrate().returncode == 0
    apis = [cluster.api(), cluster.api()]
    cluster.worker()
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(
            lambda i: submit(apis[i % 2], wait=i % 3 == 0, key="the-same-key"), range(20)))
    assert {a.status_code for a in answers} <= {200, 202}
    assert len({a.json()["id"] for a in answers}) == 1
    assert cluster.database.sql("SELECT count(*), max(attempts) FROM submissions") == [(1, 1)]
    wait_done(apis[0], [answers[0].json()["id"]])
    assert len(graded_lines(cluster.worker_logs())) == 1


def test_caps_backpressure_versions_and_regrades(make_cluster) -> None:
    cluster = make_cluster(GRADER_LEARNER_LIMIT="2", GRADER_BACKLOG="6",
                           GRADER_TOKEN_LIMIT="5")
    assert cluster.migrate().returncode == 0
    one, other = cluster.api(), cluster.api()
    # no worker yet: everything waits
    assert [submit(one, wait=False, learner_id="ada").status_code for _ in range(3)] == \
        [202, 202, 429]
    refused = submit(other, wait=False, learner_id="ada")
    assert refused.status_code == 429 and "learner" in refused.json()["detail"]
    assert refused.headers["retry-after"]
    codes = [submit(other, wait=False, learner_id=f"b{i}").status_code for i in range(4)]
    assert codes == [202, 202, 202, 429]  # five for this token
    assert submit(one, wait=False, token=OTHER).status_code == 202  # another token's turn
    busy = submit(other, wait=False, token=OTHER)  # six in all: the backlog is full
    assert busy.status_code == 503 and int(busy.headers["retry-after"]) >= 1
    cluster.worker(concurrency=2)
    ids = [r[0] for r in cluster.database.sql("SELECT id FROM submissions")]
    wait_done(one, ids)

    # a bundle pushed to one replica (its reference run in that replica's sandbox) is what
    # the other takes in at once, and a worker grades with
    put = httpx.put(f"{one.url}/v1/exercises/conv2d", headers=I, timeout=120,
                    json=_conv2d_bundle(title="Convolution, second edition"))
    assert put.status_code == 200, put.text
    graded = submit(other, learner_id="carl")
    assert graded.status_code == 200 and graded.json()["status"] == "done"
    assert graded.json()["report"]["passed"]
    assert cluster.database.sql("SELECT exercise_version FROM submissions WHERE id = %s",
                                graded.json()["id"]) == [(1,)]
    flipped = submit(other, learner_id="dora", source=FLIPPED)
    assert [f["code"] for f in flipped.json()["report"]["diagnosis"]] == ["flipped_kernel"]
    assert httpx.get(f"{other.url}/v1/exercises/conv2d", headers=P).json()["title"] == \
        "Convolution, second edition"
    versions = httpx.get(f"{other.url}/v1/exercises/conv2d/versions", headers=I).json()
    assert [v["version"] for v in versions["items"]] == [1]

    # a regrade is jobs, spread over the workers, with the newest version
    cluster.worker()
    regrade = httpx.post(f"{other.url}/v1/exercises/conv2d/regrade", headers=I)
    assert regrade.status_code == 202 and regrade.json()["queued"] == 8
    end = time.monotonic() + 60
    while cluster.database.sql("SELECT count(*) FROM submissions WHERE round = 1 AND "
                               "status = 'done' AND exercise_version = 1") != [(8,)]:
        assert time.monotonic() < end, cluster.database.sql(
            "SELECT status, round, exercise_version FROM submissions")
        time.sleep(0.2)


def _conv2d_bundle(title: str) -> dict:
    from grader.catalog.bundle import BundleFiles
    from tests.conftest import EXERCISES

    files = BundleFiles.read(EXERCISES / "conv2d").files()
    files["exercise.toml"] = re.sub(r'(?m)^title = ".*"$', f'title = "{title}"',
                                    files["exercise.toml"], count=1)
    return {"files": files}


def test_callbacks_are_jobs_that_survive_a_worker_restart(make_cluster) -> None:
    from tests.test_server import Receiver

    secret = "callback-secret-cluster-0123456789"
    cluster = make_cluster(GRADER_CALLBACK_SECRET=secret)
    assert cluster.migrate().returncode == 0
    api = cluster.api()
    receiver = Receiver()  # fails the first delivery with 500
    try:
        worker = cluster.worker()
        submission = submit(api, callback_url=receiver.url).json()
        assert submission["status"] == "done", cluster.explain()
        worker.stop()  # the retry, due a second later, is a job: the next worker sends it
        cluster.worker()
        end = time.monotonic() + 30
        while len(receiver.received) < 2 and time.monotonic() < end:
            time.sleep(0.05)
    finally:
        receiver.close()
    assert len(receiver.received) == 2
    (first, _), (headers, body) = receiver.received
    assert Webhook(secret.encode()).verify(body, headers)["id"] == submission["id"]
    assert headers["webhook-id"] == first["webhook-id"]
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Grader-Signature"] == expected
    assert headers["X-Grader-Submission"] == submission["id"]
    view = httpx.get(f"{api.url}/v1/submissions/{submission['id']}", headers=P).json()
    assert [(a["attempt"], a["status_code"], a["delivered"])
            for a in view["callback_attempts"]] == [(1, 500, False), (2, 204, True)], view


def test_an_unfinished_submission_without_a_job_is_queued_again(make_cluster) -> None:
    """As a row left queued by embedded mode, or one whose job's retries ran out, would be."""
    cluster = make_cluster()
    assert cluster.migrate().returncode == 0
    api = cluster.api()
    submission_id = submit(api, wait=False).json()["id"]
    cluster.database.sql("DELETE FROM procrastinate_jobs")  # its job is gone
    cluster.database.sql("UPDATE submissions SET created_at = now() - interval '1 minute'")
    cluster.worker()
    done = wait_done(api, [submission_id], seconds=60)
    assert done[submission_id]["report"]["passed"] is True
    assert "had no job: queued again" in cluster.worker_logs()
    assert dict(cluster.database.sql("SELECT name, value FROM counters")).get(
        "orphans_requeued") == 1
