"""The README's receiver example, run as written against real callbacks: it accepts them,
under a whsec_ secret and a plain one, and refuses one altered on the way."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from standardwebhooks import WebhookVerificationError

from grader.bench.receiver import Receiver
from grader.service.callbacks import CallbackSender
from grader.service.destinations import loopback
from grader.storage.store import Store
from tests.test_callbacks import PLAIN, WHSEC, graded, wait_for

README = Path(__file__).resolve().parent.parent / "README.md"


def receiver_example() -> dict:
    """The README's Python block under "### Callbacks", executed: its names."""
    section = README.read_text().split("### Callbacks", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, "no receiver example under ### Callbacks"
    names: dict = {}
    exec(compile(code.group(1), "README.md", "exec"), names)  # noqa: S102 - our own README
    return names


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'grader.db'}")
    yield store
    store.close()


@pytest.mark.parametrize("secret", [WHSEC, PLAIN], ids=["whsec", "plain"])
def test_the_readme_receiver_accepts_a_real_callback_and_refuses_an_altered_one(
        store: Store, secret: str) -> None:
    receiver = Receiver()
    sender = CallbackSender(store, secret, attempts=1, reach=loopback())
    sender.start()
    try:
        submission_id = graded(store, receiver.url("/ok"))
        sender.wake()
        assert wait_for(lambda: receiver.to("/ok"), 20)
    finally:
        sender.close()
        receiver.close()
    delivery = receiver.to("/ok")[0]
    verified_submission = receiver_example()["verified_submission"]
    submission = verified_submission(delivery.body, delivery.headers, secret)
    assert (submission["id"], submission["status"]) == (submission_id, "done")
    altered = delivery.body.replace(b'"score":3.0', b'"score":4.0')
    assert altered != delivery.body
    with pytest.raises(WebhookVerificationError):
        verified_submission(altered, delivery.headers, secret)
    late = {**delivery.headers, "webhook-timestamp": str(int(time.time()) + 3600)}
    with pytest.raises(WebhookVerificationError):
        verified_submission(delivery.body, late, secret)
