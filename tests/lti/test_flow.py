"""The whole LTI 1.3 flow over real HTTP: a real ``grader serve`` (its real sandbox) and the
test platform of ``tests.lti.platform``, each on a free loopback port."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from tests.conftest import EXERCISES
from tests.lti.conftest import INSTRUCTOR_TOKEN, Browser, form_action, form_fields, wait_for
from tests.lti.platform import INSTRUCTOR, LEARNER, Plan, Platform

pytestmark = pytest.mark.processes

FLIPPED = (EXERCISES / "conv2d" / "samples" / "flipped_kernel.py").read_text()
CORRECT = (EXERCISES / "conv2d" / "samples" / "correct_numpy.py").read_text()


def submit(browser: Browser, platform: Platform, user: str, source: str) -> str:
    """A learner's launch and submission; the submission's id."""
    platform.plan = Plan(user=user, roles=[LEARNER])
    page = browser.launch(browser.authorized_form())
    assert page.status_code == 200, page.text
    assert "<textarea" in page.text and "def conv(image, kernel):" in page.text
    assert "Your code may import numpy" in page.text  # told before it imports SciPy
    assert "/instructor/" not in page.text
    graded = browser.post("/lti/submit", {**form_fields(page.text), "source": source})
    assert graded.status_code == 303, graded.text
    report = graded.headers["location"]
    assert report.startswith("/v1/submissions/")
    assert browser.http.get(browser.tool_url + report).status_code == 200
    return report.split("/")[3]


def claims_of(token: str) -> dict:  # type: ignore[type-arg]
    return jwt.decode(token, options={"verify_signature": False})


def score_of(platform: Platform, user: str) -> dict:  # type: ignore[type-arg]
    found = wait_for(lambda: [s for s in platform.scores if s["userId"] == user])
    assert found, platform.refusals
    return found[-1]


def test_login_redirects_to_the_platform_with_every_oidc_parameter(browser, platform) -> None:
    answer = browser.login()
    assert answer.status_code == 302
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{platform.url}/auth"
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert {k: query[k] for k in ("scope", "response_type", "response_mode", "prompt",
                                  "client_id", "redirect_uri", "login_hint",
                                  "lti_message_hint")} == {
        "scope": "openid", "response_type": "id_token", "response_mode": "form_post",
        "prompt": "none", "client_id": platform.client_id,
        "redirect_uri": f"{browser.tool_url}/lti/launch", "login_hint": "hint-user",
        "lti_message_hint": "message-hint-9"}
    assert len(query["nonce"]) >= 20 and "." in query["state"]
    assert "set-cookie" not in answer.headers


def test_a_flipped_kernel_scores_0_of_4_with_the_diagnosis(browser, platform) -> None:
    submission = submit(browser, platform, "learner-flipped", FLIPPED)
    score = score_of(platform, "learner-flipped")
    assert (score["scoreGiven"], score["scoreMaximum"]) == (0.0, 4.0)
    assert (score["activityProgress"], score["gradingProgress"]) == ("Completed",
                                                                      "FullyGraded")
    assert "you flipped the kernel" in score["comment"]
    assert score["lineitem"] == "/lineitems/conv2d/scores"
    assert platform.assertions and platform.assertions[-1]["iss"] == platform.client_id
    shown = httpx.get(f"{browser.tool_url}/v1/submissions/{submission}",
                      headers={"Authorization": f"Bearer {INSTRUCTOR_TOKEN}"}).json()
    assert shown["passback"] == {"status": "delivered", "attempts": 1, "error": None}


def test_a_correct_solution_scores_4_of_4(browser, platform) -> None:
    submit(browser, platform, "learner-correct", CORRECT)
    score = score_of(platform, "learner-correct")
    assert (score["scoreGiven"], score["scoreMaximum"]) == (4.0, 4.0)
    assert len([s for s in platform.scores if s["userId"] == "learner-correct"]) == 1


def test_a_refused_score_is_tried_again_and_counted(browser, platform) -> None:
    platform.fail_scores = 1
    submission = submit(browser, platform, "learner-retried", CORRECT)
    assert score_of(platform, "learner-retried")["scoreGiven"] == 4.0

    def delivered() -> dict | None:  # type: ignore[type-arg]
        shown = httpx.get(f"{browser.tool_url}/v1/submissions/{submission}",
                          headers={"Authorization": f"Bearer {INSTRUCTOR_TOKEN}"}).json()
        return shown["passback"] if shown["passback"]["status"] == "delivered" else None

    passback = wait_for(delivered)
    assert passback["attempts"] == 2 and passback["error"] is None


def test_a_replayed_id_token_is_refused(browser, platform) -> None:
    platform.plan = Plan(user="learner-replay")
    form = browser.authorized_form()
    assert browser.launch(form).status_code == 200
    again = browser.launch(form)
    assert again.status_code == 400 and "used already" in again.text


def test_a_nonce_used_twice_is_refused(browser, platform) -> None:
    """A second id_token, freshly signed, that carries a used login's nonce and state."""
    platform.plan = Plan(user="learner-nonce")
    form = browser.authorized_form()
    assert browser.launch(form).status_code == 200
    first = claims_of(form["id_token"])
    second = platform.id_token(first["nonce"], f"{browser.tool_url}/lti/launch",
                               iat=first["iat"] + 1, jti="another")
    assert second != form["id_token"]
    refused = browser.launch({"id_token": second, "state": form["state"]})
    assert refused.status_code == 400 and "nonce was used already" in refused.text


@pytest.mark.parametrize(("override", "reason"), [
    ({"aud": "another-tool"}, "audience is not this tool"),
    ({"exp": 1_000_000_000, "iat": 999_999_000}, "expired"),
    ({"iss": "https://elsewhere.example"}, "issuer is not the login"),
    ({"https://purl.imsglobal.org/spec/lti/claim/version": "1.1"}, "version"),
    ({"https://purl.imsglobal.org/spec/lti/claim/deployment_id": "unknown"}, "deployment"),
    ({"https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiSubmissionReview"},
     "takes no"),
    ({"sub": "learner\x00one"}, "NUL character"),
])
def test_a_launch_failing_a_check_is_refused(browser, platform, override, reason) -> None:
    platform.plan = Plan(user="learner-wrong", overrides=override)
    refused = browser.launch(browser.authorized_form())
    assert refused.status_code == 400 and reason in refused.text, refused.text


def test_code_with_a_nul_character_is_refused_and_nothing_is_stored(browser, platform) -> None:
    """As the JSON API refuses it (PostgreSQL's text cannot hold one)."""
    platform.plan = Plan(user="learner-nul", roles=[LEARNER])
    page = browser.launch(browser.authorized_form())
    refused = browser.post("/lti/submit", {**form_fields(page.text),
                                           "source": CORRECT + "\x00"})
    assert refused.status_code == 400 and "NUL character" in refused.text
    listed = httpx.get(f"{browser.tool_url}/v1/submissions",
                       headers={"Authorization": f"Bearer {INSTRUCTOR_TOKEN}"}).json()["items"]
    assert not [s for s in listed if s["learner_id"].endswith(":learner-nul")]


def test_a_token_signed_by_another_key_is_refused(browser, platform) -> None:
    platform.plan = Plan(user="learner-forged")
    form = browser.authorized_form()
    stranger = Platform(client_id=platform.client_id, deployment_id=platform.deployment_id)
    stranger.issuer, stranger.kid = platform.issuer, platform.kid
    forged = stranger.id_token(claims_of(form["id_token"])["nonce"],
                               f"{browser.tool_url}/lti/launch")
    refused = browser.launch({"id_token": forged, "state": form["state"]})
    stranger.server.server_close()
    assert refused.status_code == 400 and "Signature verification failed" in refused.text
    assert browser.launch(form).status_code == 200  # the nonce was not spent by the forgery


def test_deep_linking_returns_the_exercise_as_a_signed_resource_link(browser,
                                                                      platform) -> None:
    platform.plan = Plan(user="teacher-1", roles=[INSTRUCTOR],
                         message_type="LtiDeepLinkingRequest")
    picker = browser.launch(browser.authorized_form())
    assert picker.status_code == 200 and 'value="conv2d"' in picker.text
    fields = form_fields(picker.text)
    back = browser.post("/lti/deep-link", {"ticket": fields["ticket"], "exercise": "conv2d"})
    assert back.status_code == 200
    assert form_action(back.text) == f"{platform.url}/deep-link-return"
    assert '<button type="submit">' in back.text  # posts without JavaScript too
    assert f"form-action {platform.url}" in back.headers["content-security-policy"]
    answer = httpx.post(form_action(back.text), data={"JWT": form_fields(back.text)["JWT"]})
    assert answer.status_code == 200, platform.refusals
    claims = platform.deep_links[-1]
    assert claims["https://purl.imsglobal.org/spec/lti/claim/message_type"] == \
        "LtiDeepLinkingResponse"
    assert claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "opaque-data-42"
    [item] = claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert item["type"] == "ltiResourceLink" and item["custom"] == {"exercise": "conv2d"}
    assert item["lineItem"]["scoreMaximum"] == 4.0
    assert item["url"] == f"{browser.tool_url}/lti/launch"


def test_a_learner_cannot_deep_link(browser, platform) -> None:
    platform.plan = Plan(user="learner-dl", message_type="LtiDeepLinkingRequest")
    refused = browser.launch(browser.authorized_form())
    assert refused.status_code == 400 and "only an instructor" in refused.text


def test_an_instructor_launch_reaches_the_instructor_view(browser, platform) -> None:
    platform.plan = Plan(user="teacher-2", roles=[INSTRUCTOR])
    page = browser.launch(browser.authorized_form())
    assert page.status_code == 200
    assert 'href="/instructor/exercises/conv2d"' in page.text
    assert "<textarea" not in page.text


def test_the_tools_keys_are_published_and_rotation_keeps_the_old_one(browser,
                                                                       tool_server) -> None:
    from tests.lti.conftest import grader_cli

    before = httpx.get(f"{browser.tool_url}/lti/jwks").json()["keys"]
    rotated = grader_cli(tool_server.data_dir, "lti", "rotate-key")
    assert rotated.returncode == 0, rotated.stderr
    after = httpx.get(f"{browser.tool_url}/lti/jwks").json()["keys"]
    assert {k["kid"] for k in before} < {k["kid"] for k in after}
    assert all(k["kty"] == "RSA" and k["alg"] == "RS256" and "d" not in k for k in after)
