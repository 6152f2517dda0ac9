"""Helpers shared by the API views of every app: query parameters and permission checks."""

from __future__ import annotations

from django.http import Http404
from rest_framework.exceptions import PermissionDenied, ValidationError

from linesman.core import textcheck
from linesman.tenancy.services import access_for

TRUE_VALUES = {"1", "true", "True", "TRUE", "yes", "on"}
FALSE_VALUES = {"0", "false", "False", "FALSE", "no", "off", ""}


def bool_param(request, name: str, default: bool = False) -> bool:
    """A boolean query parameter; anything but a recognised boolean is a 400 naming it."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if raw in TRUE_VALUES:
        return True
    if raw in FALSE_VALUES:
        return False
    raise ValidationError({name: [f"{raw!r} is not a boolean (use true or false)."]})


def require_role(request, org_id: int | None, role: str) -> None:
    """403 unless the user holds `role` (or higher) in the organization."""
    if not access_for(request).has_role(org_id, role):
        raise PermissionDenied(f"This needs the {role} role in the organization.")


def check_organization_filter(request, name: str = "organization") -> None:
    """`?organization=N` for an organization the user does not belong to answers 403."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return
    org_id = id_param(request, name)
    if not access_for(request).can_see_org(org_id):
        raise PermissionDenied("You do not belong to this organization.")


def id_param(request, name: str) -> int | None:
    """An id in the query string (None if absent or empty); anything else is a 400 naming it.

    ASCII digits within the database's 64-bit range only (`core.textcheck.parse_id`).
    """
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    number = textcheck.parse_id(raw.strip())
    if number is None:
        raise ValidationError(
            {name: [f"An id is required: digits 0-9, at most {textcheck.MAX_ID}."]}
        )
    return number


def path_id(raw) -> int:
    """An id from the URL path; anything that is not one names nothing there (404)."""
    number = textcheck.parse_id(str(raw).strip())
    if number is None:
        raise Http404
    return number
