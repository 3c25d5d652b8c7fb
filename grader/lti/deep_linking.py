"""Deep Linking: an instructor picks an exercise, and the tool answers the platform with a
signed ``LtiDeepLinkingResponse`` holding one ``ltiResourceLink`` and its line item, so that
the platform makes a graded activity launching that exercise."""

from __future__ import annotations

import secrets
import time
from typing import Any

import jwt

from grader.catalog.spec import ExerciseSpec
from grader.lti import claims as c
from grader.lti.keys import ToolKeys
from grader.storage.lti import LtiPlatform

RESPONSE_SECONDS = 300


def score_maximum(spec: ExerciseSpec) -> float:
    """What an exercise's report scores at most: the points of all its cases."""
    return float(sum(case.points for case in spec.cases))


def resource_link(base_url: str, spec: ExerciseSpec) -> dict[str, Any]:
    """The content item of an exercise: a link launching it, with a line item for its
    score."""
    return {
        "type": "ltiResourceLink",
        "title": spec.title,
        "url": f"{base_url}/lti/launch",
        "custom": {"exercise": spec.id},
        "lineItem": {"scoreMaximum": score_maximum(spec), "label": spec.title,
                     "resourceId": spec.id, "tag": "grade"},
    }


def response_jwt(keys: ToolKeys, platform: LtiPlatform, items: list[dict[str, Any]],
                 data: str | None, now: float | None = None) -> str:
    """The signed answer to a deep-linking request (the tool is the issuer, the platform
    the audience), with the request's ``data`` given back as the specification asks."""
    moment = int(now if now is not None else time.time())
    payload: dict[str, Any] = {
        "iss": platform.client_id, "aud": platform.issuer, "iat": moment,
        "exp": moment + RESPONSE_SECONDS, "nonce": secrets.token_urlsafe(16),
        c.MESSAGE_TYPE: c.DEEP_LINKING_RESPONSE, c.VERSION: c.LTI_VERSION,
        c.DEPLOYMENT_ID: platform.deployment_id, c.CONTENT_ITEMS: items,
    }
    if data is not None:
        payload[c.DL_DATA] = data
    kid, pem = keys.signing()
    return jwt.encode(payload, pem, algorithm="RS256", headers={"kid": kid})
