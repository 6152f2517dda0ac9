"""Which addresses the ACS may send a connection request to (server-side request forgery).

A device reports its ConnectionRequestURL itself, so without a policy anyone with device
credentials could make the server fetch http://169.254.169.254/ (cloud metadata) or probe
127.0.0.1:6379. Every target is therefore checked before a request is made:

- the scheme is http or https, and the URL has a host;
- a host name is resolved, and *every* address it resolves to must pass; the request then
  goes to the checked address (with the name kept for the Host header and TLS), so a DNS
  answer that changes between check and connect (rebinding) cannot swap the target;
- an address passes when it lies in ``LINESMAN_CONNREQ_ALLOWED_NETWORKS`` and is in none of
  the ranges that are never allowed (link-local with the metadata addresses, multicast,
  unspecified, broadcast). Loopback passes only with ``LINESMAN_CONNREQ_ALLOW_LOOPBACK``,
  whatever the networks say: the simulator and the tests run on 127.0.0.1.

IPv4 addresses embedded in IPv6 (``::ffff:a.b.c.d``, NAT64 ``64:ff9b::a.b.c.d``) are judged
as the IPv4 address they reach.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

import httpx
from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Never a connection request target, whatever the configuration says.
NEVER: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "169.254.0.0/16",  # link-local, with the cloud metadata address 169.254.169.254
        "fe80::/10",  # link-local
        "fd00:ec2::254/128",  # AWS metadata over IPv6
        "224.0.0.0/4",  # multicast
        "ff00::/8",  # multicast
        "0.0.0.0/8",  # "this network": connecting to 0.0.0.0 reaches the local host
        "::/128",  # unspecified
        "255.255.255.255/32",  # broadcast
    )
)
LOOPBACK: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("::1/128"),
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class NotAllowed(Exception):
    """A target the policy refuses; ``cause`` is the classified reason for API users."""

    def __init__(self, cause: str, message: str) -> None:
        super().__init__(message)
        self.cause = cause


@dataclass(frozen=True)
class Target:
    """A checked connection request target: where to connect, and what to call it there."""

    url: str  # the URL to request, its host replaced by the checked address
    host_header: str  # the device URL's host[:port], for the Host header
    sni_hostname: str | None  # the name to verify the TLS certificate against (https names)

    def request_options(self) -> dict:
        """Keyword arguments for httpx's request methods."""
        options: dict = {"headers": {"Host": self.host_header}}
        if self.sni_hostname:
            options["extensions"] = {"sni_hostname": self.sni_hostname}
        return options


def _embedded_ipv4(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def address_allowed(
    address: IPAddress,
    *,
    networks: tuple[IPNetwork, ...] | None = None,
    allow_loopback: bool | None = None,
) -> bool:
    """Whether a connection request may go to this address (defaults from the settings)."""
    if networks is None:
        networks = settings.LINESMAN_CONNREQ_ALLOWED_NETWORKS
    if allow_loopback is None:
        allow_loopback = settings.LINESMAN_CONNREQ_ALLOW_LOOPBACK
    candidates = {address, _embedded_ipv4(address)}
    for candidate in candidates:
        if any(candidate.version == n.version and candidate in n for n in NEVER):
            return False
    for candidate in candidates:
        if any(candidate.version == n.version and candidate in n for n in LOOPBACK):
            return bool(allow_loopback)
    return any(address.version == n.version and address in n for n in networks)


def _split(url: str) -> tuple[httpx.URL, str]:
    """The parsed URL (without user info) and its ASCII host; NotAllowed("bad_url")."""
    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeError, ValueError):
        raise NotAllowed("bad_url", "the connection request URL cannot be parsed") from None
    if parsed.scheme not in ("http", "https"):
        raise NotAllowed("bad_url", "the connection request URL is not http or https")
    if not host:
        raise NotAllowed("bad_url", "the connection request URL has no host")
    # User info in the URL would make httpx send it as Basic credentials, in clear.
    return parsed.copy_with(username=None, password=None), host


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _target(parsed: httpx.URL, host: str, addresses: list[IPAddress]) -> Target:
    if not addresses:
        raise NotAllowed("host_not_found", "the host name does not resolve")
    for address in addresses:
        if not address_allowed(address):
            raise NotAllowed(
                "address_not_allowed",
                f"{address} is not an address connection requests may be sent to",
            )
    literal = _literal(host) is not None
    chosen = addresses[0]
    return Target(
        url=str(parsed.copy_with(host=str(chosen))),
        host_header=parsed.netloc.decode("ascii"),
        sni_hostname=None if literal or parsed.scheme != "https" else host,
    )


def _addresses(infos: list) -> list[IPAddress]:
    seen: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        # Scope ids (fe80::1%eth0) are dropped: link-local is refused anyway.
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in seen:
            seen.append(address)
    return seen


def _port(parsed: httpx.URL) -> int:
    return parsed.port or (443 if parsed.scheme == "https" else 80)


def check(url: str) -> Target:
    """Resolve and check a connection request URL; NotAllowed when the policy refuses it."""
    parsed, host = _split(url)
    literal = _literal(host)
    if literal is not None:
        return _target(parsed, host, [literal])
    try:
        infos = socket.getaddrinfo(host, _port(parsed), type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        infos = []
    return _target(parsed, host, _addresses(infos))


async def check_async(url: str, timeout: float) -> Target:
    """`check` for an event loop: the name is resolved without blocking it."""
    parsed, host = _split(url)
    literal = _literal(host)
    if literal is not None:
        return _target(parsed, host, [literal])
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, _port(parsed), type=socket.SOCK_STREAM), timeout
        )
    except (TimeoutError, OSError, UnicodeError):
        infos = []
    return _target(parsed, host, _addresses(infos))
