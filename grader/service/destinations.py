"""Where callbacks may go: public addresses, and the networks the operator names.

A callback URL comes from a platform's request, and the grader POSTs to it from inside the
operator's network. Left open, it would reach what only the grader can: the database, a
cloud's metadata service (169.254.169.254), an admin port on loopback. So a callback goes to
an address on the public internet, or to one in ``GRADER_CALLBACK_NETWORKS`` (a platform on
the campus network, a receiver on loopback in tests), and nowhere else.

The check is made on the address actually connected to, as the connection is made
(``GuardedBackend``): the name is resolved once, every address it gives is checked, and the
socket is opened to a checked address. A name that resolves to a public address when the
submission arrives and to a private one when the callback is sent is refused then. A URL
whose host is itself an address (or ``localhost``) is refused already when it is submitted.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import anyio
import httpcore
import httpx

from grader.settings import Settings, parse_networks

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# The names that are loopback by definition (RFC 6761), whatever a resolver says.
_LOOPBACK_NAMES = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))


# IPv6 addresses that carry an IPv4 one a translator or tunnel on the way may deliver to:
# NAT64's well-known prefix (RFC 6052) and the deprecated IPv4-compatible form (::a.b.c.d)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a NAT64, IPv4-compatible or 6to4 address stands for, or None."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address in _NAT64 or address in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


class Destinations:
    """The addresses callbacks may reach: public unicast ones, and ``networks``."""

    def __init__(self, networks: Iterable[Network] = ()) -> None:
        self.networks = tuple(networks)

    @classmethod
    def from_settings(cls, settings: Settings) -> Destinations:
        """Public addresses and the settings' ``GRADER_CALLBACK_NETWORKS``."""
        return cls(parse_networks(settings.callback_networks))

    def allows(self, address: Address) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in network for network in self.networks):
            return True
        embedded = _embedded_ipv4(address)
        if embedded is not None and not self.allows(embedded):
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
            return False  # fec0::/10: deprecated, and routed within a site if at all
        return address.is_global and not address.is_multicast

    def refusal(self, host: str, addresses: Iterable[Address]) -> str | None:
        """Why ``host``, which has ``addresses``, may not be reached; None when it may. Every
        address must be allowed: a name that mixes public and private ones is refused."""
        addresses = list(addresses)
        if not addresses:
            return f"{host} has no address"
        for address in addresses:
            if not self.allows(address):
                shown = host if host == str(address) else f"{host} ({address})"
                return (f"{shown} is not a public address, and not in the networks callbacks "
                        "may reach (GRADER_CALLBACK_NETWORKS)")
        return None

    def literal_refusal(self, host: str) -> str | None:
        """What can be known of a URL's host without a resolver: an address, or
        ``localhost``. None for any other name (it is checked when the callback is sent)."""
        name = host.strip("[]").lower().rstrip(".")
        if name == "localhost" or name.endswith(".localhost"):
            return self.refusal(host, _LOOPBACK_NAMES)
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            return None
        return self.refusal(host, [address])


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, but a TCP connection is opened only to an address that
    ``destinations`` allows; the name is resolved here, once, and the socket is opened to the
    address checked. TLS is then started by httpcore with the URL's own name (SNI and the
    certificate's check are unchanged)."""

    def __init__(self, destinations: Destinations) -> None:
        self.destinations = destinations
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None
                          ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                found = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, TimeoutError) as unresolved:
            raise httpcore.ConnectError(f"{host} could not be resolved: {unresolved}") \
                from None
        addresses: list[Address] = []
        for *_, sockaddr in found:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
        refused = self.destinations.refusal(host, addresses)
        if refused is not None:
            raise httpcore.ConnectError(f"refused: {refused}")
        last = ""
        for address in addresses:
            try:
                return await self.inner.connect_tcp(str(address), port, timeout, local_address,
                                                    socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as failed:
                last = str(failed) or type(failed).__name__
        raise httpcore.ConnectError(last)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None
                                  ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("a callback is never sent over a unix socket")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over ``GuardedBackend``: no proxy, nothing taken from the
    environment, every connection checked."""

    def __init__(self, destinations: Destinations, limits: httpx.Limits) -> None:
        super().__init__(limits=limits, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(destinations))


def loopback() -> Destinations:
    """Public addresses and this machine's loopback: for receivers on this machine (the
    benchmark's, a test's)."""
    return Destinations(parse_networks(["127.0.0.0/8", "::1/128"]))
