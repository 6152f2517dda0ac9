"""Dashboard pages: overview, device list, device page (and its live fragments), map.

Every view reads through `dashboard.access` (the tenancy rules the API uses) and changes
state only through the services the API calls: `operations.services` to start and cancel
operations, `inventory.services` to record a firmware choice.
"""

from __future__ import annotations

import csv
import itertools
from urllib.parse import urlparse

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required as _login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_POST

from linesman.audit.models import AuditEntry
from linesman.core.redaction import MARKER, is_secret
from linesman.core.textcheck import parse_id
from linesman.core.times import iso_z
from linesman.cwmp.models import DeviceParameters
from linesman.dashboard import access as visible
from linesman.dashboard import mapping, overview, tree
from linesman.dashboard.forms import (
    BUTTONS,
    FIRMWARE_CONFIRM,
    DeviceListForm,
    OperateForm,
    confirmation_for,
)
from linesman.dashboard.pending import pending_items
from linesman.dashboard.security import CSP
from linesman.devicelog.models import DeviceLogEntry
from linesman.inventory.filters import DeviceFilter
from linesman.inventory.firmware import last_upgrade
from linesman.inventory.models import Device
from linesman.inventory.services import SettingsRejected, change_settings
from linesman.operations import services as operations
from linesman.operations.models import ACTIVE_STATES, OperationKind
from linesman.operations.pending import pending_settings_for
from linesman.tenancy.models import Role
from linesman.tenancy.services import access_for

PAGE_SIZE = 50
#: How often (ms) live fragments poll: fast while something runs, slow otherwise.
POLL_ACTIVE, POLL_IDLE = 1500, 15000

login_required = _login_required(login_url=reverse_lazy("dashboard:login"))


class LogoutView(auth_views.LogoutView):
    """POST logs out (as Django's view does); GET, a typed or bookmarked /ui/logout/,
    asks first with a one-button form instead of answering a blank 405."""

    http_method_names = ["get", "post", "options"]

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect("dashboard:login")
        return render(
            request,
            "dashboard/confirm.html",
            {
                "question": f"Log out {request.user.get_username()}?",
                "action": request.path,
                "fields": [],
                "yes_label": "Log out",
                "back": reverse("dashboard:home"),
                "back_label": "No, back to the overview",
            },
        )


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Fleet overview: Up/Down by organization and type, recent changes, operations."""
    context = {"o": overview.build(access_for(request)), "poll": POLL_IDLE}
    if request.GET.get("fragment"):
        return render(request, "dashboard/fragments/overview.html", context)
    return render(request, "dashboard/overview.html", context)


def device_list_form(request: HttpRequest, data) -> DeviceListForm:
    """The device list's controls, bound to `data` (an empty query is a valid form)."""
    access = access_for(request)
    return DeviceListForm(
        data,
        types=visible.device_types(access),
        organizations=visible.organizations(access),
        locations=visible.locations(access),
    )


def filtered_devices(request: HttpRequest, form: DeviceListForm):
    access = access_for(request)
    queryset = visible.devices(access)
    if not form.is_valid():
        # A foreign organization is refused, as the API does; other bad values are ignored.
        if "organization" in form.errors and request.GET.get("organization"):
            raise PermissionDenied("You do not belong to this organization.")
        return queryset.none()
    data = form.cleaned_data
    api_filters = {
        key: data[key] for key in ("type", "status", "organization", "location") if data.get(key)
    }
    queryset = DeviceFilter(api_filters, queryset=queryset).qs
    term = (data.get("q") or "").strip()
    if term:
        queryset = queryset.filter(
            Q(name__icontains=term)
            | Q(serial_number__icontains=term)
            | Q(customer_id__icontains=term)
        )
    return queryset.order_by(*form.ordering())


@login_required
def device_list(request: HttpRequest) -> HttpResponse:
    # Always bound (an empty query is a valid form) so cleaned_data is there to read.
    form = device_list_form(request, request.GET)
    queryset = filtered_devices(request, form)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    pending = pending_settings_for(page.object_list, detailed=False)
    rows = [(device, pending.get(device.pk)) for device in page.object_list]
    sort = form.cleaned_data.get("sort", "") if form.is_valid() else ""
    return render(
        request,
        "dashboard/device_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "sort": sort or "name",
            "query": request.GET.urlencode(),
            "can_start_jobs": access_for(request).has_role_anywhere(Role.OPERATOR),
        },
    )


#: Columns of the CSV export: header, and how a device gives its cell.
CSV_COLUMNS = [
    ("name", lambda d: d.name),
    ("serial_number", lambda d: d.serial_number),
    ("status", lambda d: d.status),
    ("type", lambda d: d.type.short_name),
    ("organization", lambda d: d.organization.name),
    ("location", lambda d: d.effective_location_name or ""),
    ("software_version", lambda d: d.software_version or ""),
    ("last_connection", lambda d: iso_z(d.last_connection) or ""),
    ("status_change", lambda d: iso_z(d.status_change) or ""),
    ("customer_id", lambda d: d.customer_id or ""),
]
CSV_BATCH = 500


def _csv_cell(value) -> str:
    # A spreadsheet runs a cell starting with = + - @ as a formula: quote it as text.
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@login_required
def device_export(request: HttpRequest) -> StreamingHttpResponse:
    """The device list, as filtered and sorted on screen, as CSV (every page of it)."""
    form = device_list_form(request, request.GET)
    queryset = filtered_devices(request, form)

    def rows():
        buffer = _Echo()
        writer = csv.writer(buffer)
        yield writer.writerow([name for name, _ in CSV_COLUMNS] + ["pending"])
        for start in itertools.count(0, CSV_BATCH):
            batch = list(queryset[start : start + CSV_BATCH])
            if not batch:
                return
            pending = pending_settings_for(batch, detailed=False)
            for device in batch:
                cells = [get(device) for _, get in CSV_COLUMNS] + [pending.get(device.pk) or ""]
                yield writer.writerow([_csv_cell(c) for c in cells])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="devices.csv"'
    return response


class _Echo:
    """A file-like object csv.writer writes one row to, handing it back."""

    def write(self, value: str) -> str:
        return value


def _state_context(request: HttpRequest, device: Device) -> dict:
    active = operations.active_operation(device)
    return {
        "device": device,
        "active": active,
        # Why a queued operation does not move: the device was never seen, or cannot be
        # asked to connect until its next inform.
        "waiting": operations.waiting(active) if active else None,
        "history": list(device.operations.order_by("-id")[:25]),
        "pending": pending_items(device),
        "can_operate": visible.can_operate(request, device),
        "state_poll": POLL_ACTIVE if active else POLL_IDLE,
    }


def _parameters_context(request: HttpRequest, device: Device) -> dict:
    row = DeviceParameters.objects.filter(device_id=device.pk).first()
    values = row.values if row else {}
    active = operations.active_operation(device)
    refreshing = active is not None and active.kind in (OperationKind.REFRESH, OperationKind.SYNC)
    pending = dict(device.settings.filter(pending=True).values_list("variable_name", "value"))
    editable = visible.can_operate(request, device)
    return {
        "device": device,
        "tree": tree.render(
            values,
            pending=pending,
            editable=editable,
            objects=row.object_writable if row else {},
        ),
        "parameter_count": len(values),
        "parameters_updated": row.updated if row else None,
        "refreshing": refreshing,
        "parameters_poll": POLL_ACTIVE if refreshing else 0,
    }


@login_required
def device_detail(request: HttpRequest, pk: int) -> HttpResponse:
    device = visible.visible_device(request, pk)
    access = access_for(request)
    can_audit = visible.can_read_audit(request, device)
    context = {
        **_state_context(request, device),
        **_parameters_context(request, device),
        **_charts_context(request, device),
        "buttons": [
            {"kind": b.kind, "label": b.label, "confirm": confirmation_for(b.kind, device)}
            for b in BUTTONS
        ],
        # {choice}: the script puts the selected image's version in (dashboard.js).
        "firmware_confirm": FIRMWARE_CONFIRM.format(name=device.name, version="{choice}"),
        "images": visible.firmware_for(access, device),
        "firmware_upgrade": last_upgrade(device.pk),
        "can_audit": can_audit,
        "audit": list(AuditEntry.objects.filter(device_id=device.pk)[:40]) if can_audit else [],
        # Every member reads the device log (support staff are viewers).
        "device_log": list(
            DeviceLogEntry.objects.filter(device_id=device.pk).order_by("-time", "-id")[:30]
        ),
    }
    return render(request, "dashboard/device_detail.html", context)


def _charts_context(request: HttpRequest, device: Device) -> dict:
    """The metrics panel: one server-drawn SVG chart per metric over the chosen range."""
    from linesman.metrics import charts

    chosen = charts.range_of(request.GET.get("range"))
    return {
        "charts": charts.for_device(device.pk, chosen),
        "chart_range": chosen,
        "chart_ranges": list(charts.RANGES),
        "chart_size": {"width": charts.WIDTH, "height": charts.HEIGHT},
    }


@login_required
def device_state(request: HttpRequest, pk: int) -> HttpResponse:
    """Live fragment: status, running operation, pending items and operation history."""
    device = visible.visible_device(request, pk)
    return render(request, "dashboard/fragments/device_state.html", _state_context(request, device))


@login_required
def device_parameters(request: HttpRequest, pk: int) -> HttpResponse:
    """Live fragment: the parameter tree (polled while a refresh or sync runs)."""
    device = visible.visible_device(request, pk)
    context = _parameters_context(request, device)
    return render(request, "dashboard/fragments/parameters.html", context)


@login_required
@require_POST
def device_parameter_set(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a writable parameter in place: recorded as a desired setting (the settings
    API's service, so pending until the device confirms it) and sent at once by a `set`
    operation when the device is free (otherwise the next reconf or bootstrap sends it)."""
    device = visible.visible_device(request, pk)
    visible.require_operator(request, device)
    back = reverse("dashboard:device", args=[device.pk]) + "#parameters"
    name = (request.POST.get("variable_name") or "").strip()
    value = request.POST.get("value", "")
    row = DeviceParameters.objects.filter(device_id=device.pk).first()
    reported = (row.values if row else {}).get(name)
    if not reported or not (list(reported) + [None, None, None])[2]:
        messages.error(
            request, f"Not changed: {name or 'no parameter'} is not a writable parameter."
        )
        return redirect(back)
    kind = reported[1] or "xsd:string"
    if value == MARKER and is_secret(name):
        messages.info(request, f"{name} unchanged (the stored secret is kept).")
        return redirect(back)
    item = {"variable_name": name, "value": value, "type": kind}
    try:
        change_settings(user=request.user, device=device, items=[item], replace=False)
    except SettingsRejected as exc:
        messages.error(request, f"Not changed: {exc}")
        return redirect(back)
    try:
        op = operations.start_operation(
            device=device, kind=OperationKind.SET, user=request.user, params={"variables": [item]}
        )
    except operations.OperationError as exc:
        messages.warning(
            request,
            f"{name} is pending: {exc} It is sent with the next reconfiguration or bootstrap.",
        )
    else:
        messages.success(
            request, f"{name} pending until the device confirms it ({op.operation_id})."
        )
    return redirect(back)


def _start(request: HttpRequest, device: Device, kind: str, image=None):
    if kind == OperationKind.FIRMWARE:
        return operations.upgrade_firmware(device=device, image=image, user=request.user)
    return operations.start_operation(device=device, kind=kind, user=request.user)


@login_required
@require_POST
def device_operate(request: HttpRequest, pk: int) -> HttpResponse:
    """Start an operation; destructive ones need `confirmed` (asked by a page if missing)."""
    device = visible.visible_device(request, pk)
    visible.require_operator(request, device)
    form = OperateForm(request.POST, images=visible.firmware_for(access_for(request), device))
    back = reverse("dashboard:device", args=[device.pk])
    if not form.is_valid():
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        messages.error(request, f"Not started: {errors}")
        return redirect(back)
    kind = form.cleaned_data["operation"]
    image = form.cleaned_data.get("firmware_image")
    question = confirmation_for(kind, device, image)
    if question and not form.cleaned_data["confirmed"]:
        fields = [("operation", kind)] + ([("firmware_image", image.pk)] if image else [])
        return render(
            request,
            "dashboard/confirm.html",
            {
                "question": question,
                "action": request.path,
                "fields": fields,
                "back": back,
                "back_label": f"No, back to {device.name}",
            },
        )
    try:
        op = _start(request, device, kind, image)
    except operations.OperationError as exc:
        messages.error(request, f"Not started: {exc}")
        return redirect(back)
    label = dict(form.fields["operation"].choices)[kind]
    messages.success(request, f"{label} queued as {op.operation_id}.")
    return redirect(back)


@login_required
@require_POST
def operation_cancel(request: HttpRequest, pk: int, operation_id: str) -> HttpResponse:
    device = visible.visible_device(request, pk)
    visible.require_operator(request, device)
    op = device.operations.filter(operation_id=operation_id, state__in=ACTIVE_STATES).first()
    if op is None:
        messages.error(request, f"{operation_id} is not running.")
    else:
        operations.cancel_operation(op, user=request.user, reason="cancelled from the dashboard")
        messages.success(request, f"{operation_id} cancelled.")
    return redirect("dashboard:device", pk=device.pk)


@login_required
@require_POST
def device_object(request: HttpRequest, pk: int) -> HttpResponse:
    """Add an instance to a writable table, or delete a writable instance (where the
    device's data model says so), then read the tree again: one operation, two steps."""
    device = visible.visible_device(request, pk)
    visible.require_operator(request, device)
    back = reverse("dashboard:device", args=[device.pk]) + "#parameters"
    action = request.POST.get("action")
    name = (request.POST.get("object_name") or "").strip()
    row = DeviceParameters.objects.filter(device_id=device.pk).first()
    writable = bool(row and name.endswith(".") and row.object_writable.get(name))
    last = name.rstrip(".").rsplit(".", 1)[-1]
    is_instance = last.isascii() and last.isdigit()
    if action not in ("add", "delete") or not writable or is_instance != (action == "delete"):
        what = "an instance" if action == "delete" else "a table"
        messages.error(
            request, f"Not changed: {name or 'no object'} is not {what} you may {action}."
        )
        return redirect(back)
    if action == "delete" and not request.POST.get("confirmed"):
        return render(
            request,
            "dashboard/confirm.html",
            {
                "question": f"Delete {name} on {device.name}? Its parameters are gone with it.",
                "action": request.path,
                "fields": [("action", action), ("object_name", name)],
                "back": back,
                "back_label": f"No, back to {device.name}",
            },
        )
    kind = OperationKind.DELETE_OBJECT if action == "delete" else OperationKind.ADD_OBJECT
    try:
        op = operations.start_operation(
            device=device,
            kind=kind,
            user=request.user,
            steps=[kind, OperationKind.REFRESH],
            params={"variables": [{"variable_name": name}]},
        )
    except operations.OperationError as exc:
        messages.error(request, f"Not started: {exc}")
        return redirect(back)
    verb = "Deleting" if action == "delete" else "Adding an instance to"
    messages.success(request, f"{verb} {name} ({op.operation_id}).")
    return redirect(back)


class _BadFilter(Exception):
    """A map filter that is no id of something the user can see."""


def _map_queryset(request: HttpRequest):
    """The devices the map shows: visible ones, by status, organization, type and location."""
    access = access_for(request)
    queryset = visible.devices(access)
    status = request.GET.get("status")
    if status in ("Up", "Down"):
        queryset = queryset.filter(status=status)
    org = request.GET.get("organization")
    if org:
        if parse_id(org) is None or not access.can_see_org(int(org)):
            raise PermissionDenied("You do not belong to this organization.")
        queryset = queryset.filter(organization_id=int(org))
    for name, choices, field in (
        ("type", visible.device_types(access), "type_id"),
        ("location", visible.locations(access), "location_id"),
    ):
        value = request.GET.get(name)
        if not value:
            continue
        pk = parse_id(value)
        if pk is None or not choices.filter(pk=pk).exists():
            raise _BadFilter(f"{name}: no {name} with id {value!r}")
        queryset = queryset.filter(**{field: pk})
    return access, queryset


@login_required
def device_map(request: HttpRequest) -> HttpResponse:
    """The map page; its dots come from `device_map_data` (a server-drawn plot without JS)."""
    try:
        access, queryset = _map_queryset(request)
    except _BadFilter as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    _, unplaced = mapping.clusters(queryset)
    listed = Device.objects.filter(pk__in=unplaced[: mapping.MAX_UNPLACED_LISTED])
    tiles = settings.LINESMAN_MAP_TILE_URL
    response = render(
        request,
        "dashboard/map.html",
        {
            "plot": mapping.plot(queryset),
            "organizations": visible.organizations(access),
            "types": visible.device_types(access),
            "locations": visible.locations(access),
            "status": request.GET.get("status") or "",
            "organization": request.GET.get("organization") or "",
            "type": request.GET.get("type") or "",
            "location": request.GET.get("location") or "",
            "query": request.GET.urlencode(),
            "without": listed.order_by("name", "id"),
            "without_count": len(unplaced),
            "tile_url": tiles or "",
            "tile_attribution": settings.LINESMAN_MAP_TILE_ATTRIBUTION or "",
        },
    )
    if tiles:
        # The one page that loads images from elsewhere, and only from the tile host.
        tile_origin = "{0.scheme}://{0.netloc}".format(urlparse(tiles))
        response["Content-Security-Policy"] = f"{CSP}; img-src 'self' {tile_origin}"
    return response


@login_required
def device_map_data(request: HttpRequest) -> JsonResponse:
    """The map's devices as JSON: one cluster per place, and how many have no place."""
    try:
        _, queryset = _map_queryset(request)
    except _BadFilter as exc:
        return JsonResponse({"detail": str(exc)}, status=400)
    found, unplaced = mapping.clusters(queryset)
    for cluster in found:
        for device in cluster["devices"]:
            device["url"] = reverse("dashboard:device", args=[device["id"]])
    return JsonResponse(
        {
            "placed": sum(c["count"] for c in found),
            "unplaced": len(unplaced),
            "unplaced_url": reverse("dashboard:map") + "#without-coordinates",
            "clusters": found,
        }
    )
