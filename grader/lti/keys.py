"""The tool's own RSA keys: one signs (client assertions, deep-linking answers), all recent
ones are published at ``/lti/jwks`` so that platforms can check what was signed.

The first key is made when one is first needed; ``grader lti rotate-key`` makes a new one and
retires the old, which stays published for ``KEEP_RETIRED`` (platforms cache a tool's JWKS,
and an answer signed just before the rotation must still be checked). The private keys live in
the database, which is the grader's own (mode 0600 for SQLite).
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from grader.storage.lti import LtiKey
from grader.storage.store import Store
from grader.storage.tables import utc_now

KEEP_RETIRED = dt.timedelta(days=7)
KEY_BITS = 2048


def new_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def public_jwk(key: LtiKey) -> dict[str, Any]:
    private = serialization.load_pem_private_key(key.private_pem.encode(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    return {**jwk, "kid": key.kid, "alg": "RS256", "use": "sig"}


class ToolKeys:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()

    def signing(self) -> tuple[str, str]:
        """The key that signs now: its kid and private PEM (made if there is none)."""
        with self._lock:
            current = [k for k in self.store.lti_keys() if k.retired_at is None]
            if not current:
                self.rotate()
                current = [k for k in self.store.lti_keys() if k.retired_at is None]
        return current[0].kid, current[0].private_pem

    def rotate(self) -> str:
        """A new signing key; the old one is retired (still published a while). Its kid."""
        kid = secrets.token_hex(8)
        self.store.add_lti_key(kid, new_private_pem(), retire_others=True)
        return kid

    def jwks(self, now: dt.datetime | None = None) -> dict[str, list[dict[str, Any]]]:
        """The public keys of the signing key and of the keys retired lately."""
        moment = now or utc_now()
        kept = [k for k in self.store.lti_keys()
                if k.retired_at is None or moment - k.retired_at < KEEP_RETIRED]
        return {"keys": [public_jwk(k) for k in kept]}
