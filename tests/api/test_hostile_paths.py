"""Every API route and every documented query parameter, fed hostile values: never a 5xx.

The routes come from the URL resolver (so a new endpoint is walked without editing this
file) and the query parameters from the OpenAPI schema and each list's filter set.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

#: Already percent-encoded: Unicode digits that pass str.isdigit(), numbers past 64 bits,
#: a NUL, a lone surrogate (as its UTF-8-like bytes) and control characters.
HOSTILE_PATH_VALUES = [
    "%C2%B2",  # ²
    "%D9%A3",  # Arabic-Indic three
    "1e20",
    "-1",
    "99999999999999999999999",
    "9223372036854775808",
    "%00",
    "%ED%A0%80",
    "%01",
    "ab%1Fcd",
]
WRITE_PATH_VALUES = {"%C2%B2", "99999999999999999999999", "%00", "%ED%A0%80"}
HOSTILE_QUERY_VALUES = [
    "²",
    "٣",
    "1e20",
    "1e30",
    "-1",
    "99999999999999999999999",
    "9223372036854775808",
    "NaN",
    "Infinity",
    "\x00",
    "\x01",
    "ab\x1fcd",
    "%ED%A0%80",
    "2000-99-99T99:99",
]
_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def _routes(patterns=None, prefix: str = "") -> list[str]:
    """Every route under /api/v1/ as a template with `{name}` placeholders."""
    if patterns is None:
        for entry in get_resolver().url_patterns:
            if isinstance(entry, URLResolver) and str(entry.pattern) == "api/v1/":
                return _routes(entry.url_patterns, "/api/v1/")
        raise AssertionError("no api/v1/ include")
    routes = []
    for entry in patterns:
        text = str(entry.pattern).lstrip("^").rstrip("$")
        text = _CONVERTER.sub(r"{\1}", _GROUP.sub(r"{\1}", text))
        if isinstance(entry, URLResolver):
            routes += _routes(entry.url_patterns, prefix + text)
        elif isinstance(entry, URLPattern):
            routes.append(prefix + text)
    return sorted(set(routes))


def _fill(route: str, value: str) -> str:
    return re.sub(r"\{\w+\}", value, route)


def _check(response, what: str, failures: list[str]) -> None:
    """Collect a 5xx, or an error without a JSON body, instead of stopping at the first."""
    if response.status_code >= 500:
        failures.append(f"{what} answered {response.status_code}")
    elif response.status_code >= 400 and not response.get("Content-Type", "").startswith(
        "application/json"
    ):
        failures.append(f"{what} answered {response.status_code} without a JSON body")


def _client(actor):
    client = actor.client
    client.raise_request_exception = False  # a crash is a 500 here, collected like the rest
    return client


def test_the_walk_sees_the_routes():
    routes = _routes()
    assert "/api/v1/inventory_device_serial_headless_operation/{id}/" in routes
    assert "/api/v1/inventory_device_setting/{parent_id}/" in routes
    assert len(routes) > 30


@pytest.mark.parametrize("value", HOSTILE_PATH_VALUES)
def test_hostile_path_values(superuser, device_a, value):
    client = _client(superuser)
    failures: list[str] = []
    for route in _routes():
        if "{" not in route:
            continue
        url = _fill(route, value)
        _check(client.get(url), f"GET {url}", failures)
        if value not in WRITE_PATH_VALUES:
            continue  # the writes take the same lookups: a few values show they hold
        for method in ("put", "patch", "post", "delete"):
            response = getattr(client, method)(url, {}, format="json")
            _check(response, f"{method.upper()} {url}", failures)
    assert not failures, "\n".join(failures)


def _documented_query_parameters() -> dict[str, set[str]]:
    """route -> query parameter names, from the OpenAPI schema and the filter sets."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    found: dict[str, set[str]] = {}
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    found.setdefault(path, set()).add(parameter["name"])
    return found


_DOCUMENTED: dict[str, set[str]] = {}


def _documented_query_parameters_cached() -> dict[str, set[str]]:
    if not _DOCUMENTED:
        _DOCUMENTED.update(_documented_query_parameters())
    return _DOCUMENTED


def test_hostile_query_values(superuser, device_a):
    client = _client(superuser)
    failures: list[str] = []
    documented = _documented_query_parameters_cached()
    assert "location" in documented["/api/v1/inventory_device/"]
    assert "parent_id" in documented["/api/v1/inventory_device_setting/"]
    walked = set()
    for path, names in documented.items():
        # The by-name and by-serial twins share their views' parameter handling.
        family = re.sub(r"_(name|serial)(?=_|/)", "", path)
        if family in walked:
            continue
        walked.add(family)
        url = _fill(path, str(device_a.pk))
        for name in sorted(names):
            for value in HOSTILE_QUERY_VALUES:
                response = client.get(url, {name: value})
                _check(response, f"GET {url}?{name}={value!r}", failures)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/v1/inventory_device/", "location=1e20"),
        ("/api/v1/inventory_device_setting/", "parent_id=1e30"),
        ("/api/v1/inventory_device/", "organization=99999999999999999999999"),
        ("/api/v1/inventory_device_serial_headless_operation/", "id=%C2%B2"),
    ],
)
def test_reported_query_values_are_400s(superuser, path, query):
    response = _client(superuser).get(f"{path}?{query}")
    assert response.status_code in (400, 404), response.content
    assert isinstance(response.json(), dict)


def test_reported_unicode_digit_job_id_is_404(superuser):
    response = superuser.client.get("/api/v1/inventory_device_serial_headless_operation/%C2%B2/")
    assert response.status_code == 404
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "query",
    [
        "organization=%D9%A3",
        "location=%C2%B2",
        "type=1e3",
        "parent=-1",
        "device_type=%D9%A3",
        "limit=%D9%A3",
        "offset=%D9%A3",
    ],
)
def test_unicode_digits_and_non_ids_are_not_ids(superuser, query):
    """int() reads "٣" as 3; an id in the query string is ASCII digits or a 400."""
    for path in (
        "/api/v1/inventory_device/",
        "/api/v1/inventory_location/",
        "/api/v1/inventory_firmware_image/",
    ):
        name = query.split("=")[0]
        response = _client(superuser).get(f"{path}?{query}")
        if name in _documented_query_parameters_cached().get(path, set()):
            assert response.status_code == 400, (path, query, response.content)
            assert name in response.json()
