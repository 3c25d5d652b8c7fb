"""Where callbacks may go: public addresses and the operator's networks, checked on the address
connected to. Real senders, real loopback receivers, real SQLite (the API's refusal:
``tests/api/test_callback_urls.py``)."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grader.bench.receiver import Receiver
from grader.grading.report import Report
from grader.service.callbacks import CallbackSender
from grader.service.destinations import Destinations, loopback
from grader.settings import Settings, parse_networks
from grader.storage.callbacks import NO_OUTCOME, queue_callback
from grader.storage.store import Store

SECRET = "callback-secret-destinations-0123"
REPORT = Report(exercise_id="conv2d", passed=True, score=4, max_score=4, seed=1,
                duration_ms=1.0, cases=[]).model_dump_json()

REFUSED = ["127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "192.168.1.1",
           "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255",
           "::1", "::", "fc00::1", "fe80::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "ff02::1",
           # an IPv4 address carried in an IPv6 one: NAT64 (a gateway translates it), the
           # IPv4-compatible form, 6to4; and the site-local addresses of old
           "64:ff9b::127.0.0.1", "64:ff9b::169.254.169.254", "64:ff9b::10.0.0.1",
           "::127.0.0.1", "::10.0.0.1", "2002:7f00:1::1", "2002:a9fe:a9fe::", "fec0::1"]
ALLOWED = ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8"]


@pytest.mark.parametrize("address", REFUSED)
def test_a_private_loopback_link_local_or_multicast_address_is_refused(address: str) -> None:
    assert not Destinations().allows(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ALLOWED)
def test_a_public_address_is_allowed(address: str) -> None:
    assert Destinations().allows(ipaddress.ip_address(address))


def test_the_operator_s_networks_are_allowed_and_no_more() -> None:
    campus = Destinations(parse_networks(["10.20.0.0/16", "fd00::1"]))
    assert campus.allows(ipaddress.ip_address("10.20.3.4"))
    assert campus.allows(ipaddress.ip_address("fd00::1"))
    assert not campus.allows(ipaddress.ip_address("10.21.0.1"))
    assert not campus.allows(ipaddress.ip_address("127.0.0.1"))
    assert campus.allows(ipaddress.ip_address("64:ff9b::10.20.3.4"))  # through NAT64
    assert not campus.allows(ipaddress.ip_address("64:ff9b::10.21.0.1"))


def test_a_name_with_one_private_address_among_public_ones_is_refused() -> None:
    addresses = [ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("10.0.0.1")]
    refusal = Destinations().refusal("mixed.example", addresses)
    assert refusal is not None and "10.0.0.1" in refusal
    assert Destinations().refusal("no.example", []) == "no.example has no address"


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "::1", "localhost", "LocalHost.",
                                  "api.localhost", "169.254.169.254", "[::ffff:7f00:1]",
                                  "[64:ff9b::a9fe:a9fe]", "[::7f00:1]"])
def test_an_address_or_localhost_in_the_url_is_known_refused_at_once(host: str) -> None:
    refusal = Destinations().literal_refusal(host)
    assert refusal is not None and "GRADER_CALLBACK_NETWORKS" in refusal


@pytest.mark.parametrize("host", ["example.com", "8.8.8.8", "[2001:4860:4860::8888]"])
def test_a_public_address_or_any_name_waits_for_the_connection(host: str) -> None:
    assert Destinations().literal_refusal(host) is None


def test_networks_are_read_from_the_environment_and_nonsense_is_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_CALLBACK_NETWORKS", "10.0.0.0/8, ::1")
    assert Settings().callback_networks == ["10.0.0.0/8", "::1"]
    monkeypatch.setenv("GRADER_CALLBACK_NETWORKS", "10.0.0.0/8,campus")
    with pytest.raises(ValueError, match="'campus' is not a network"):
        Settings()
    monkeypatch.delenv("GRADER_CALLBACK_NETWORKS")
    assert Settings().callback_networks == []


# -- real deliveries --------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'grader.db'}")
    yield store
    store.close()


def graded(store: Store, url: str) -> str:
    row, _ = store.create(exercise_id="conv2d", source="x", seed=1, scope="s",
                          learner_id="ada", callback_url=url)
    store.save_report(row.id, REPORT, after=lambda c: queue_callback(c, row.id))
    return row.id


def settled(store: Store, submission_id: str, seconds: float = 20) -> list[Any]:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        attempts = store.callbacks(submission_id)
        if attempts and all(a.delivered or a.error not in (None, NO_OUTCOME)
                            for a in attempts):
            return attempts
        time.sleep(0.02)
    raise AssertionError("no attempt was settled")


def deliver(store: Store, url: str, reach: Destinations | None) -> list[Any]:
    sender = CallbackSender(store, SECRET, attempts=1, timeout=5.0, reach=reach)
    sender.start()
    try:
        submission_id = graded(store, url)
        sender.wake()
        return settled(store, submission_id)
    finally:
        sender.close()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"], ids=["address", "name"])
def test_a_callback_to_loopback_is_refused_by_default_and_never_sent(
        store: Store, receiver: Receiver, host: str) -> None:
    url = receiver.url("/private").replace("127.0.0.1", host)
    [attempt] = deliver(store, url, reach=None)
    assert not attempt.delivered
    assert "refused" in attempt.error and "GRADER_CALLBACK_NETWORKS" in attempt.error
    time.sleep(0.2)
    assert receiver.to("/private") == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"], ids=["address", "name"])
def test_a_callback_to_a_network_the_operator_allows_is_delivered(
        store: Store, receiver: Receiver, host: str) -> None:
    url = receiver.url("/allowed").replace("127.0.0.1", host)
    [attempt] = deliver(store, url, reach=loopback())
    assert attempt.delivered, attempt.error
    assert len(receiver.to("/allowed")) == 1
