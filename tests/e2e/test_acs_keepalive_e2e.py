"""Keep-alive connections survive answers that do not need the request body, under the
real server (granian), and Digest nonce counts hold across two server processes."""

from __future__ import annotations

import re

import httpx

from linesman.cwmp import soap
from tests.cwmp.acs_client import digest_header, inform_message
from tests.e2e.live import LiveServer

ROUNDS = 50


def test_refusals_that_skip_the_body_keep_the_connection_usable(server_process):
    """50 rounds on one keep-alive client: refusals that need no body (401 before reading,
    405, the API's 401/404), each followed by a normal request: zero failures."""
    server = server_process.start()
    inform = soap.serialize(soap.Envelope(inform_message("NOPE")))
    large, small = b"x" * 200_000, b"y" * 3_000
    failures: list[str] = []
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for round_ in range(ROUNDS):
            refusals = [
                ("POST", "/cwmp/", large, 401),  # unauthenticated and large: not read
                ("POST", "/cwmp/", inform, 401),  # unknown serial
                ("PUT", "/cwmp/", large, 405),
                ("PUT", "/cwmp/", small, 405),
                ("POST", "/api/v1/inventory_device/", large, 401),  # no token
                ("POST", "/no/such/page/", small, 404),
            ]
            for method, path, body, status in refusals:
                try:
                    refused = client.request(method, path, content=body)
                    normal = client.post("/cwmp/", content=b"")  # a stray empty POST: 204
                except httpx.HTTPError as exc:
                    failures.append(f"round {round_} {method} {path}: {exc!r}")
                    continue
                if refused.status_code != status or normal.status_code != 204:
                    failures.append(
                        f"round {round_} {method} {path}: {refused.status_code}, "
                        f"then {normal.status_code}"
                    )
    assert failures == [], failures[:5]


def test_a_digest_header_is_accepted_once_across_two_server_processes(platform):
    first = platform["server"]
    second = LiveServer(first.home, first.database, worker=False)
    second.env = dict(first.env, LINESMAN_BIND=f"127.0.0.1:{second.port}")
    second.start()
    try:
        created = platform["api"].post(
            "/inventory_device/",
            json={
                "name": "twice",
                "serial_number": "TWICE1",
                "type": platform["type"],
                "organization_id": platform["org"],
                "username": "u",
                "password": "p",
            },
        )
        assert created.status_code == 201
        body = soap.serialize(soap.Envelope(inform_message("TWICE1", events=("2 PERIODIC",))))
        challenge = httpx.post(first.url + "/cwmp/", content=body, timeout=10)
        assert challenge.status_code == 401
        nonce = re.search(r'nonce="([^"]+)"', challenge.headers["www-authenticate"]).group(1)
        header = {"Authorization": digest_header("u", "p", nonce, nc=1)}
        accepted = httpx.post(first.url + "/cwmp/", content=body, headers=header, timeout=10)
        assert accepted.status_code == 200
        # The same header on the other process (no sticky sessions) is a replay.
        replayed = httpx.post(second.url + "/cwmp/", content=body, headers=header, timeout=10)
        assert replayed.status_code == 401
        # The next count of the same nonce authenticates there (the answer may be 503: the
        # device's first-contact session, opened by the accepted Inform, is still open).
        header = {"Authorization": digest_header("u", "p", nonce, nc=2)}
        later = httpx.post(second.url + "/cwmp/", content=body, headers=header, timeout=10)
        assert later.status_code in (200, 503), later.status_code
    finally:
        second.stop()
