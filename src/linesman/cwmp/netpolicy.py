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

URLs are split with the standard library, not httpx: every connection request and webhook
passes here, and the processes that serve a plain-HTTP fleet then never load httpx (about
10 MB each; see `connreq_tls`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

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


@dataclass(frozen=True)
class _Url:
    """A connection request URL split into what the policy and the request need."""

    scheme: str
    host: str  # ASCII: a name in IDNA form, or an address literal (IPv6 without brackets)
    port: int | None  # None: the scheme's default
    target: str  # path and query, percent-encoded, as sent in the request line

    @property
    def effective_port(self) -> int:
        return self.port or (443 if self.scheme == "https" else 80)

    def netloc(self, host: str) -> str:
        shown = f"[{host}]" if ":" in host else host
        return shown if self.port is None else f"{shown}:{self.port}"


#: A host name's characters once in IDNA form (underscores occur in real device names).
_HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")
#: What stays as it is in a path and query (RFC 3986 pchar, "/" and "?", and "%" so that
#: escapes the device sent are not escaped twice); the rest, spaces and control characters
#: with it, is percent-encoded, so nothing the device wrote can break the request line.
_SAFE = "!$&'()*+,;=:@/?%-._~"


def _split(url: str) -> _Url:
    """The URL without its user info; NotAllowed("bad_url") if it is not a usable one."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = parts.hostname or ""
        port = parts.port  # ValueError when out of range or not ASCII digits
        if _literal(host) is None:
            host = host.encode("idna").decode("ascii")
    except (UnicodeError, ValueError):
        raise NotAllowed("bad_url", "the connection request URL cannot be parsed") from None
    if scheme not in ("http", "https"):
        raise NotAllowed("bad_url", "the connection request URL is not http or https")
    if not host:
        raise NotAllowed("bad_url", "the connection request URL has no host")
    if _literal(host) is None and not _HOST_NAME.fullmatch(host):
        raise NotAllowed("bad_url", "the connection request URL's host is not a host name")
    if port == 0:
        raise NotAllowed("bad_url", "the connection request URL's port is 0")
    default = 443 if scheme == "https" else 80
    target = quote(parts.path or "/", safe=_SAFE)
    if parts.query:
        target += "?" + quote(parts.query, safe=_SAFE)
    # User info is dropped: a client would send it as Basic credentials, in clear.
    return _Url(scheme, host, None if port == default else port, target)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _target(parsed: _Url, addresses: list[IPAddress]) -> Target:
    if not addresses:
        raise NotAllowed("host_not_found", "the host name does not resolve")
    for address in addresses:
        if not address_allowed(address):
            raise NotAllowed(
                "address_not_allowed",
                f"{address} is not an address connection requests may be sent to",
            )
    literal = _literal(parsed.host) is not None
    chosen = str(addresses[0])
    return Target(
        url=f"{parsed.scheme}://{parsed.netloc(chosen)}{parsed.target}",
        host_header=parsed.netloc(parsed.host),
        sni_hostname=None if literal or parsed.scheme != "https" else parsed.host,
    )


def _addresses(infos: list) -> list[IPAddress]:
    seen: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        # Scope ids (fe80::1%eth0) are dropped: link-local is refused anyway.
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in seen:
            seen.append(address)
    return seen


def check(url: str) -> Target:
    """Resolve and check a connection request URL; NotAllowed when the policy refuses it."""
    parsed = _split(url)
    literal = _literal(parsed.host)
    if literal is not None:
        return _target(parsed, [literal])
    try:
        infos = socket.getaddrinfo(parsed.host, parsed.effective_port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        infos = []
    return _target(parsed, _addresses(infos))


async def check_async(url: str, timeout: float) -> Target:
    """`check` for an event loop: the name is resolved without blocking it."""
    parsed = _split(url)
    literal = _literal(parsed.host)
    if literal is not None:
        return _target(parsed, [literal])
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(parsed.host, parsed.effective_port, type=socket.SOCK_STREAM),
            timeout,
        )
    except (TimeoutError, OSError, UnicodeError):
        infos = []
    return _target(parsed, _addresses(infos))
