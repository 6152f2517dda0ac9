"""Schema-driven fuzzing: every operation of the OpenAPI schema, against the real WSGI app.

Schemathesis generates requests from the schema Linesman publishes and sends them in-process
to the WSGI application (no socket). Every answer must be a documented status code whose
body matches the documented schema, and never a 5xx. Each operation runs twice: with a
superuser's token and with the token of a viewer of organization B, over a fixed database
of two organizations (devices, types, locations, settings, reported parameters, operations
and bulk jobs in both), so that generated ids hit real, visible and invisible objects.

Hypothesis is derandomized: the same examples every run. Only its generate phase runs
(EXAMPLES positive and negative cases per operation): schemathesis's coverage phase, which
sends every boundary case of every field, costs about five times as long.

Destructive operations run on the test database; connection requests find no device URL,
and a guard refuses any socket connection to anything but loopback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from linesman.wsgi import application
from tests.api.fleet import build_fleet, loopback_only, wsgi_keeps_test_connection

__all__ = ["loopback_only"]  # a fixture the tests here use

#: Examples generated per operation and caller (89 operations x 2 callers): about a minute.
EXAMPLES = 8

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _published_schema() -> dict:
    # The schema exactly as /api/v1/schema/ serves it, as plain JSON.
    raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(json.dumps(raw, default=str))


schema = schemathesis.openapi.from_dict(_published_schema())


@pytest.fixture
def tokens(db, no_static_finders, loopback_only) -> Iterator[dict[str, str]]:
    fleet = build_fleet()
    with wsgi_keeps_test_connection():
        yield fleet


@pytest.mark.parametrize("caller", ["superuser", "viewer_b"])
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_operation_answers_as_documented(case, caller, tokens):
    response = case.call(app=application, headers={"Authorization": f"Bearer {tokens[caller]}"})
    case.validate_response(response, checks=CHECKS)
