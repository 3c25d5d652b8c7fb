"""Signed links to a submission's report page, which a platform can put in an iframe.

A link names the submission and when it expires, and carries HMAC-SHA256 of both under a key
derived from the server's hidden-input secret with a label of its own (so the key signs
nothing else, and graders that share the secret accept each other's links). No token is
needed to open it; it opens one page, until it expires.
"""

from __future__ import annotations

import hashlib
import hmac
import time

LABEL = b"grader report links v1"


class ReportLinks:
    def __init__(self, hidden_secret: bytes, lifetime_seconds: int) -> None:
        self._key = hmac.digest(hidden_secret, LABEL, hashlib.sha256)
        self.lifetime = lifetime_seconds

    def signature(self, submission_id: str, expires: int) -> str:
        message = f"{submission_id}\x00{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def url(self, submission_id: str, now: float | None = None) -> str:
        """The page's path with ``expires`` and ``signature``, relative to the server's root
        (as the ``Location`` of a submission is)."""
        expires = int(now if now is not None else time.time()) + self.lifetime
        return (f"/v1/submissions/{submission_id}/report?expires={expires}"
                f"&signature={self.signature(submission_id, expires)}")

    def valid(self, submission_id: str, expires: int, signature: str,
              now: float | None = None) -> bool:
        """The signature is this server's for this submission and expiry, and it is not past."""
        right = hmac.compare_digest(self.signature(submission_id, expires).encode(),
                                    signature.encode("ascii", "replace"))
        return right and expires > (now if now is not None else time.time())
