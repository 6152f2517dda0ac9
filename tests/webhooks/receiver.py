"""A webhook receiver on 127.0.0.1 for tests: records each POST, answers scripted codes,
and checks signatures the way the README tells a receiver to."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    def signed_by(self, secret: str, tolerance: int = 300) -> bool:
        """Whether X-Linesman-Signature is `t=<ts>,v1=<hmac of "<ts>." + body>` with this
        secret and a timestamp within `tolerance` seconds of now (written from the README,
        not from the server's code)."""
        parts = dict(p.split("=", 1) for p in self.headers["x-linesman-signature"].split(","))
        timestamp = parts["t"]
        expected = hmac.new(
            secret.encode(), timestamp.encode() + b"." + self.body, hashlib.sha256
        ).hexdigest()
        fresh = abs(time.time() - int(timestamp)) <= tolerance
        return fresh and hmac.compare_digest(expected, parts["v1"])


class Receiver:
    def __init__(self, codes: list[int] | None = None) -> None:
        self.codes = list(codes or [200])
        self.received: list[Received] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with outer.lock:
                    outer.received.append(
                        Received({k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    code = outer.codes.pop(0) if len(outer.codes) > 1 else outer.codes[0]
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
