"""The OpenAPI document says what the service does: platforms generate clients from it."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import INSTRUCTOR, PLATFORM, auth

SUBMISSION = {"exercise_id": "conv2d", "source": "def conv(image, kernel): ..."}


def document(make_client) -> dict[str, Any]:
    response = make_client().get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def operations(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{method.upper()} {path}": operation
            for path, methods in doc["paths"].items() for method, operation in methods.items()}


def test_every_error_answer_is_documented_as_problem_json(make_client) -> None:
    documented = 0
    for name, operation in operations(document(make_client)).items():
        for status, answer in operation["responses"].items():
            if int(status) < 400 or name == "GET /readyz":  # readiness answers 503 as itself
                continue
            assert set(answer["content"]) == {"application/problem+json"}, (name, status)
            assert answer["content"]["application/problem+json"]["schema"] == {
                "$ref": "#/components/schemas/Problem"}
            documented += 1
    assert documented >= 20


def test_each_operation_documents_the_errors_it_answers(make_client) -> None:
    documented = {name: set(operation["responses"])
                  for name, operation in operations(document(make_client)).items()}
    assert documented["POST /v1/submissions"] == {
        "200", "202", "400", "401", "404", "408", "413", "415", "422", "429", "503"}
    assert documented["PUT /v1/exercises/{exercise_id}"] == {
        "200", "400", "401", "403", "408", "413", "415", "422", "429"}
    assert documented["GET /v1/submissions"] == {"200", "401", "422"}
    assert documented["GET /v1/submissions/{submission_id}"] == {"200", "401", "404", "422"}
    assert documented["POST /v1/exercises/{exercise_id}/regrade"] == {
        "202", "401", "403", "404", "422", "503"}
    assert documented["GET /healthz"] == {"200"}


def test_documented_headers_of_answers(make_client) -> None:
    submit = operations(document(make_client))["POST /v1/submissions"]["responses"]
    assert set(submit["202"]["headers"]) == {"Location", "Retry-After"}
    assert set(submit["503"]["headers"]) == {"Retry-After"}
    assert set(submit["429"]["headers"]) == {"Retry-After"}
    assert set(submit["401"]["headers"]) == {"WWW-Authenticate"}


def test_the_request_models_constraints_are_in_the_schema(make_client) -> None:
    doc = document(make_client)
    create = doc["components"]["schemas"]["SubmissionCreate"]["properties"]
    assert create["exercise_id"]["maxLength"] == 64
    assert create["metadata"]["anyOf"][0]["maxProperties"] == 64
    assert "nested at most 8 deep" in create["metadata"]["description"]
    assert "at most 65536 bytes as UTF-8 (larger is 413)" in create["source"]["description"]
    assert create["source"]["pattern"] == "^[^\\u0000]*$"
    assert create["learner_id"]["anyOf"][0]["pattern"] == "^[^\\u0000]*$"
    url = create["callback_url"]["anyOf"][0]
    assert (url["maxLength"], url["pattern"]) == (2000, "^[Hh][Tt][Tt][Pp][Ss]?://")
    key = next(p for p in operations(doc)["POST /v1/submissions"]["parameters"]
               if p["name"] == "idempotency-key")
    assert (key["schema"]["anyOf"][0]["minLength"], key["schema"]["anyOf"][0]["maxLength"]) \
        == (1, 256)


def test_a_405_allows_every_method_of_the_path(make_client) -> None:
    client = make_client(platform_tokens=PLATFORM, instructor_tokens=INSTRUCTOR)
    response = client.delete("/v1/submissions", headers=auth(INSTRUCTOR))
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["allow"] == "GET, POST"
    assert client.delete("/v1/exercises/conv2d").headers["allow"] == "GET, PUT"


def test_an_unknown_query_parameter_is_422(make_client) -> None:
    client = make_client(instructor_tokens=INSTRUCTOR)
    response = client.post("/v1/submissions?wiat=false", json=SUBMISSION)
    assert response.status_code == 422
    assert response.json()["detail"] == "query.wiat: Extra inputs are not permitted"
    assert client.get("/v1/submissions?limit=1&page=2",
                      headers=auth(INSTRUCTOR)).status_code == 422
    assert client.get("/v1/submissions?limit=1", headers=auth(INSTRUCTOR)).status_code == 200


def test_an_empty_idempotency_key_is_422(make_client) -> None:
    response = make_client().post("/v1/submissions", json=SUBMISSION,
                                  headers={"Idempotency-Key": ""})
    assert response.status_code == 422


def test_a_number_too_long_to_read_is_422(make_client) -> None:
    body = '{"exercise_id": "conv2d", "source": "x", "metadata": {"n": ' + "1" * 5000 + "}}"
    response = make_client().post("/v1/submissions", content=body,
                                  headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "digits" in response.json()["detail"]


def test_a_submissions_status_is_documented_with_the_stored_words(make_client) -> None:
    from grader.storage.status import SubmissionStatus

    schemas = document(make_client)["components"]["schemas"]
    assert schemas["SubmissionView"]["properties"]["status"] == {
        "$ref": "#/components/schemas/SubmissionStatus"}
    assert schemas["SubmissionStatus"]["enum"] == [status.value for status in SubmissionStatus]
