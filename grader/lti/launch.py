"""The OIDC third-party initiated login, and the checks of the id_token a launch brings.

Login: the platform names itself (``iss``), the user (``login_hint``) and where to go
(``target_link_uri``); the tool answers with a redirect to the platform's auth URL, carrying a
fresh ``nonce`` (stored, to be used once) and a ``state`` that the tool signed and that binds
the nonce, the issuer and the client id. No cookie is set: a browser would not send one back
to a tool inside an LMS's iframe.

Launch: the platform posts ``id_token`` and ``state`` back. Checked in order: the state is
this tool's and fresh; the token's issuer and audience are the state's; a registered platform
has that issuer, client id and deployment id; the signature (RS256 only) verifies against the
platform's JWKS; ``exp``, ``iat`` and ``nonce`` are there, the nonce is the state's and is
used now, for the first time; the version is 1.3.0 and the message type one this tool takes.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt

from grader.lti import claims as c
from grader.lti.claims import LaunchRefused, teaches
from grader.lti.signed import Signer
from grader.storage.lti import LtiPlatform
from grader.storage.store import Store

STATE_SECONDS = 600  # from the login to the launch
NONCE_AGE = dt.timedelta(seconds=STATE_SECONDS)
LEEWAY = 30  # seconds of clock difference allowed with a platform
JWKS_SECONDS = 300  # a platform's keys are fetched again after this
MESSAGE_TYPES = (c.RESOURCE_LINK_REQUEST, c.DEEP_LINKING_REQUEST)


@dataclass(frozen=True)
class Launch:
    """A launch that passed every check: who, from where, to do what."""

    platform: LtiPlatform
    message_type: str
    user: str
    instructor: bool
    exercise_id: str | None  # the resource link's (custom ``exercise``), if any
    lineitem: str | None  # where its score goes (AGS), if the platform gave one
    claims: dict[str, Any]

    @property
    def deep_linking(self) -> dict[str, Any]:
        settings = self.claims.get(c.DEEP_LINKING_SETTINGS)
        return settings if isinstance(settings, dict) else {}


def auth_url(platform: LtiPlatform, query: dict[str, str]) -> str:
    joiner = "&" if urlsplit(platform.auth_login_url).query else "?"
    return platform.auth_login_url + joiner + urlencode(query)


def _one(values: Mapping[str, str], name: str, required: bool = True) -> str | None:
    value = values.get(name)
    if value is None or value == "":
        if required:
            raise LaunchRefused(f"the login has no {name}")
        return None
    if len(value) > 4096:
        raise LaunchRefused(f"the login's {name} is too long")
    return value


class Launches:
    def __init__(self, store: Store, signer: Signer) -> None:
        self.store = store
        self.signer = signer
        self._jwks: dict[str, jwt.PyJWKClient] = {}
        self._lock = threading.Lock()

    # -- login -------------------------------------------------------------------------------

    def login(self, params: Mapping[str, str], redirect_uri: str) -> str:
        """The URL of the platform's auth endpoint to redirect the browser to."""
        issuer = _one(params, "iss")
        login_hint = _one(params, "login_hint")
        _one(params, "target_link_uri")
        assert issuer is not None and login_hint is not None
        found = self.store.find_platforms(issuer, _one(params, "client_id", False),
                                          _one(params, "lti_deployment_id", False))
        if not found:
            raise LaunchRefused(f"no platform {issuer!r} is registered with this tool "
                                "(grader lti add-platform)")
        platform = found[0]
        nonce = secrets.token_urlsafe(24)
        self.store.issue_nonce(nonce)
        state = self.signer.sign("state", {"n": nonce, "iss": issuer,
                                           "cid": platform.client_id}, STATE_SECONDS)
        query = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post",
                 "prompt": "none", "client_id": platform.client_id,
                 "redirect_uri": redirect_uri, "login_hint": login_hint, "state": state,
                 "nonce": nonce}
        message_hint = _one(params, "lti_message_hint", False)
        if message_hint is not None:
            query["lti_message_hint"] = message_hint
        return auth_url(platform, query)

    # -- launch ------------------------------------------------------------------------------

    def launch(self, id_token: str | None, state: str | None) -> Launch:
        if not id_token or not state:
            raise LaunchRefused("the launch has no id_token or no state")
        bound = self.signer.open("state", state)
        try:
            unverified = jwt.decode(id_token, options={"verify_signature": False})
        except jwt.PyJWTError as error:
            raise LaunchRefused(f"the id_token is malformed: {error}") from None
        platform = self._platform(unverified, bound)
        verified = self._verify(id_token, platform)
        if verified.get("nonce") != bound["n"]:
            raise LaunchRefused("the id_token's nonce is not the one of this login")
        if not self.store.use_nonce(str(bound["n"]), NONCE_AGE):
            raise LaunchRefused("this login's nonce was used already: launch again")
        return self._launch(platform, verified)

    def _platform(self, unverified: dict[str, Any], bound: dict[str, Any]) -> LtiPlatform:
        """The registered platform the token names, if it is the one the state was made for."""
        audience = unverified.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if unverified.get("iss") != bound["iss"]:
            raise LaunchRefused("the id_token's issuer is not the login's")
        if bound["cid"] not in audiences:
            raise LaunchRefused("the id_token's audience is not this tool's client id")
        deployment = unverified.get(c.DEPLOYMENT_ID)
        if not isinstance(deployment, str):
            raise LaunchRefused("the id_token has no deployment id")
        found = self.store.find_platforms(bound["iss"], bound["cid"], deployment)
        if not found:
            raise LaunchRefused(f"the deployment {deployment!r} is not registered for this "
                                "platform")
        return found[0]

    def _verify(self, id_token: str, platform: LtiPlatform) -> dict[str, Any]:
        try:
            key = self._keys(platform.jwks_url).get_signing_key_from_jwt(id_token)
            verified: dict[str, Any] = jwt.decode(
                id_token, key.key, algorithms=["RS256"], audience=platform.client_id,
                issuer=platform.issuer, leeway=LEEWAY,
                options={"require": ["exp", "iat", "nonce", "iss", "aud"]})
        except jwt.PyJWKClientError as error:
            raise LaunchRefused(f"the platform's keys cannot be had: {error}") from None
        except jwt.PyJWTError as error:
            raise LaunchRefused(f"the id_token is refused: {error}") from None
        audience = verified["aud"]
        if isinstance(audience, list) and len(audience) > 1 \
                and verified.get("azp") != platform.client_id:
            raise LaunchRefused("the id_token has several audiences and its azp is not "
                                "this tool")
        return verified

    def _keys(self, jwks_url: str) -> jwt.PyJWKClient:
        with self._lock:
            client = self._jwks.get(jwks_url)
            if client is None:
                client = self._jwks[jwks_url] = jwt.PyJWKClient(
                    jwks_url, cache_keys=True, lifespan=JWKS_SECONDS, timeout=10)
            return client

    def _launch(self, platform: LtiPlatform, verified: dict[str, Any]) -> Launch:
        if verified.get(c.VERSION) != c.LTI_VERSION:
            raise LaunchRefused(f"the launch's LTI version is not {c.LTI_VERSION}")
        message_type = verified.get(c.MESSAGE_TYPE)
        if message_type not in MESSAGE_TYPES:
            raise LaunchRefused(f"this tool takes no {message_type!r} message")
        user = verified.get("sub")
        if not isinstance(user, str) or not user or "\x00" in user:
            raise LaunchRefused("the launch names no user (sub), or one with a NUL character")
        if message_type == c.RESOURCE_LINK_REQUEST:
            link = verified.get(c.RESOURCE_LINK)
            if not isinstance(link, dict) or not link.get("id"):
                raise LaunchRefused("the launch has no resource link id")
        elif not isinstance(verified.get(c.DEEP_LINKING_SETTINGS, {}).get(
                "deep_link_return_url"), str):
            raise LaunchRefused("the deep-linking request has no deep_link_return_url")
        endpoint = verified.get(c.AGS_ENDPOINT)
        lineitem = endpoint.get("lineitem") if isinstance(endpoint, dict) else None
        return Launch(platform, str(message_type), user[:200], teaches(verified.get(c.ROLES)),
                      _exercise(verified), lineitem if isinstance(lineitem, str) else None,
                      verified)


def _exercise(verified: dict[str, Any]) -> str | None:
    """The exercise a resource link is for: its custom ``exercise`` parameter, or the
    ``exercise`` query parameter of its target link URI."""
    custom = verified.get(c.CUSTOM)
    if isinstance(custom, dict) and isinstance(custom.get("exercise"), str):
        return str(custom["exercise"])[:64]
    target = verified.get(c.TARGET_LINK_URI)
    if isinstance(target, str):
        found = parse_qs(urlsplit(target).query).get("exercise")
        if found:
            return found[0][:64]
    return None
