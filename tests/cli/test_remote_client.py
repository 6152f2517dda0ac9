"""The remote client's error handling, against a fake transport (no server needed)."""

from __future__ import annotations

import httpx
import pytest

from linesman.cli.remote import RemoteClient, RemoteError, describe_error


@pytest.mark.parametrize(
    ("body", "line"),
    [
        ({"detail": "Not found."}, "Not found."),
        (
            {"name": ["Too long."], "type": ["Unknown.", "Really."]},
            "name: Too long.; type: Unknown. Really.",
        ),
        ({"variables": {"Device.X": "read-only"}}, "variables: Device.X: read-only"),
        ([{"a": ["b"]}, "c"], "a: b; c"),
        ("plain", "plain"),
    ],
)
def test_describe_error(body, line):
    assert describe_error(body) == line


def client(status: int, content: bytes, content_type: str = "application/json") -> RemoteClient:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Bearer T"
        return httpx.Response(status, content=content, headers={"Content-Type": content_type})

    return RemoteClient("http://linesman.test/", "T", transport=httpx.MockTransport(handler))


def test_json_answers_and_empty_ones():
    assert client(200, b'{"count": 0}').get("/x/", limit=5, offset=None) == {"count": 0}
    assert client(204, b"").delete("/x/1/") is None


@pytest.mark.parametrize(
    ("status", "content", "message"),
    [
        (401, b'{"detail": "Invalid token."}', "the server refused the token (401); check --token"),
        (404, b'{"detail": "Not found."}', "HTTP 404: Not found."),
        (500, b"<h1>Server Error</h1>\n<p>trace</p>", "HTTP 500: <h1>Server Error</h1>"),
        (502, b"", "HTTP 502: Bad Gateway"),
    ],
)
def test_errors_are_one_line(status, content, message):
    with pytest.raises(RemoteError) as caught:
        client(status, content, "text/html").get("/x/")
    assert caught.value.message == message and caught.value.status == status


def test_a_non_json_success_is_refused():
    with pytest.raises(RemoteError, match="did not answer JSON; is it a Linesman"):
        client(200, b"<html>", "text/html").get("/x/")
