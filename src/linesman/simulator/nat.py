"""Simulated devices behind NAT: reachable only by UDP connection requests or by XMPP.

A device behind NAT still reports a ConnectionRequestURL, but nothing answers there: the
URL's port belongs to a socket that never listens, so the ACS's HTTP request is refused,
as a carrier-grade NAT would drop it.

- ``UdpReach``: one UDP socket per device. Once the ACS switched STUN on
  (ManagementServer.STUNEnable, STUNServerAddress/Port, STUNUsername/Password), the device
  sends TR-111 Binding requests (CONNECTION-REQUEST-BINDING, USERNAME, MESSAGE-INTEGRITY)
  from that socket every keep-alive period, learns its public address from the answer
  (UDPConnectionRequestAddress) and accepts signed UDP connection requests (TR-069 Annex G)
  arriving on it: a valid one, acted on once per message id, kicks the device.
- ``XmppReach``: one XMPP client per device, logged in before the device first boots, its
  full JID reported as ConnReqJabberID. A connectionRequest IQ from a JID in
  ConnReqAllowedJabberIDs with the right connection request credentials is answered with
  an empty result and kicks the device; wrong credentials get not-authorized, a JID not
  allowed service-unavailable (TR-069 Annex K).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import time
from collections import OrderedDict
from typing import TYPE_CHECKING

from linesman.reach import stun, udpcr
from linesman.reach import xmpp as xmpp_cr

if TYPE_CHECKING:
    from linesman.simulator.runner import DeviceAgent

log = logging.getLogger(__name__)

MODES = ("udp", "xmpp")


def refusing_port(host: str = "127.0.0.1") -> socket.socket:
    """A bound TCP socket that never listens: connecting to its port is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((host, 0))
    return sock


class UdpReach(asyncio.DatagramProtocol):
    """STUN client and UDP connection request listener of one device."""

    def __init__(self, agent: DeviceAgent, poll: float = 0.25) -> None:
        self.agent = agent
        self.poll = poll
        self.transport: asyncio.DatagramTransport | None = None
        self.bindings = 0  # successful Binding answers
        self.unauthorized = 0  # 401 answers
        self.accepted = 0  # UDP connection requests acted on
        self.rejected = 0  # badly signed or unknown-user requests
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._pending: dict[bytes, float] = {}
        self._next_binding = 0.0
        self._task: asyncio.Task[None] | None = None

    async def start(self, host: str = "127.0.0.1") -> None:
        loop = asyncio.get_running_loop()
        self.transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=(host, 0))
        self._task = asyncio.create_task(self._keepalive())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.transport is not None:
            self.transport.close()

    def _model(self, name: str, default: str = "") -> str:
        device = self.agent.device
        return device.model.get_or(device.ms(name), default)

    async def _keepalive(self) -> None:
        while True:
            device = self.agent.device
            now = time.monotonic()
            enabled = self._model("STUNEnable") in ("true", "1")
            if enabled and device.online and not device.unreachable and now >= self._next_binding:
                self._send_binding()
                period = int(self._model("STUNMinimumKeepAlivePeriod", "0") or 0)
                # Until a first answer, ask again soon; then every keep-alive period.
                self._next_binding = now + (max(period, 1) if device.udp_address else 1.0)
            await asyncio.sleep(self.poll)

    def _send_binding(self) -> None:
        host = self._model("STUNServerAddress")
        port = int(self._model("STUNServerPort", "3478") or 3478)
        username = self._model("STUNUsername")
        password = self._model("STUNPassword")
        if not host or not username or self.transport is None:
            return
        txid = secrets.token_bytes(12)
        message = stun.binding_request(txid, username=username)
        self._pending[txid] = time.monotonic()
        try:
            self.transport.sendto(stun.serialize(message, password.encode()), (host, port))
        except OSError as exc:
            log.debug("STUN request of %s failed: %s", self.agent.device.serial, exc)

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        if data[:4] == b"GET ":
            self._connection_request(data)
            return
        try:
            message = stun.parse(data)
        except stun.StunError:
            return
        if self._pending.pop(message.transaction_id, None) is None:
            return  # not an answer to one of ours
        if message.type == stun.BINDING_ERROR:
            self.unauthorized += 1
            return
        if message.type != stun.BINDING_SUCCESS:
            return
        try:
            if (raw := message.get(stun.XOR_MAPPED_ADDRESS)) is not None:
                host, port = stun.decode_address(raw, message.transaction_id)
            elif (raw := message.get(stun.MAPPED_ADDRESS)) is not None:
                host, port = stun.decode_address(raw)
            else:
                return
        except stun.StunError:
            return
        self.bindings += 1
        self.agent.device.udp_address = f"{host}:{port}"

    def _connection_request(self, data: bytes) -> None:
        device = self.agent.device
        if device.unreachable or not device.online:
            return
        try:
            request = udpcr.parse(data)
        except udpcr.BadRequest:
            self.rejected += 1
            return
        if request.msg_id in self._seen:
            return  # a repeated copy of a request already acted on
        username, password = device.connreq_credentials()
        if not udpcr.verify(request, username, password) or device.reject_auth:
            self.rejected += 1
            device.counters.connection_requests_rejected += 1
            return
        self._seen[request.msg_id] = None
        while len(self._seen) > 64:
            self._seen.popitem(last=False)
        self.accepted += 1
        self.agent.kick()


class XmppReach:
    """The XMPP connection of one device, answering connectionRequest IQs."""

    def __init__(self, agent: DeviceAgent, jid: str, password: str, server: tuple[str, int]):
        self.agent = agent
        self.jid = jid
        self.password = password
        self.server = server
        self.client = None
        self.accepted = 0
        self.refused: list[str] = []  # the error condition of each refused request

    async def start(self, timeout: float = 10.0) -> None:
        from slixmpp.xmlstream.handler import Callback
        from slixmpp.xmlstream.matcher import MatchXPath

        self.client = await xmpp_cr.login(self.jid, self.password, self.server, timeout)
        self.client.register_handler(
            Callback(
                "TR-069 connection request",
                MatchXPath(f"{{jabber:client}}iq/{{{xmpp_cr.NS}}}connectionRequest"),
                self._on_iq,
            )
        )
        self.agent.device.xmpp_jid = str(self.client.boundjid.full)

    async def stop(self) -> None:
        if self.client is not None:
            await xmpp_cr.logout(self.client)

    def _allowed(self, sender: str) -> bool:
        device = self.agent.device
        allowed = device.model.get_or(device.ms("ConnReqAllowedJabberIDs"), "")
        bare = sender.split("/", 1)[0]
        return any(bare == j.strip().split("/", 1)[0] for j in allowed.split(",") if j.strip())

    def _on_iq(self, iq) -> None:
        device = self.agent.device
        if iq["type"] != "get":
            return
        if not self._allowed(str(iq["from"])):
            self._refuse(iq, "service-unavailable", "cancel")
            return
        element = iq.xml.find(f"{{{xmpp_cr.NS}}}connectionRequest")
        username, password = xmpp_cr.credentials_of(element)
        if (username, password) != device.connreq_credentials() or device.reject_auth:
            device.counters.connection_requests_rejected += 1
            self._refuse(iq, "not-authorized", "auth")
            return
        if device.unreachable or not device.online:
            self._refuse(iq, "service-unavailable", "cancel")
            return
        self.accepted += 1
        iq.reply(clear=True).send()
        self.agent.kick()

    def _refuse(self, iq, condition: str, kind: str) -> None:
        self.refused.append(condition)
        reply = iq.reply(clear=True)
        reply["type"] = "error"
        reply["error"]["condition"] = condition
        reply["error"]["type"] = kind
        reply.send()
