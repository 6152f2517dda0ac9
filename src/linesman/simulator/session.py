"""One CWMP session of one simulated device, over HTTP to the ACS.

Inform -> InformResponse; a TransferComplete per finished download; then an empty POST and,
for as long as the ACS answers with requests, POSTs of the device's responses, until the ACS
answers 204 or an empty body. Cookies set by the ACS are echoed back for the rest of the
session only; authentication answers the ACS's Digest or Basic challenge; a redirect moves
the rest of the session to its Location (TR-069 3.4.5). HTTP is the lean client of
`httpwire.client`, on keep-alive connections shared by the sessions of a shard.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin

from linesman.cwmp import soap
from linesman.httpwire.client import (
    AnswerTooLarge,
    ClientResponse,
    ConnectionPool,
    HttpClientError,
    HttpTimeout,
    parse_url,
)
from linesman.httpwire.digest import ClientAuth, basic_header
from linesman.simulator.device import SimulatedDevice

AUTH_MODES = ("auto", "basic_preemptive", "none")
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
_XML = 'text/xml; charset="utf-8"'


class SessionError(Exception):
    """A session that did not complete; ``kind`` is one of connect, timeout, http, auth,
    protocol, fault, internal (a simulator bug), or crash, dropped or hung (the device's
    quirks: it broke the session on purpose). ``retry_after`` is the server's Retry-After
    in seconds, if any."""

    def __init__(self, kind: str, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class SessionOptions:
    auth_mode: str = "auto"  # "auto" (answer challenges), "basic_preemptive" or "none"
    timeout: float = 30.0  # per HTTP exchange
    max_rpcs: int = 1000  # guard against an ACS that never ends the session
    cwmp_version: str = "1.0"  # of the Inform; responses use the version the ACS used
    max_body: int = 4 * 1024 * 1024


class SessionCookies:
    """The cookies of one session: whatever the ACS sets, sent back until the session ends.

    Deliberately simple, like CPE firmware: one server, so domain and path are ignored.
    """

    __slots__ = ("_cookies",)

    def __init__(self) -> None:
        self._cookies: dict[str, str] = {}

    def update(self, set_cookie: Iterable[str]) -> None:
        """Take the Set-Cookie header values of one answer."""
        for header in set_cookie:
            pair, *attributes = header.split(";")
            name, sep, value = pair.partition("=")
            name = name.strip()
            if not sep or not name:
                continue
            expired = any(_expires_now(a) for a in attributes)
            if expired:
                self._cookies.pop(name, None)
            else:
                self._cookies[name] = value.strip()

    def header(self) -> str | None:
        if not self._cookies:
            return None
        return "; ".join(f"{k}={v}" for k, v in self._cookies.items())


def _expires_now(attribute: str) -> bool:
    key, _, value = attribute.strip().partition("=")
    key = key.strip().lower()
    if key == "max-age":
        return value.strip().lstrip("-").isdigit() and int(value) <= 0
    if key == "expires":
        try:
            when = email.utils.parsedate_to_datetime(value.strip())
        except (TypeError, ValueError):
            return False
        return when.timestamp() <= time.time()
    return False


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds from now (delta-seconds or an HTTP date), None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class CwmpSession:
    """Runs one session; create a new instance per session."""

    def __init__(
        self,
        pool: ConnectionPool,
        device: SimulatedDevice,
        options: SessionOptions,
        retry_count: int = 0,
    ) -> None:
        self.pool = pool
        self.device = device
        self.options = options
        self.retry_count = retry_count
        self.url = device.acs_url()
        self.cookies = SessionCookies()
        self.rpcs = 0
        username, password = device.credentials()
        self._basic: str | None = None
        self._auth: ClientAuth | None = None
        if options.auth_mode == "basic_preemptive":
            self._basic = basic_header(username, password)
        elif options.auth_mode == "auto" and (username or password):
            self._auth = ClientAuth(username, password)

    async def _post(self, body: bytes, *, soap_action: bool = False) -> ClientResponse:
        """POST ``body`` to the ACS: a challenge is answered once and a redirect followed
        (up to MAX_REDIRECTS) before the answer counts; SessionError unless 200 or 204."""
        try:
            target = parse_url(self.url)
        except ValueError as exc:
            raise SessionError("connect", f"InvalidURL: {exc}") from None
        challenged = False
        redirects = 0
        while True:
            headers: list[tuple[str, str]] = []
            if body:
                headers.append(("Content-Type", _XML))
                if soap_action:
                    headers.append(("SOAPAction", ""))
            authorization = self._basic
            if self._auth is not None:
                authorization = self._auth.authorization("POST", target.path)
            if authorization is not None:
                headers.append(("Authorization", authorization))
            cookie = self.cookies.header()
            if cookie is not None:
                headers.append(("Cookie", cookie))
            try:
                response = await self.pool.request(
                    "POST",
                    target,
                    headers,
                    body,
                    timeout=self.options.timeout,
                    max_body=self.options.max_body,
                )
            except HttpTimeout as exc:
                raise SessionError("timeout", f"{exc} talking to the ACS") from None
            except AnswerTooLarge as exc:  # what the SOAP parser would have refused
                raise SessionError("protocol", f"unparseable ACS message: {exc}") from None
            except HttpClientError as exc:
                raise SessionError("connect", str(exc)) from None
            # The ACS may open its session (cookie) in a 401 or a redirect as well.
            self.cookies.update(response.header_list("set-cookie"))
            status = response.status
            if (
                status == 401
                and not challenged
                and self._auth is not None
                and self._auth.take_challenge(response.header_list("www-authenticate"))
            ):
                challenged = True
                continue
            location = response.header("location")
            if status in REDIRECTS and location and redirects < MAX_REDIRECTS:
                redirects += 1
                self.url = urljoin(self.url, location)
                try:
                    target = parse_url(self.url)
                except ValueError as exc:
                    raise SessionError("connect", f"InvalidURL: {exc}") from None
                continue
            break
        if status == 401:
            raise SessionError("auth", "ACS refused the device's credentials (401)")
        if status not in (200, 204):
            retry = retry_after_seconds(response.header("retry-after"))
            raise SessionError("http", f"ACS answered HTTP {status}", retry_after=retry)
        return response

    def _parse(self, response: ClientResponse) -> soap.Envelope | None:
        if response.status == 204:
            return None
        try:
            return soap.parse(response.body, max_bytes=self.options.max_body)
        except soap.UnknownMethodError:
            raise
        except soap.SoapParseError as exc:
            raise SessionError("protocol", f"unparseable ACS message: {exc}") from None

    async def _request(self, message: soap.Message, ns: str) -> tuple[soap.Message, soap.Envelope]:
        """POST a CPE request; return the ACS's answer (which must be a message, not a
        fault) and the envelope it came in."""
        env = soap.Envelope(message, cwmp_id=self.device.next_cwmp_id(), cwmp_ns=ns)
        try:
            answer = self._parse(await self._post(soap.serialize(env), soap_action=True))
        except soap.UnknownMethodError as exc:
            raise SessionError(
                "protocol", f"ACS answered {message.METHOD} with {exc.method}"
            ) from None
        if answer is None or answer.body is None:
            raise SessionError("protocol", f"ACS gave no answer to {message.METHOD}")
        if isinstance(answer.body, soap.Fault):
            fault = answer.body
            raise SessionError(
                "fault", f"ACS fault {fault.fault_code} to {message.METHOD}: {fault.fault_string}"
            )
        return answer.body, answer

    async def run(self) -> int:
        """Run the session to its end; returns the number of ACS requests handled.

        Raises SessionError when it cannot complete; what was already delivered (events,
        transfers, RPC effects) stays delivered.
        """
        device = self.device
        ns = soap.NS_CWMP.get(self.options.cwmp_version, soap.NS_CWMP["1.0"])
        inform = device.build_inform(self.retry_count)
        reply, answer = await self._request(inform, ns)
        if not isinstance(reply, soap.InformResponse):
            raise SessionError("protocol", f"expected InformResponse, got {reply.METHOD}")
        device.inform_acknowledged(inform)
        ns = answer.cwmp_ns
        hold = bool(answer.hold_requests)

        for transfer in device.transfer_messages():
            if hold:
                break  # the ACS asked us not to send requests in this session
            reply, answer = await self._request(transfer, ns)
            if not isinstance(reply, soap.TransferCompleteResponse):
                raise SessionError(
                    "protocol", f"expected TransferCompleteResponse, got {reply.METHOD}"
                )
            device.transfer_acknowledged(transfer.command_key)
            hold = bool(answer.hold_requests)

        body = b""
        for _ in range(self.options.max_rpcs):
            response = await self._post(body)
            try:
                env = self._parse(response)
            except soap.UnknownMethodError as exc:
                fault = device.handle_unknown(exc.method)
                body = soap.serialize(
                    soap.Envelope(fault, cwmp_id=exc.cwmp_id, cwmp_ns=exc.cwmp_ns)
                )
                self.rpcs += 1
                continue
            if env is None or env.body is None:
                return self.rpcs
            if isinstance(env.body, soap.Fault):
                raise SessionError("fault", f"ACS sent a fault: {env.body.fault_code}")
            reply = await self._answer(env.body)
            self.rpcs += 1
            cwmp_id = env.cwmp_id
            if env.body.METHOD in device.quirks.wrong_id_on:
                cwmp_id = f"not-{cwmp_id}"
            body = soap.serialize(soap.Envelope(reply, cwmp_id=cwmp_id, cwmp_ns=env.cwmp_ns))
        raise SessionError("protocol", f"ACS sent more than {self.options.max_rpcs} requests")

    async def _answer(self, request: soap.Message) -> soap.Message:
        """The device's answer to an ACS request, misbehaving as its quirks say: it may
        crash (the session is abandoned with nothing done), reboot without answering, sit
        silent, or answer late."""
        device = self.device
        quirks = device.quirks
        method = request.METHOD
        if method in quirks.crash_on:
            device.note(request)
            raise SessionError("crash", f"crashed on {method}")
        if method in quirks.hang_on:
            device.note(request)
            await asyncio.sleep(quirks.hang_seconds)
            raise SessionError("hung", f"never answered {method}")
        reply = device.handle(request)
        if method == "Reboot" and quirks.drop_on_reboot:
            raise SessionError("dropped", "dropped the session on Reboot")
        delay = quirks.delay_for(method)
        if delay:
            await asyncio.sleep(delay)
        return reply
