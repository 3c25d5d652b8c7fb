"""Grade passback (LTI Assignment and Grade Services): a graded launch's score posted to its
line item.

The jobs are rows (``grader.storage.lti``), written when a launched submission is graded, in
either mode; a ``Deliverer`` thread in each server takes the due ones (a lease moves the row's
``next_at`` on, so two servers do not take one job), asks the platform's token URL for an
access token (client credentials, with a client assertion signed by the tool's key, scope
``.../scope/score``), and posts the score. A failed attempt is tried again after 2, 4, 8 ...
seconds (at most ``MAX_DELAY``), ``ATTEMPTS`` attempts in all; an answer that will not change
(4xx but 401, 408 and 429) ends it at once. Each attempt is counted with the job, which the
submission's JSON shows as ``passback: {status, attempts}``.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import jwt

from grader.errors import GraderError
from grader.grading.report import Report
from grader.lti import claims as c
from grader.lti.keys import ToolKeys
from grader.storage.database import log_failure
from grader.storage.lti import LtiPassback, LtiPlatform
from grader.storage.store import Store, Submission

log = logging.getLogger("grader.lti.passback")
ATTEMPTS = 8
FIRST_DELAY = 2.0
MAX_DELAY = 300.0
LEASE = dt.timedelta(seconds=60)  # an attempt's time, at most, before another server may
DEADLINE = 10.0  # seconds for one request to a platform
COMMENT_CHARACTERS = 1000
TRY_AGAIN = (401, 408, 429)  # 4xx answers worth another attempt


class Undelivered(GraderError):  # noqa: N818 - an attempt's outcome, kept in this module
    """An attempt that did not deliver; ``final``: another would not either."""

    def __init__(self, message: str, final: bool = False) -> None:
        super().__init__(message)
        self.final = final


def scores_url(lineitem: str) -> str:
    """The score service of a line item: its URL with ``/scores`` added to the path."""
    parts = urlsplit(lineitem)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


def comment(report: Report) -> str:
    """A short comment for the gradebook: the score, and what the diagnosis says."""
    words = [f"{report.score:g} of {report.max_score:g}."]
    words += [finding.message for finding in report.diagnosis]
    text = " ".join(words)
    return text if len(text) <= COMMENT_CHARACTERS else text[:COMMENT_CHARACTERS - 1] + "…"


def score_body(job: LtiPassback, row: Submission, report: Report) -> dict[str, Any]:
    finished = row.finished_at or dt.datetime.now(dt.UTC)
    return {"userId": job.user_id, "scoreGiven": report.score,
            "scoreMaximum": report.max_score, "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
            "timestamp": finished.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "comment": comment(report)}


def client_assertion(keys: ToolKeys, platform: LtiPlatform) -> str:
    """The JWT that authenticates the tool at the platform's token URL."""
    now = int(time.time())
    kid, pem = keys.signing()
    return jwt.encode({"iss": platform.client_id, "sub": platform.client_id,
                       "aud": platform.auth_token_url, "iat": now, "exp": now + 300,
                       "jti": secrets.token_urlsafe(16)}, pem, algorithm="RS256",
                      headers={"kid": kid})


def _refused(answer: httpx.Response, what: str) -> Undelivered:
    final = 400 <= answer.status_code < 500 and answer.status_code not in TRY_AGAIN
    return Undelivered(f"{what}: HTTP {answer.status_code} {answer.text[:200]}", final)


class Deliverer:
    def __init__(self, store: Store, keys: ToolKeys, poll_seconds: float = 1.0,
                 attempts: int = ATTEMPTS, first_delay: float = FIRST_DELAY) -> None:
        self.store = store
        self.keys = keys
        self.poll_seconds = poll_seconds
        self.attempts = attempts
        self.first_delay = first_delay
        self._tokens: dict[int, tuple[str, float]] = {}  # platform: token, when it expires
        self._client = httpx.Client(timeout=DEADLINE, follow_redirects=False)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lti-passback", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=DEADLINE + 5)
        self._client.close()

    def recover(self) -> int:
        """Write the jobs that a stop between a report and its job left unwritten."""
        rows = self.store.unqueued_passbacks()
        return sum(self.store.queue_passback(row) for row in rows)

    def _run(self) -> None:
        try:
            if self.recover():
                log.info("wrote the grade passbacks left unwritten at the last stop")
        except Exception as error:  # noqa: BLE001 - the database away: they wait for the next start
            log_failure(log, "grade passbacks left unwritten could not be looked for", error)
        while not self._stop.wait(self.poll_seconds):
            try:
                self.run_once()
            except Exception as error:  # noqa: BLE001 - the database away: tried again next poll
                log_failure(log, "grade passbacks could not be read", error)

    def run_once(self) -> int:
        """Deliver the due jobs this server can take; how many were tried."""
        tried = 0
        for job in self.store.due_passbacks(limit=16):
            if self._stop.is_set() or not self.store.claim_passback(job, LEASE):
                continue
            self.attempt(job)
            tried += 1
        return tried

    def attempt(self, job: LtiPassback) -> bool:
        """One attempt at a job, recorded; whether it delivered."""
        error: str | None = None
        final = False
        try:
            self._deliver(job)
        except Undelivered as failure:
            error, final = str(failure), failure.final
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"
        number = job.attempts + 1
        retry_at = None
        if error is not None and not final and number < self.attempts:
            delay = min(self.first_delay * 2 ** (number - 1), MAX_DELAY)
            retry_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)
        if error is not None:
            log.warning("grade passback of %s, attempt %d: %s", job.submission_id, number, error)
        self.store.passback_tried(job.id, error is None, error, retry_at)
        return error is None

    def _deliver(self, job: LtiPassback) -> None:
        platform = self.store.lti_platform(job.platform_id)
        row = self.store.get(job.submission_id)
        if platform is None:
            raise Undelivered("its platform is no longer registered", final=True)
        if row is None or not row.report:
            raise Undelivered("the submission has no report", final=True)
        body = score_body(job, row, Report.model_validate_json(row.report))
        answer = self._client.post(scores_url(job.lineitem), json=body, headers={
            "Authorization": f"Bearer {self._token(platform)}",
            "Content-Type": c.SCORE_TYPE})
        if answer.status_code == 401:
            self._tokens.pop(platform.id, None)
        if not 200 <= answer.status_code < 300:
            raise _refused(answer, "the score service refused the score")

    def _token(self, platform: LtiPlatform) -> str:
        """An access token for the score scope, kept until shortly before it expires."""
        kept = self._tokens.get(platform.id)
        if kept is not None and kept[1] > time.monotonic():
            return kept[0]
        answer = self._client.post(platform.auth_token_url, data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": client_assertion(self.keys, platform),
            "scope": c.SCORE_SCOPE})
        if answer.status_code != 200:
            raise _refused(answer, "the token URL gave no token")
        try:
            given = answer.json()
            token, lifetime = str(given["access_token"]), float(given.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise Undelivered("the token URL's answer has no access_token") from None
        self._tokens[platform.id] = (token, time.monotonic() + max(lifetime - 60, 0))
        return token
