"""Standard Webhooks signing (https://www.standardwebhooks.com/) of callbacks.

Every callback carries ``webhook-id`` (one per submission and grading round, the same on
every retry: a receiver drops what it has seen), ``webhook-timestamp`` (unix seconds, when
the attempt was signed: a receiver refuses old ones, so a captured callback cannot be
replayed later) and ``webhook-signature``: ``v1,`` and the base64 HMAC-SHA256, under the key,
of ``"<id>.<timestamp>.<body>"``.

The key is ``GRADER_CALLBACK_SECRET``: a ``whsec_<base64>`` secret is its decoded bytes; any
other secret is its UTF-8 bytes. ``X-Grader-Signature`` (``sha256=<hex>`` HMAC of the body
alone, under the same key) is still sent for receivers that check it, for one release.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time

PREFIX = "whsec_"
LEGACY_HEADER = "X-Grader-Signature"


def signing_key(secret: str) -> bytes:
    """The HMAC key a secret stands for; ValueError for a ``whsec_`` one that is not
    base64."""
    if not secret.startswith(PREFIX):
        return secret.encode()
    try:
        return base64.b64decode(secret[len(PREFIX):], validate=True)
    except binascii.Error as error:
        raise ValueError(f"a {PREFIX} secret must be base64 after its prefix") from error


def signature(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.digest(key, signed, hashlib.sha256)).decode()


def legacy_signature(key: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def signed_headers(key: bytes, webhook_id: str, submission_id: str, body: bytes,
                   timestamp: int | None = None) -> dict[str, str]:
    """The headers of one attempt, signed now (or at ``timestamp``).
    ``X-Grader-Submission`` is an unsigned convenience: trust the body's ``id``."""
    stamp = int(time.time()) if timestamp is None else timestamp
    return {"Content-Type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": signature(key, webhook_id, stamp, body),
            LEGACY_HEADER: legacy_signature(key, body),
            "X-Grader-Submission": submission_id}
