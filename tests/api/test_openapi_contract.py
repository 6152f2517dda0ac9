"""The OpenAPI schema is the API's contract: what it lists can be reached and answers as it says.

- generating the schema (as /api/v1/schema/ serves it) prints no warning;
- every route the schema lists reaches the view the schema describes (none is shadowed);
- path parameters are named as the seeds name them;
- every GET over a fixed database of real objects (lists with rows, details of visible
  objects) answers a body that matches its documented schema, read strictly: a field the
  schema does not list, a listed field that is missing, or a null where the schema does not
  say nullable is a violation. Lists that paginate are documented as pages.
"""

from __future__ import annotations

import copy
import functools
import json
import re

import pytest
import schemathesis
from django.urls import resolve
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import EndpointEnumerator, SchemaGenerator
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from linesman.wsgi import application
from tests.api.fleet import build_fleet, loopback_only, wsgi_keeps_test_connection

__all__ = ["loopback_only"]  # a fixture the tests here use

pytestmark = pytest.mark.usefixtures("no_static_finders")

PREFIX = "/api/v1"


@functools.cache
def _generated() -> str:
    return json.dumps(SchemaGenerator().get_schema(request=None, public=True))


def _schema() -> dict:
    return json.loads(_generated())


def _strict(schema: dict) -> dict:
    """The schema with every object that lists its properties closed to other properties."""
    strict = copy.deepcopy(schema)

    def close(node):
        if isinstance(node, dict):
            if (
                node.get("type") == "object"
                and "properties" in node
                and "additionalProperties" not in node
            ):
                node["additionalProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(strict["components"])
    return strict


def test_generating_the_schema_prints_no_warning(client, capsys):
    GENERATOR_STATS.reset()  # warnings are printed once a process; show them again
    response = client.get(f"{PREFIX}/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    printed = capsys.readouterr()
    assert "Warning" not in printed.err + printed.out
    assert "Error" not in printed.err + printed.out
    assert not GENERATOR_STATS


def _sample_path(path: str) -> str:
    # A value each converter accepts: digits fit `int` and `str` alike.
    return re.sub(r"\{[^}]+\}", "7", path)


def test_every_route_in_the_schema_reaches_its_view():
    shadowed = []
    for path, _regex, method, callback in EndpointEnumerator().get_api_endpoints():
        match = resolve(_sample_path(path))
        reached = match.func.cls
        actions = getattr(match.func, "actions", None) or {}
        documented = (getattr(callback, "actions", None) or {}).get(method.lower())
        if reached is not callback.cls or actions.get(method.lower()) != documented:
            shadowed.append(f"{method} {path}: {callback.cls.__name__} -> {reached.__name__}")
    assert shadowed == []


def test_the_device_settings_path_takes_the_device():
    paths = _schema()["paths"]
    assert f"{PREFIX}/inventory_device_setting/{{id}}/" not in paths
    by_device = paths[f"{PREFIX}/inventory_device_setting/{{parent_id}}/"]
    assert set(by_device) >= {"get", "put", "patch"}


def test_path_parameters_are_named_as_the_seeds_name_them():
    names = {}
    for path, operations in _schema()["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    names[f"{method.upper()} {path}"] = parameter["name"]
    assert "key" not in names.values()
    # parent__name, parent__serial_number: the settings twins, named as the reference names
    # them; operation_id: the cancel route of an operation (`op_...`), not in the seeds.
    allowed = {"id", "serial_number", "name", "parent_id", "parent__name"}
    assert set(names.values()) <= allowed | {"parent__serial_number", "operation_id"}
    assert names[f"POST {PREFIX}/operations/{{operation_id}}/cancel/"] == "operation_id"
    assert names[f"PUT {PREFIX}/inventory_device_operation/{{id}}/"] == "id"
    assert (
        names[f"PUT {PREFIX}/inventory_device_serial_operation/{{serial_number}}/"]
        == "serial_number"
    )
    assert names[f"PUT {PREFIX}/inventory_device_name_operation/{{name}}/"] == "name"
    assert names[f"GET {PREFIX}/inventory_device_variables/{{id}}/"] == "id"
    assert names[f"GET {PREFIX}/inventory_device_name_variables/{{name}}/"] == "name"
    assert names[f"GET {PREFIX}/inventory_device_headless_operation/{{id}}/"] == "id"


def _page_properties(schema: dict, operation: dict) -> set[str]:
    body = operation["responses"]["200"]["content"]["application/json"]["schema"]
    if "$ref" in body:
        body = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
    return set(body.get("properties", {}))


#: Every GET that answers a page of rows: each is documented as a page.
PAGED = [
    "/audit_log/",
    "/inventory_device/",
    "/inventory_device/{id}/operations/",
    "/inventory_device_headless_operation/",
    "/inventory_device_headless_operation/{id}/devices/",
    "/inventory_device_name/",
    "/inventory_device_name_headless_operation/",
    "/inventory_device_name_headless_operation/{id}/devices/",
    "/inventory_device_name_variables/{name}/",
    "/inventory_device_serial/",
    "/inventory_device_serial_headless_operation/",
    "/inventory_device_serial_headless_operation/{id}/devices/",
    "/inventory_device_serial_variables/{serial_number}/",
    "/inventory_device_setting/",
    "/inventory_device_variables/{id}/",
    "/inventory_firmware_image/",
    "/inventory_location/",
    "/inventory_parameter/",
    "/inventory_type/",
    "/organization/",
]


@pytest.mark.parametrize("path", PAGED)
def test_paginated_lists_are_documented_as_pages(path):
    schema = _schema()
    operation = schema["paths"][PREFIX + path]["get"]
    assert _page_properties(schema, operation) >= {"count", "next", "previous", "results"}
    parameters = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    assert {"limit", "offset"} <= parameters


#: Values for the path parameters: objects of the fleet the superuser sees.
PATH_VALUES = {
    "id": "1",
    "name": "dev-1",
    "serial_number": "SN1",
    "parent_id": "1",
    "parent__name": "dev-1",
    "parent__serial_number": "SN1",
}
#: Query strings that make a GET return more of its shape (details, pending items).
QUERIES = {
    f"{PREFIX}/inventory_device/": {"pending": "true"},
    f"{PREFIX}/inventory_device_setting/": {"parent_id": "1"},
    f"{PREFIX}/inventory_device_name_setting/": {"parent__name": "dev-1"},
    f"{PREFIX}/inventory_device_serial_setting/": {"parent__serial_number": "SN1"},
}


@pytest.fixture
def strict_schema():
    return schemathesis.openapi.from_dict(_strict(_schema()))


@pytest.fixture
def tokens(db, loopback_only):
    fleet = build_fleet()
    with wsgi_keeps_test_connection():
        yield fleet


def _gets(schema) -> list[tuple[str, dict]]:
    return [
        (path, operations)
        for path, operations in schema.items()
        if "get" in operations and not path.endswith("report.csv")
    ]


def test_every_get_answers_its_documented_shape(strict_schema, tokens):
    """Every GET over real rows, read strictly: each field documented, each documented
    field present, nulls only where the schema says nullable."""
    raw = strict_schema.raw_schema["paths"]
    failures = []
    checked = 0
    for path, _operations in _gets(raw):
        operation = strict_schema[path]["GET"]
        names = re.findall(r"\{([^}]+)\}", path)
        job = path.endswith("{id}/") or "{id}/devices" in path
        values = {n: PATH_VALUES[n] for n in names}
        if "headless_operation" in path and job:
            values["id"] = tokens["job"]
        if "/audit_log/" in path:  # ids of rows the fleet's writes made (sequences vary)
            from linesman.audit.models import AuditEntry

            values["id"] = str(AuditEntry.objects.order_by("id").values_list("id", flat=True)[0])
        case = operation.Case(path_parameters=values, query=QUERIES.get(path, {}))
        response = case.call(
            app=application, headers={"Authorization": f"Bearer {tokens['superuser']}"}
        )
        if response.status_code != 200:
            failures.append(f"GET {path} {values}: {response.status_code} {response.text[:200]}")
            continue
        try:
            case.validate_response(
                response,
                checks=[
                    not_a_server_error,
                    status_code_conformance,
                    content_type_conformance,
                    response_schema_conformance,
                ],
            )
        except Exception as exc:  # collect every operation's violation, then fail once
            failures.append(f"GET {path}: {str(exc)[:1500]}")
        checked += 1
    assert failures == []
    assert checked > 30


def _validated(strict_schema, path: str, method: str, token: str, **case_fields):
    """Send one request built from the schema's operation and check its answer against it."""
    case = strict_schema[PREFIX + path][method].Case(**case_fields)
    response = case.call(app=application, headers={"Authorization": f"Bearer {token}"})
    case.validate_response(
        response,
        checks=[status_code_conformance, content_type_conformance, response_schema_conformance],
    )
    documented = strict_schema.raw_schema["paths"][PREFIX + path][method.lower()]["responses"]
    if response.content:  # a body the schema does not describe is not documented either
        assert "content" in documented[str(response.status_code)], f"{method} {path}"
    return response


def test_a_path_no_route_matches_answers_a_json_404(strict_schema, tokens):
    # `{id}` is an integer: 0.5 matches no route. The answer is the documented JSON error.
    response = _validated(
        strict_schema,
        "/inventory_device/{id}/",
        "GET",
        tokens["superuser"],
        path_parameters={"id": "0.5"},
    )
    assert response.status_code == 404
    assert response.headers["content-type"][0].startswith("application/json")
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/inventory_device_headless_operation/{id}/report.csv", {}),
        ("/inventory_device_headless_operation/{id}/report.csv", {"format": "nonsense"}),
        ("/inventory_device_headless_operation/{id}/devices/", {"format": "csv"}),
    ],
)
def test_views_that_answer_csv_give_errors_as_json(strict_schema, tokens, path, query):
    response = _validated(
        strict_schema,
        path,
        "GET",
        tokens["superuser"],
        path_parameters={"id": "999"},
        query=query,
    )
    assert response.status_code == 404
    assert response.headers["content-type"][0].startswith("application/json")
    assert "detail" in response.json()


def test_an_error_detail_may_be_a_list(strict_schema, tokens):
    # The body of a bulk job must be an object: DRF's answer puts the message in a list.
    response = _validated(
        strict_schema,
        "/inventory_device_headless_operation/",
        "POST",
        tokens["superuser"],
        body=[None, None],
        media_type="application/json",
    )
    assert response.status_code == 400
    assert isinstance(response.json()["detail"], list)


def test_deleting_an_organization_with_devices_is_a_documented_conflict(strict_schema, tokens):
    response = _validated(
        strict_schema,
        "/organization/{id}/",
        "DELETE",
        tokens["superuser"],
        path_parameters={"id": "1"},
    )
    assert response.status_code == 409


def test_a_body_in_an_unparseable_form_is_a_documented_415(strict_schema, tokens):
    # A body in a media type the API does not read.
    case = strict_schema[f"{PREFIX}/organization/"]["POST"].Case(
        body={"name": "x"}, media_type="application/json"
    )
    response = case.call(
        app=application,
        headers={
            "Authorization": f"Bearer {tokens['superuser']}",
            "Content-Type": "text/plain",
        },
        data=b"name=x",
    )
    assert response.status_code == 415
    case.validate_response(
        response,
        checks=[status_code_conformance, content_type_conformance, response_schema_conformance],
    )


#: Writes that succeed over the fleet, each answered in its documented shape (read strictly).
WRITES = [
    ("/inventory_device_operation/{id}/", "PUT", {"id": "2"}, {"operation": "sync"}, 200),
    (
        "/inventory_device_serial_operation/{serial_number}/",
        "PUT",
        {"serial_number": "SN2"},
        {"operation": "reboot"},
        200,
    ),
    (
        "/inventory_device_headless_operation/",
        "POST",
        {},
        {"operation": "inventory_audit", "device_ids": [2]},
        201,
    ),
    (
        "/inventory_device_variables/{id}/",
        "PUT",
        {"id": "3"},
        [{"variable_name": "Device.WiFi.SSID.1.SSID", "value": "guest"}],
        200,
    ),
    (
        "/inventory_device_setting/{parent_id}/",
        "PATCH",
        {"parent_id": "1"},
        [{"variable_name": "Device.WiFi.SSID.1.SSID", "value": "y"}],
        200,
    ),
    (
        "/inventory_device/",
        "POST",
        {},
        {"name": "new", "serial_number": "SN9", "type": 1, "organization_id": 1},
        201,
    ),
    ("/inventory_device/{id}/", "PATCH", {"id": "2"}, {"description": "spare"}, 200),
    ("/inventory_type/", "POST", {}, {"short_name": "ap", "name": "AP"}, 201),
    (
        "/inventory_location/",
        "POST",
        {},
        {"name": "Depot", "short_name": "depot", "organization_id": 1},
        201,
    ),
]


@pytest.mark.parametrize(("path", "method", "values", "body", "status"), WRITES)
def test_writes_answer_their_documented_shape(
    strict_schema, tokens, path, method, values, body, status
):
    response = _validated(
        strict_schema,
        path,
        method,
        tokens["superuser"],
        path_parameters=values,
        body=body,
        media_type="application/json",
    )
    assert response.status_code == status, response.text


def test_an_inventory_audit_job_reads_in_its_documented_shape(strict_schema, tokens):
    created = _validated(
        strict_schema,
        "/inventory_device_headless_operation/",
        "POST",
        tokens["superuser"],
        body={"operation": "inventory_audit", "device_ids": [1, 2]},
        media_type="application/json",
    )
    assert created.status_code == 201
    job = created.json()["id"]
    assert created.json()["report_url"].endswith(f"/{job}/report.csv")
    for path in (
        "/inventory_device_headless_operation/{id}/",
        "/inventory_device_headless_operation/{id}/devices/",
    ):
        response = _validated(
            strict_schema, path, "GET", tokens["superuser"], path_parameters={"id": job}
        )
        assert response.status_code == 200


def test_a_refused_host_header_under_the_api_answers_json(db, settings):
    settings.ALLOWED_HOSTS = ["acs.example.net"]
    from django.test import Client

    response = Client().get(f"{PREFIX}/inventory_device/", HTTP_HOST="%")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Bad request."}
