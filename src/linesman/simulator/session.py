"""One CWMP session of one simulated device, over HTTP to the ACS.

Inform -> InformResponse; a TransferComplete per finished download; then an empty POST and,
for as long as the ACS answers with requests, POSTs of the device's responses, until the ACS
answers 204 or an empty body. Cookies set by the ACS are echoed back for the rest of the
session only; authentication answers the ACS's Digest or Basic challenge.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from dataclasses import dataclass

import httpx

from linesman.cwmp import soap
from linesman.simulator.auth import CpeAuth, basic_header
from linesman.simulator.device import SimulatedDevice

AUTH_MODES = ("auto", "basic_preemptive", "none")


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

    def update(self, response: httpx.Response) -> None:
        for header in response.headers.get_list("set-cookie"):
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

    def apply(self, request: httpx.Request) -> None:
        value = self.header()
        if value is None:
            request.headers.pop("cookie", None)
        else:
            request.headers["Cookie"] = value


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
        client: httpx.AsyncClient,
        device: SimulatedDevice,
        options: SessionOptions,
        retry_count: int = 0,
    ) -> None:
        self.client = client
        self.device = device
        self.options = options
        self.retry_count = retry_count
        self.url = device.acs_url()
        self.cookies = SessionCookies()
        self.rpcs = 0
        username, password = device.credentials()
        self._basic: str | None = None
        self._auth: CpeAuth | None = None
        if options.auth_mode == "basic_preemptive":
            self._basic = basic_header(username, password)
        elif options.auth_mode == "auto" and (username or password):
            self._auth = CpeAuth(username, password, on_response=self._on_challenge)

    def _on_challenge(self, response: httpx.Response, request: httpx.Request) -> None:
        # The ACS may open its session (cookie) in the 401 itself.
        self.cookies.update(response)
        self.cookies.apply(request)

    async def _post(self, body: bytes, *, soap_action: bool = False) -> httpx.Response:
        headers = {}
        if body:
            headers["Content-Type"] = 'text/xml; charset="utf-8"'
            if soap_action:
                headers["SOAPAction"] = ""
        if self._basic is not None:
            headers["Authorization"] = self._basic
        cookie = self.cookies.header()
        if cookie is not None:
            headers["Cookie"] = cookie
        try:
            request = self.client.build_request(
                "POST", self.url, content=body, headers=headers, timeout=self.options.timeout
            )
            response = await self.client.send(request, auth=self._auth or httpx.USE_CLIENT_DEFAULT)
        except httpx.TimeoutException as exc:
            raise SessionError("timeout", f"{type(exc).__name__} talking to the ACS") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise SessionError("connect", f"{type(exc).__name__}: {exc}") from None
        self.cookies.update(response)
        status = response.status_code
        if status == 401:
            raise SessionError("auth", "ACS refused the device's credentials (401)")
        if status not in (200, 204):
            retry = retry_after_seconds(response.headers.get("retry-after"))
            raise SessionError("http", f"ACS answered HTTP {status}", retry_after=retry)
        return response

    def _parse(self, response: httpx.Response) -> soap.Envelope | None:
        if response.status_code == 204:
            return None
        try:
            return soap.parse(response.content, max_bytes=self.options.max_body)
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
