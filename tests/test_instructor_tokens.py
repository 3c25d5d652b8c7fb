"""Instructor tokens with names (``GRADER_INSTRUCTOR_TOKENS="alice:token,..."``): the name
is kept beside the token, unnamed tokens keep working, and a named token is as long as any."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from grader.api.deps import instructor_of
from grader.settings import Settings

ALICE = "alice-token-0123456789"
PLAIN = "plain-token-0123456789"


def test_named_and_unnamed_tokens_side_by_side() -> None:
    settings = Settings(instructor_tokens=f"alice:{ALICE}, {PLAIN} ,bob.b@x:{PLAIN}x")
    assert [t.get_secret_value() for t in settings.instructor_tokens] == [
        ALICE, PLAIN, PLAIN + "x"]
    assert [settings.instructor_name(i) for i in range(3)] == ["alice", None, "bob.b@x"]
    alice = instructor_of(settings, ALICE)
    assert alice is not None and (alice.role, alice.name) == ("instructor", "alice")
    plain = instructor_of(settings, PLAIN)
    assert plain is not None and plain.name is None
    assert instructor_of(settings, f"alice:{ALICE}") is None  # the name is not the token's


def test_a_colon_after_no_name_belongs_to_the_token() -> None:
    settings = Settings(instructor_tokens="not a name:0123456789abcdef")
    assert settings.instructor_tokens[0].get_secret_value() == "not a name:0123456789abcdef"
    assert settings.instructor_name(0) is None


def test_a_named_token_must_be_long_enough_without_its_name() -> None:
    with pytest.raises(ValidationError, match="at least 16 characters"):
        Settings(instructor_tokens="alice-with-a-long-name:short")
