"""A small client of a remote Linesman's REST API, for the CLI's `--url URL --token T` mode.

It speaks to the same endpoints any API client uses and turns every failure into one
`click.ClickException` line: unreachable server, bad token, 4xx/5xx with the API's own
explanation.
"""

from __future__ import annotations

from typing import Any

import click
import httpx

#: Seconds before a request is abandoned; operations are asynchronous, so this is short.
TIMEOUT = 30.0


def describe_error(body: Any) -> str:
    """The API's error body as one line: `detail`, or `field: message; ...`."""
    if isinstance(body, dict):
        if "detail" in body and len(body) <= 2:
            return str(body["detail"])
        parts = []
        for key, value in body.items():
            if isinstance(value, list):
                value = " ".join(str(v) for v in value)
            elif isinstance(value, dict):
                value = describe_error(value)
            parts.append(f"{key}: {value}")
        return "; ".join(parts)
    if isinstance(body, list):
        return "; ".join(describe_error(item) for item in body)
    return str(body)


class RemoteError(click.ClickException):
    """An API call failed; `status` is the HTTP status (0 when the server was not reached)."""

    def __init__(self, message: str, status: int = 0):
        super().__init__(message)
        self.status = status


class RemoteClient:
    """Bearer-token JSON calls to `URL/api/v1/...`."""

    def __init__(self, url: str, token: str, *, timeout: float = TIMEOUT, transport=None):
        self.base = url.rstrip("/")
        self.client = httpx.Client(
            base_url=self.base + "/api/v1",
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
            trust_env=False,
            transport=transport,
        )

    def close(self) -> None:
        self.client.close()

    def request(self, method: str, path: str, **kwargs) -> Any:
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise RemoteError(f"cannot reach {self.base}: {exc or type(exc).__name__}") from None
        if response.status_code == 401:
            raise RemoteError("the server refused the token (401); check --token", 401)
        if response.status_code >= 400:
            try:
                detail = describe_error(response.json())
            except ValueError:
                detail = response.text.strip().splitlines()[0][:200] if response.text else ""
            raise RemoteError(
                f"HTTP {response.status_code}: {detail or response.reason_phrase}",
                response.status_code,
            )
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise RemoteError(f"{self.base} did not answer JSON; is it a Linesman?") from None

    def get(self, path: str, **params) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, json=body)

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, json=body)

    def patch(self, path: str, body: Any) -> Any:
        return self.request("PATCH", path, json=body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def type_id(self, ref: str) -> int:
        """A device type's id from its id or short name (one line if there is none)."""
        if ref.isascii() and ref.isdigit():
            return int(ref)
        found = self.get("/inventory_type/", short_name=ref)["results"]
        if not found:
            raise RemoteError(f"no device type {ref!r} on {self.base}")
        return found[0]["id"]

    def organization_id(self, ref: str) -> int:
        """An organization's id from its id or name (one line if there is none)."""
        if ref.isascii() and ref.isdigit():
            return int(ref)
        for organization in self.get("/organization/", limit=1000)["results"]:
            if organization["name"] == ref:
                return organization["id"]
        raise RemoteError(f"no organization {ref!r} on {self.base}")
