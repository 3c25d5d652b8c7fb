"""Signed links to report pages: valid for their submission, until they expire."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from grader.pages.links import ReportLinks

SECRET = b"hidden-inputs-secret-for-tests-0123"


def parts(url: str) -> tuple[int, str]:
    query = parse_qs(urlsplit(url).query)
    return int(query["expires"][0]), query["signature"][0]


def test_a_link_is_valid_for_its_submission_until_it_expires() -> None:
    links = ReportLinks(SECRET, lifetime_seconds=600)
    expires, signature = parts(links.url("abc", now=1000.0))
    assert expires == 1600
    assert links.valid("abc", expires, signature, now=1599.0)
    assert not links.valid("abc", expires, signature, now=1600.0)
    assert not links.valid("abd", expires, signature, now=1000.0)
    assert not links.valid("abc", expires + 1, signature, now=1000.0)


def test_the_key_is_not_the_hidden_input_secret_itself() -> None:
    links = ReportLinks(SECRET, lifetime_seconds=600)
    other = ReportLinks(SECRET + b"x", lifetime_seconds=600)
    assert links.signature("abc", 5) != other.signature("abc", 5)
    assert SECRET.hex() not in links.url("abc")


def test_a_signature_that_is_not_ascii_is_refused_not_an_error() -> None:
    links = ReportLinks(SECRET, lifetime_seconds=600)
    assert not links.valid("abc", 10**12, "é" * 64)
