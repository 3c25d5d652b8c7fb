"""A callback URL whose host is a private address, or localhost, is refused when it is
submitted, with the reason; one in the operator's networks is taken."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

SECRET = "callback-secret-destinations-0123"

CORRECT = "import numpy as np\n\ndef conv(image, kernel):\n    return np.zeros((1, 1))\n"


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/hook", "http://[::1]:9/hook",
                                 "http://localhost/hook", "https://169.254.169.254/latest"])
def test_the_api_refuses_a_callback_to_a_private_address_with_the_reason(
        make_client: Callable[..., TestClient], url: str) -> None:
    client = make_client(callback_secret=SECRET, callback_networks=[])
    response = client.post("/v1/submissions", json={
        "exercise_id": "conv2d", "source": CORRECT, "callback_url": url})
    assert response.status_code == 422, response.text
    assert "GRADER_CALLBACK_NETWORKS" in response.json()["detail"]


def test_the_api_takes_a_callback_to_a_network_the_operator_allows(
        make_client: Callable[..., TestClient]) -> None:
    client = make_client(callback_secret=SECRET, callback_networks=["127.0.0.0/8"])
    response = client.post("/v1/submissions", json={
        "exercise_id": "conv2d", "source": CORRECT, "callback_url": "http://127.0.0.1:9/hook"})
    assert response.status_code == 200, response.text
