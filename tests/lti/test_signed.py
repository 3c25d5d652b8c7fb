"""What stands in for cookies: values signed by the server, for one use, until they expire;
and who counts as teaching."""

from __future__ import annotations

import pytest

from grader.lti.claims import LaunchRefused, teaches
from grader.lti.signed import Signer

SIGNER = Signer(b"hidden-inputs-secret-for-tests-0123")


def test_a_signed_value_opens_with_its_values() -> None:
    token = SIGNER.sign("state", {"n": "abc"}, 60, now=1000)
    assert SIGNER.open("state", token, now=1059) == {"n": "abc", "exp": 1060}


@pytest.mark.parametrize(("kind", "now", "reason"), [
    ("ticket", 1000, "not one this tool signed"),  # signed for another use
    ("state", 1060, "expired"),
])
def test_a_value_for_another_use_or_expired_is_refused(kind: str, now: int,
                                                       reason: str) -> None:
    token = SIGNER.sign("state", {"n": "abc"}, 60, now=1000)
    with pytest.raises(LaunchRefused, match=reason):
        SIGNER.open(kind, token, now=now)


def test_a_changed_value_or_another_servers_is_refused() -> None:
    token = SIGNER.sign("ticket", {"u": "ada"}, 60)
    body, mac = token.split(".")
    forged = SIGNER.sign("ticket", {"u": "grace"}, 60).split(".")[0] + "." + mac
    with pytest.raises(LaunchRefused):
        SIGNER.open("ticket", forged)
    with pytest.raises(LaunchRefused):
        Signer(b"another-secret-of-another-server-1").open("ticket", token)
    with pytest.raises(LaunchRefused):
        SIGNER.open("ticket", body)


@pytest.mark.parametrize(("roles", "teaching"), [
    (["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"], True),
    (["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"], True),
    (["Instructor"], True),
    (["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"], False),
    (["http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"],
     False),
    (["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner#Instructor-ish"], False),
    ("http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor", False),  # not a list
    ([], False),
])
def test_who_teaches(roles: object, teaching: bool) -> None:
    assert teaches(roles) is teaching
