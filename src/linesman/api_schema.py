"""How the OpenAPI schema describes what every API operation shares.

drf-spectacular documents each view from its annotations; this module adds what no single
view states: the API token as the security scheme, and the error answers any operation can
give (a bad or missing token, a role that does not allow it, a bad query parameter, an
object that does not exist or is not visible, a write that conflicts), each a JSON object
naming the problem.
`api_urls` imports it, so it is loaded before any schema is generated.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

#: Error answers every operation may give, and those only operations on one object give.
COMMON_ERRORS = {
    "400": "Invalid input; the body names each bad field or parameter",
    "401": "Missing or invalid API token",
    "403": "Your role does not allow this in the organization",
}
OBJECT_ERRORS = {"404": "No such object, or not visible to you"}
#: Any write may conflict: objects still referring to the one deleted, a unique value taken
#: (the API's exception handler answers every integrity error with 409), a busy device.
WRITE_ERRORS = {"409": "The change conflicts with the current state or existing data"}
WRITES = {"post", "put", "patch", "delete"}
#: Any operation taking a body answers a body it cannot parse in the declared type so.
BODY_ERRORS = {"415": "Unsupported media type, or a body that cannot be parsed as it"}

ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "`detail` for a general problem, or one entry per bad field or parameter "
        "(a list of messages, or an object of them for nested input)."
    ),
    "properties": {"detail": {"description": "A message, or a list of messages"}},
    "additionalProperties": True,
}


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """`Authorization: Bearer <token>` (`Token <token>` is accepted too)."""

    target_class = "linesman.tenancy.authentication.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema) -> dict[str, Any]:
        return {"type": "http", "scheme": "bearer"}


def add_common_errors(result: dict, generator, request, public) -> dict:
    """Postprocessing hook: document the shared error answers on every operation."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Error", ERROR_SCHEMA)
    error_body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            errors = dict(COMMON_ERRORS)
            if "{" in path:
                errors.update(OBJECT_ERRORS)
            if method in WRITES:
                errors.update(WRITE_ERRORS)
            if "requestBody" in operation:
                errors.update(BODY_ERRORS)
            responses = operation["responses"]
            for code, description in errors.items():
                responses.setdefault(code, {"description": description})
            for code, response in responses.items():
                if code >= "400" and "content" not in response:
                    response["content"] = error_body
    return result
