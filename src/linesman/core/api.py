"""Helpers shared by the API views of every app: query parameters and permission checks."""

from __future__ import annotations

from rest_framework.exceptions import PermissionDenied, ValidationError

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
    try:
        org_id = int(raw)
    except ValueError:
        raise ValidationError({name: ["A whole number is required."]}) from None
    if not access_for(request).can_see_org(org_id):
        raise PermissionDenied("You do not belong to this organization.")
