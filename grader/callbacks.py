"""Callbacks: the report POSTed to the platform's URL, signed, retried with backoff.

The signature is ``X-Grader-Signature: sha256=<hex>``, the HMAC-SHA256 of the exact body under
``GRADER_CALLBACK_SECRET``; the receiver recomputes it over the bytes it got. Every attempt is
recorded with the submission.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from grader.store import Store

log = logging.getLogger("grader.callbacks")
SIGNATURE_HEADER = "X-Grader-Signature"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class CallbackSender:
    def __init__(self, store: Store, secret: str | None, attempts: int,
                 first_delay: float = 0.5, timeout: float = 5.0) -> None:
        self.store = store
        self.secret = secret
        self.attempts = attempts
        self.first_delay = first_delay
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="callback")
        self._closed = threading.Event()

    def schedule(self, submission_id: str, url: str, body: bytes) -> None:
        self._pool.submit(self._deliver, submission_id, url, body)

    def _deliver(self, submission_id: str, url: str, body: bytes) -> None:
        headers = {"Content-Type": "application/json", "X-Grader-Submission": submission_id}
        if self.secret is not None:
            headers[SIGNATURE_HEADER] = sign(self.secret, body)
        delay = self.first_delay
        with httpx.Client(timeout=self.timeout, follow_redirects=False) as client:
            for attempt in range(1, self.attempts + 1):
                status: int | None = None
                error: str | None = None
                try:
                    status = client.post(url, content=body, headers=headers).status_code
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"[:500]
                delivered = status is not None and 200 <= status < 300
                if status is not None and not delivered:
                    error = f"HTTP {status}"
                self.store.record_callback(submission_id, attempt, status, error, delivered)
                if delivered:
                    return
                log.warning("callback for %s failed (attempt %d/%d): %s",
                            submission_id, attempt, self.attempts, error)
                if attempt < self.attempts:
                    if self._closed.wait(delay):
                        return  # shutting down: the attempts so far are recorded
                    delay *= 2

    def close(self) -> None:
        self._closed.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
