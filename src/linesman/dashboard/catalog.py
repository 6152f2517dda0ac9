"""The Catalog page: device types, locations and firmware images, listed, created, deleted.

A fresh install needs these before any device can be added; this page is the dashboard's
way to make them. Input goes through the API's own serializers and is written by
`inventory.services` (with the audit trail), so the rules and the error messages are the
API's. Who may write is the API's rule too: an organization's admins for its objects,
superusers for shared ones (no organization); anyone else gets 403 whatever they post.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Model, ProtectedError, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from linesman.dashboard.views import login_required
from linesman.inventory import services
from linesman.inventory.api import serializers
from linesman.inventory.models import DeviceType, FirmwareImage, Location
from linesman.tenancy.models import Organization, Role
from linesman.tenancy.services import Access, access_for


@dataclass(frozen=True)
class Kind:
    """One catalog resource: its model, the API serializer that validates it, its fields."""

    slug: str
    noun: str
    model: type[Model]
    serializer: type
    shared: bool  # whether objects without an organization exist (superusers only)
    fields: tuple[str, ...]  # the form's fields besides the organization


KINDS = {
    kind.slug: kind
    for kind in (
        Kind(
            "types",
            "device type",
            DeviceType,
            serializers.DeviceTypeSerializer,
            True,
            ("short_name", "name", "manufacturer", "product_class", "settings_template"),
        ),
        Kind(
            "locations",
            "location",
            Location,
            serializers.LocationSerializer,
            False,
            ("short_name", "name", "latitude", "longitude"),
        ),
        Kind(
            "firmware",
            "firmware image",
            FirmwareImage,
            serializers.FirmwareImageSerializer,
            True,
            ("device_type", "version", "description", "file"),
        ),
    )
}


def _kind(slug: str) -> Kind:
    kind = KINDS.get(slug)
    if kind is None:
        raise Http404("No such catalog list.")
    return kind


def _admin_orgs(access: Access) -> QuerySet[Organization]:
    orgs = Organization.objects.order_by("name")
    if access.is_superuser:
        return orgs
    return orgs.filter(pk__in=[o for o in access.roles if access.has_role(o, Role.ADMIN)])


def _can_write(access: Access, org_id: int | None) -> bool:
    """The API's rule (ReferenceViewSet._check_write): shared -> superusers, else admins."""
    return access.is_superuser if org_id is None else access.has_role(org_id, Role.ADMIN)


def _check_write(access: Access, org_id: int | None) -> None:
    if not _can_write(access, org_id):
        raise PermissionDenied(
            "Only superusers manage shared objects."
            if org_id is None
            else "This needs the admin role in the organization."
        )


def _rows(access: Access, kind: Kind) -> QuerySet:
    rows = access.restrict(kind.model.objects.all(), allow_shared=kind.shared)
    if kind.model is FirmwareImage:
        rows = rows.select_related("device_type")
    return rows.select_related("organization").order_by("id")


def _input(kind: Kind, post: QueryDict, files) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The serializer's input from the form, and errors found before it (bad JSON)."""
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    org = post.get("organization_id", "").strip()
    data["organization_id"] = org or None
    for name in kind.fields:
        if name == "file":
            if "file" in files:
                data["file"] = files["file"]
            continue
        value = post.get(name, "")
        if name == "settings_template":
            value = value.strip()
            if not value:
                continue
            try:
                value = json.loads(value)
            except ValueError:
                errors[name] = ["Must be a JSON object mapping parameter paths to values."]
                continue
        elif name == "device_type" and not value:
            continue  # the serializer says it is required
        data[name] = value
    return data, errors


def _page(
    request: HttpRequest,
    *,
    active: str | None = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    access = access_for(request)
    orgs = _admin_orgs(access)
    can_create = access.is_superuser or orgs.exists()
    lists = {
        kind.slug: [(row, _can_write(access, row.organization_id)) for row in _rows(access, kind)]
        for kind in KINDS.values()
    }
    context = {
        "lists": lists,
        "can_create": can_create,
        "organizations": orgs,
        "types": access.restrict(DeviceType.objects.all(), allow_shared=True).order_by(
            "short_name"
        ),
        "active": active,
        "values": request.POST if active else {},
        "errors": errors or {},
    }
    return render(request, "dashboard/catalog.html", context, status=status)


@login_required
def catalog(request: HttpRequest) -> HttpResponse:
    return _page(request)


@login_required
@require_POST
def catalog_create(request: HttpRequest, kind: str) -> HttpResponse:
    kind_ = _kind(kind)
    access = access_for(request)
    if not (access.is_superuser or _admin_orgs(access).exists()):
        raise PermissionDenied("This needs the admin role in an organization.")
    data, errors = _input(kind_, request.POST, request.FILES)
    serializer = kind_.serializer(data=data, context={"request": request})
    valid = serializer.is_valid()
    if not valid or errors:
        for field, messages in ({} if valid else serializer.errors).items():
            errors.setdefault(field, [str(m) for m in messages])
        return _page(request, active=kind_.slug, errors=errors, status=400)
    values = dict(serializer.validated_data)
    if kind_.model is FirmwareImage:
        values = services.firmware_image_values(values)
    _check_write(access, values.get("organization_id"))
    with transaction.atomic():
        services.save_reference(user=request.user, instance=kind_.model(), data=values)
    return redirect(reverse("dashboard:catalog") + f"#{kind_.slug}")


@login_required
@require_POST
def catalog_delete(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    kind_ = _kind(kind)
    access = access_for(request)
    instance = _rows(access, kind_).filter(pk=pk).first()
    if instance is None:
        raise Http404(f"No such {kind_.noun}.")
    _check_write(access, instance.organization_id)
    back = reverse("dashboard:catalog") + f"#{kind_.slug}"
    if request.POST.get("confirmed") != "on":
        return render(
            request,
            "dashboard/confirm.html",
            {
                "question": f"Delete {kind_.noun} {instance}?",
                "action": request.path,
                "fields": [],
                "yes_label": f"Delete the {kind_.noun}",
                "back": back,
                "back_label": "No, back to the catalog",
            },
        )
    try:
        services.delete_reference(user=request.user, instance=instance)
    except ProtectedError:
        return _page(
            request,
            active=kind_.slug,
            errors={
                "delete": [
                    f"{kind_.noun} {instance} is still in use (devices or images refer "
                    "to it); remove or move them first."
                ]
            },
            status=409,
        )
    return redirect(back)
