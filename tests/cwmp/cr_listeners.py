"""Connection-request listeners on 127.0.0.1 for tests of the ACS side.

`SimListener` runs the simulator's own listener (Digest, Digest+Basic or Basic-only) in a
thread; `RecordingListener` answers a fixed reply (or what its `on_request` says) and
records what it received;
`silent_socket` listens and never accepts, so a test can tell whether anyone connected.
`tls_pair` makes a certificate for 127.0.0.1 and the server and client TLS contexts around
it, for a `RecordingListener` on https.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import select
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from linesman.core import crypto
from linesman.simulator.connreq import ConnectionRequestServer
from linesman.simulator.device import SimulatedDevice
from linesman.simulator.fleet import shared_tree
from linesman.simulator.identity import Profile

SERIAL = "SIM000001"
USERNAME = "SIM000001"  # the simulator's default connection request credentials
PASSWORD = "SIM000001-secret"


class _Agent:
    def __init__(self, device: SimulatedDevice) -> None:
        self.device = device
        self.kicks = 0

    def kick(self) -> None:
        self.kicks += 1


class SimListener:
    """The simulator's connection-request listener for one device, on its own event loop."""

    def __init__(self, challenge: str) -> None:
        device = SimulatedDevice(
            SERIAL, 1, Profile("tr181", "http://127.0.0.1:1/acs"), shared_tree("tr181")
        )
        device.boot()
        self.agent = _Agent(device)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = ConnectionRequestServer(
            {SERIAL: self.agent}.get, challenge=challenge, hold_timeout=5
        )
        self._call(self.server.start())
        self.url = self.server.url_for(SERIAL)

    def _call(self, coroutine) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)

    @property
    def schemes(self) -> dict[str, int]:
        """Authorization schemes received, e.g. {"none": 1, "digest": 1}."""
        return dict(self.server.auth_schemes)

    def close(self) -> None:
        self._call(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@contextmanager
def sim_listener(challenge: str) -> Iterator[SimListener]:
    listener = SimListener(challenge)
    try:
        yield listener
    finally:
        listener.close()


class RecordingListener:
    """Answers every GET with `status`, `headers` and `body`; `received` holds each request's
    path and headers (names lower-cased).

    `on_request(path)`, when given, runs in the listener's thread before the answer (a
    device acting on the request, or a test observing the ACS meanwhile) and may return
    the status to answer instead of `status`.
    """

    def __init__(
        self,
        status: int = 200,
        headers=(),
        body: bytes = b"",
        on_request: Callable[[str], int | None] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.received: list[tuple[str, dict[str, str]]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                owner.received.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                answer = on_request(self.path) if on_request else None
                self.send_response(status if answer is None else answer)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.http = _Server(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.http.socket = tls.wrap_socket(self.http.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.port = self.http.server_address[1]
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/{path}"

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the listen backlog: a whole bulk batch may knock at once


@contextmanager
def recording_listener(
    status: int = 200,
    headers=(),
    body: bytes = b"",
    on_request: Callable[[str], int | None] | None = None,
    tls: ssl.SSLContext | None = None,
) -> Iterator[RecordingListener]:
    listener = RecordingListener(status, headers, body, on_request, tls)
    try:
        yield listener
    finally:
        listener.close()


@contextmanager
def silent_socket() -> Iterator[tuple[int, callable]]:
    """A listening socket that never accepts: (port, connected()) where connected() says
    whether a connection is waiting in its backlog."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)

    def connected() -> bool:
        readable, _, _ = select.select([sock], [], [], 0.3)
        return bool(readable)

    try:
        yield sock.getsockname()[1], connected
    finally:
        sock.close()


def point_device(device, url: str, username: str = USERNAME, password: str = PASSWORD) -> None:
    """Give an inventory device a connection request URL and credentials."""
    device.connection_request_url = url
    device.connection_request_username = username
    device.connection_request_password_encrypted = crypto.encrypt(password) if password else ""
    device.save()


def tls_pair(directory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server, client) TLS contexts: the server presents a fresh self-signed certificate
    for 127.0.0.1, which the client trusts and nothing else does."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client
