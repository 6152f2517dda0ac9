"""`linesman devices ...` and `linesman op ...`: the inventory and operations from a shell.

Every command works on the local database (like `linesman serve`, through the same
services and serializers as the API) or, with `--url URL --token T` (or LINESMAN_URL and
LINESMAN_TOKEN), on a remote Linesman through its REST API. Both modes print the API's JSON
with `--json`, so scripts see the same data either way. A local `op` is recorded as the OS
user's, or with `--user NAME` as that Linesman user's (who must be allowed to run it).

Exit codes: 0 success; 1 failure (one line on stderr: not found, refused, the operation
failed or timed out, an import row failed); 2 usage errors; 3 `op --wait --timeout` gave up
while the operation was still running.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import click

from linesman.core.textcheck import parse_id

#: Seconds between two looks at a running operation.
POLL_INTERVAL = 0.5
#: Exit code when `--timeout` runs out before the operation ends.
EXIT_STILL_RUNNING = 3
FINAL_STATES = ("completed", "failed", "timed_out", "cancelled")
OPERATIONS = ("reboot", "factory", "device_factory", "sync", "reconf", "firmware")
IMPORT_COLUMNS = ("name", "serial_number", "type", "organization_id")
IMPORT_OPTIONAL = ("username", "password", "update_frequency")


def _sleep(seconds: float) -> None:  # a seam for tests
    time.sleep(seconds)


# ---------------------------------------------------------------------------- output


def _console(stderr: bool = False):
    from rich.console import Console

    console = Console(stderr=stderr, soft_wrap=False, highlight=False)
    if not console.is_terminal:
        # Piped output is not cut to 80 columns: rows stay whole for grep and less.
        console = Console(stderr=stderr, width=200, highlight=False, no_color=True)
    return console


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def _status_text(status: str | None) -> str:
    colour = "green" if status == "Up" else "red"
    return f"[{colour}]{status}[/{colour}]"


def _device_table(devices: list[dict], title: str):
    from rich.table import Table

    table = Table(title=title, title_justify="left", header_style="bold", pad_edge=False)
    for column in ("ID", "Name", "Serial", "Status", "Type", "Org", "Software", "Last seen"):
        table.add_column(column, no_wrap=True)
    for d in devices:
        table.add_row(
            str(d["id"]),
            d["name"],
            d["serial_number"],
            _status_text(d.get("status")),
            d.get("type_short_name") or str(d.get("type")),
            str(d.get("organization_id")),
            d.get("software_version") or "-",
            iso(d.get("last_connection")) if d.get("last_connection") else "never",
        )
    return table


# ---------------------------------------------------------------------------- backends


def local_actor() -> str:
    """Who runs the local command line, for an operation's "by": the OS user."""
    import getpass

    try:
        return f"{getpass.getuser()} (local CLI)"
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return "local CLI"


class Local:
    """The local database, through the services and serializers the API uses."""

    def __init__(self) -> None:
        from linesman.cli.setup import check_database as _check_database
        from linesman.cli.setup import setup as _setup

        _setup()
        _check_database()
        from django.db import connection

        from linesman.inventory.models import Device

        if Device._meta.db_table not in connection.introspection.table_names():
            raise click.ClickException("the database has no schema yet; run `linesman migrate`")

    # references ---------------------------------------------------------------------

    def organization_id(self, ref: str) -> int:
        from linesman.tenancy.models import Organization

        found = (
            Organization.objects.filter(pk=int(ref)).first() if parse_id(ref) is not None else None
        )
        found = found or Organization.objects.filter(name=ref).first()
        if found is None:
            raise click.ClickException(f"no organization {ref!r}")
        return found.pk

    def type_id(self, ref: str) -> int:
        from linesman.inventory.models import DeviceType

        found = (
            DeviceType.objects.filter(pk=int(ref)).first() if parse_id(ref) is not None else None
        )
        found = found or DeviceType.objects.filter(short_name=ref).first()
        if found is None:
            raise click.ClickException(f"no device type {ref!r}")
        return found.pk

    def location_id(self, ref: str) -> int:
        from django.db.models import Q

        from linesman.inventory.models import Location

        if parse_id(ref) is not None and Location.objects.filter(pk=int(ref)).exists():
            return int(ref)
        found = list(Location.objects.filter(Q(name=ref) | Q(short_name=ref))[:2])
        if len(found) > 1:
            raise click.ClickException(f"more than one location is called {ref!r}; give its id")
        if not found:
            raise click.ClickException(f"no location {ref!r}")
        return found[0].pk

    def _device(self, ref: str):
        from linesman.inventory.models import Device

        queryset = Device.objects.select_related("type", "location")
        found = queryset.filter(pk=int(ref)).first() if parse_id(ref) is not None else None
        found = found or queryset.filter(serial_number=ref).first()
        if found is None:
            named = list(queryset.filter(name=ref)[:2])
            if len(named) > 1:
                raise click.ClickException(f"several devices are named {ref!r}; use the id")
            found = named[0] if named else None
        if found is None:
            raise click.ClickException(f"no device with id, serial number or name {ref!r}")
        return found

    @staticmethod
    def _render(devices: list, *, list_item: bool = False) -> list[dict]:
        """Devices as the API answers them (the same renderers)."""
        from linesman.inventory.api import serializers
        from linesman.operations.pending import pending_settings_for

        pending = pending_settings_for(devices, detailed=False)
        render = serializers.list_item if list_item else serializers.detail_item
        return [render(d, pending) for d in devices]

    # devices ------------------------------------------------------------------------

    def list_devices(self, filters: dict[str, Any], limit: int, offset: int):
        from linesman.inventory.filters import DeviceFilter
        from linesman.inventory.models import Device

        queryset = Device.objects.select_related("type", "location").order_by("id")
        queryset = DeviceFilter(filters, queryset=queryset).qs
        page = list(queryset[offset : offset + limit])
        return queryset.count(), self._render(page, list_item=True)

    def show_device(self, ref: str) -> dict:
        return self._render([self._device(ref)])[0]

    def create_device(self, data: dict[str, Any]) -> dict:
        from linesman.cli.remote import describe_error
        from linesman.inventory import services
        from linesman.inventory.api.serializers import DeviceSerializer

        serializer = DeviceSerializer(data=data)
        if not serializer.is_valid():
            raise click.ClickException(describe_error(serializer.errors))
        device = services.create_device(user=None, data=dict(serializer.validated_data))
        return self._render([device])[0]

    def delete_device(self, ref: str) -> dict:
        from linesman.inventory import services

        device = self._device(ref)
        shown = self._render([device])[0]
        try:
            services.delete_device(user=None, device=device)
        except services.DeviceBusy as exc:
            raise click.ClickException(str(exc)) from None
        return shown

    # operations ---------------------------------------------------------------------

    def user(self, name: str):
        """The active Linesman user called `name`, for `op --user`."""
        from django.contrib.auth import get_user_model

        model = get_user_model()
        found = model._default_manager.filter(**{model.USERNAME_FIELD: name}).first()
        if found is None:
            raise click.ClickException(f"no user {name!r}")
        if not found.is_active:
            raise click.ClickException(f"user {name!r} is deactivated")
        return found

    @staticmethod
    def _check_operator(user, organization_id: int | None) -> None:
        """An operation recorded for a user must be one the API would let them start: the
        history would otherwise credit a viewer (or a stranger) with it."""
        from linesman.tenancy.models import Role
        from linesman.tenancy.services import Access

        if user is not None and not Access(user).has_role(organization_id, Role.OPERATOR):
            raise click.ClickException(
                f"user {user.get_username()!r} may not run operations on this device "
                "(needs the operator role in its organization)"
            )

    def start_operation(
        self, ref: str, kind: str, image_ref: str | None, user_name: str | None = None
    ) -> dict:
        from linesman.operations import services

        # The user first: a wrong name is reported even when the device is wrong too.
        user = self.user(user_name) if user_name else None
        device = self._device(ref)
        self._check_operator(user, device.organization_id)
        # With --user the operation is the user's (its "by", the audit trail's user);
        # without, the OS user's name is all there is.
        actor = None if user else local_actor()
        try:
            if kind == "firmware":
                from linesman.operations.services import upgrade_firmware

                image = self._image(device, image_ref)
                op = upgrade_firmware(device=device, image=image, user=user, actor=actor)
            else:
                op = services.start_operation(
                    device=device, kind=services.parse_kind(kind), user=user, actor=actor
                )
        except services.OperationError as exc:
            raise click.ClickException(str(exc)) from None
        return self._render_op(op)

    def _image(self, device, ref: str | None):
        from linesman.inventory.models import FirmwareImage

        images = FirmwareImage.objects.filter(device_type_id=device.type_id)
        found = images.filter(pk=int(ref)).first() if ref and (parse_id(ref) is not None) else None
        found = found or images.filter(version=ref).first()
        if found is None:
            raise click.ClickException(
                f"no firmware image {ref!r} for device type {device.type.short_name}"
            )
        return found

    @staticmethod
    def _render_op(op) -> dict:
        from linesman.operations.api.serializers import OperationSerializer

        return dict(OperationSerializer(op).data)

    def get_operation(self, device_id: int, operation_id: str) -> dict:
        from linesman.operations.models import Operation

        return self._render_op(Operation.objects.get(operation_id=operation_id))

    def cancel_operation(self, operation_id: str, user_name: str | None = None) -> dict:
        from linesman.operations import services
        from linesman.operations.models import Operation

        user = self.user(user_name) if user_name else None
        op = Operation.objects.select_related("device").filter(operation_id=operation_id).first()
        if op is None:
            raise click.ClickException(f"no operation {operation_id}")
        self._check_operator(user, op.device.organization_id)
        if not op.is_active:
            raise click.ClickException(f"operation {operation_id} already ended ({op.state})")
        return self._render_op(
            services.cancel_operation(op, user=user, reason="cancelled with linesman op cancel")
        )

    def recent_operations(self, device_id: int, limit: int) -> list[dict]:
        from linesman.operations.models import Operation

        found = Operation.objects.filter(device_id=device_id).order_by("-initiated_at", "-id")
        return [self._render_op(op) for op in found[:limit]]

    def organization_name(self, organization_id: int) -> str:
        from linesman.tenancy.models import Organization

        found = Organization.objects.filter(pk=organization_id).first()
        return found.name if found else str(organization_id)


class Remote:
    """A remote Linesman through its REST API."""

    def __init__(self, url: str, token: str) -> None:
        from linesman.cli.remote import RemoteClient

        self.api = RemoteClient(url, token)

    def organization_id(self, ref: str) -> int:
        if parse_id(ref) is not None:
            return int(ref)
        organizations = self.api.get("/organization/", limit=1000)["results"]
        for organization in organizations:
            if organization["name"] == ref:
                return organization["id"]
        raise click.ClickException(f"no organization {ref!r}")

    def type_id(self, ref: str) -> int:
        if parse_id(ref) is not None:
            return int(ref)
        found = self.api.get("/inventory_type/", short_name=ref)["results"]
        if not found:
            raise click.ClickException(f"no device type {ref!r}")
        return found[0]["id"]

    def _device(self, ref: str) -> dict:
        from linesman.cli.remote import RemoteError

        if parse_id(ref) is not None:
            try:
                return self.api.get(f"/inventory_device/{ref}/")
            except RemoteError as exc:
                if exc.status != 404:
                    raise
        for twin in ("inventory_device_serial", "inventory_device_name"):
            try:
                return self.api.get(f"/{twin}/{quote(ref, safe='')}/")
            except RemoteError as exc:
                if exc.status == 409:  # the API lists the matching ids
                    message = f"several devices are named {ref!r}; use the id"
                    raise click.ClickException(message) from None
                if exc.status != 404:
                    raise
        raise click.ClickException(f"no device with id, serial number or name {ref!r}")

    def location_id(self, ref: str) -> int:
        if parse_id(ref) is not None:
            return int(ref)
        locations = self.api.get("/inventory_location/", limit=1000)["results"]
        found = [loc for loc in locations if ref in (loc["name"], loc.get("short_name"))]
        if len(found) > 1:
            raise click.ClickException(f"more than one location is called {ref!r}; give its id")
        if not found:
            raise click.ClickException(f"no location {ref!r}")
        return found[0]["id"]

    def list_devices(self, filters: dict[str, Any], limit: int, offset: int):
        page = self.api.get("/inventory_device/", limit=limit, offset=offset, **filters)
        return page["count"], page["results"]

    def show_device(self, ref: str) -> dict:
        return self._device(ref)

    def create_device(self, data: dict[str, Any]) -> dict:
        return self.api.post("/inventory_device/", data)

    def delete_device(self, ref: str) -> dict:
        device = self._device(ref)
        self.api.delete(f"/inventory_device/{device['id']}/")
        return device

    def start_operation(self, ref: str, kind: str, image_ref: str | None) -> dict:
        device = self._device(ref)
        if kind == "firmware":
            image = self._image(device, image_ref)
            self.api.patch(
                f"/inventory_device/{device['id']}/",
                {"firmware_image": image["id"], "firmware_image_is_pending": True},
            )
            history = self.api.get(f"/inventory_device/{device['id']}/operations/", limit=1)
            return history["results"][0]
        started = self.api.put(f"/inventory_device_operation/{device['id']}/", {"operation": kind})
        return self.get_operation(device["id"], started["operation_id"])

    def _image(self, device: dict, ref: str | None) -> dict:
        images = self.api.get("/inventory_firmware_image/", device_type=device["type"], limit=1000)
        for image in images["results"]:
            if ref is not None and ref in (str(image["id"]), image["version"]):
                return image
        raise click.ClickException(
            f"no firmware image {ref!r} for device type {device.get('type_short_name')}"
        )

    def cancel_operation(self, operation_id: str) -> dict:
        return self.api.post(f"/operations/{operation_id}/cancel/", {})

    def recent_operations(self, device_id: int, limit: int) -> list[dict]:
        return self.api.get(f"/inventory_device/{device_id}/operations/", limit=limit)["results"]

    def organization_name(self, organization_id: int) -> str:
        from linesman.cli.remote import RemoteError

        try:
            return self.api.get(f"/organization/{organization_id}/")["name"]
        except (RemoteError, KeyError, TypeError):
            return str(organization_id)

    def get_operation(self, device_id: int, operation_id: str) -> dict:
        history = self.api.get(f"/inventory_device/{device_id}/operations/", limit=50)
        for op in history["results"]:
            if op["operation_id"] == operation_id:
                return op
        raise click.ClickException(f"operation {operation_id} not found on device {device_id}")


def remote_options(command: Callable) -> Callable:
    """--url/--token (LINESMAN_URL/LINESMAN_TOKEN): talk to a remote Linesman instead of the
    local database. The command receives `backend`."""

    @click.option(
        "--url",
        envvar="LINESMAN_URL",
        metavar="URL",
        help="A remote Linesman (default: the local database) [env LINESMAN_URL]",
    )
    @click.option(
        "--token",
        envvar="LINESMAN_TOKEN",
        metavar="TOKEN",
        help="API token for --url [env LINESMAN_TOKEN]",
    )
    @functools.wraps(command)
    def wrapper(*args, url: str | None, token: str | None, **kwargs):
        if url and not token:
            raise click.UsageError("--url needs --token (or LINESMAN_TOKEN)")
        backend = Remote(url, token) if url else Local()
        return command(*args, backend=backend, **kwargs)

    return wrapper


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts")


# ---------------------------------------------------------------------------- devices


@click.group()
def devices() -> None:
    """Devices: list, show, create, import from CSV, delete."""


@devices.command("list")
@click.option("--status", type=click.Choice(["up", "down"], case_sensitive=False))
@click.option("--type", "type_ref", metavar="TYPE", help="Device type id or short name")
@click.option("--org", "org_ref", metavar="ORG", help="Organization id or name")
@click.option("--location", "location_ref", metavar="LOCATION", help="Location id or name")
@click.option(
    "--search", metavar="TEXT", help="Name, serial number or customer id contains TEXT (any case)"
)
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--offset", type=click.IntRange(min=0), default=0)
@json_option
@remote_options
def devices_list(
    backend, status, type_ref, org_ref, location_ref, search, limit, offset, as_json
) -> None:
    """List devices (a table, or the API's page as JSON)."""
    filters: dict[str, Any] = {}
    if search:
        filters["search"] = search
    if location_ref:
        filters["location"] = backend.location_id(location_ref)
    if status:
        filters["status"] = "Up" if status.lower() == "up" else "Down"
    if type_ref:
        filters["type"] = backend.type_id(type_ref)
    if org_ref:
        filters["organization"] = backend.organization_id(org_ref)
    count, rows = backend.list_devices(filters, limit, offset)
    if as_json:
        _print_json({"count": count, "results": rows})
        return
    if not rows:
        # An empty table reads like a broken command; say what happened instead.
        click.echo(
            "No devices match." if not count else f"No devices past {offset} ({count} match)."
        )
        return
    shown = f"{offset + 1}-{offset + len(rows)} of {count}"
    _console().print(_device_table(rows, f"Devices ({shown})"))


#: How many of a device's latest operations `devices show` lists.
RECENT_OPERATIONS = 5


def iso(value: Any) -> str:
    """A timestamp as ISO 8601 UTC with Z (`2026-01-16T02:00:00Z`); "-" for none."""
    from datetime import UTC, datetime

    if not value:
        return "-"
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _card(data: dict[str, Any], organization: str, operations: list[dict]) -> list[str]:
    """A device as a person reads it: who and where, its state, then what was done to it."""
    from rich.markup import escape

    def value(key: str) -> str:
        text = data.get(key)
        return "-" if text in (None, "") else escape(str(text))

    type_text = value("type_short_name") if data.get("type_short_name") else value("type")
    place = value("location_name")
    if data.get("latitude") and data.get("longitude"):
        place += f" ({value('latitude')}, {value('longitude')})"
    rows = [
        ("serial", value("serial_number")),
        ("status", f"{_status_text(data.get('status'))} since {iso(data.get('status_change'))}"),
        ("type", type_text),
        ("organization", escape(organization)),
        ("location", place),
        ("customer id", value("customer_id")),
        ("address", value("address")),
        ("software", f"{value('software_version')}  (hardware {value('hardware_version')})"),
        ("last seen", iso(data.get("last_connection"))),
        ("informs every", f"{value('update_frequency')} s"),
        ("pending", value("pending_settings")),
    ]
    if data.get("firmware_upgrade"):
        rows.append(("firmware", escape(_firmware_upgrade_text(data["firmware_upgrade"]))))
    lines = [f"[bold]{escape(str(data.get('name')))}[/bold]  (device {data.get('id')})"]
    lines += [f"  {label:<14}{text}" for label, text in rows]
    lines.append("")
    if not operations:
        lines.append("[bold]Recent operations[/bold]: none")
        return lines
    lines.append(f"[bold]Recent operations[/bold] (latest {len(operations)})")
    for op in operations:
        outcome = op.get("status") or ""
        if op.get("error"):
            outcome += f": {str(op['error']).splitlines()[0][:60]}"
        lines.append(
            f"  {iso(op.get('initiated_at'))}  {escape(str(op.get('operation'))):<15}"
            f"{escape(outcome):<12} by {escape(str(op.get('initiated_by') or '-'))}"
            f"  {op.get('operation_id')}"
        )
    return lines


@devices.command("show")
@click.argument("device")
@json_option
@remote_options
def devices_show(backend, device: str, as_json: bool) -> None:
    """Show one device by id, serial number or name: a card with its recent operations.

    --json prints the device exactly as the API answers GET inventory_device/{id}/.
    """
    data = backend.show_device(device)
    if as_json:
        _print_json(data)
        return
    organization = backend.organization_name(data["organization_id"])
    operations = backend.recent_operations(data["id"], RECENT_OPERATIONS)
    console = _console()
    for line in _card(data, organization, operations):
        console.print(line, highlight=False, soft_wrap=True)


def _firmware_upgrade_text(upgrade: dict[str, Any]) -> str:
    """The last firmware upgrade in one readable line: state, versions, URL, error."""
    text = (
        f"{upgrade.get('status')} {upgrade.get('from_version') or '?'} -> {upgrade.get('version')}"
    )
    if upgrade.get("url"):
        text += f", URL {upgrade['url']}"
    if upgrade.get("error"):
        text += f": {upgrade['error']}"
    return text


@devices.command("create")
@click.option("--serial", required=True, help="Serial number (unique)")
@click.option("--name", required=True, help="Name (unique in the organization)")
@click.option("--type", "type_ref", required=True, metavar="TYPE", help="Type id or short name")
@click.option("--org", "org_ref", required=True, metavar="ORG", help="Organization id or name")
@click.option("--username", help="CWMP username the device authenticates with")
@click.option("--password", help="CWMP password (stored encrypted)")
@click.option("--update-frequency", type=int, help="Periodic inform interval, seconds")
@json_option
@remote_options
def devices_create(
    backend, serial, name, type_ref, org_ref, username, password, update_frequency, as_json
) -> None:
    """Create a device."""
    data: dict[str, Any] = {
        "serial_number": serial,
        "name": name,
        "type": backend.type_id(type_ref),
        "organization_id": backend.organization_id(org_ref),
    }
    for key, value in (
        ("username", username),
        ("password", password),
        ("update_frequency", update_frequency),
    ):
        if value is not None:
            data[key] = value
    created = backend.create_device(data)
    if as_json:
        _print_json(created)
    else:
        click.echo(
            f"Created device {created['name']} (id {created['id']}, "
            f"serial {created['serial_number']})"
        )


def _read_rows(handle: io.TextIOBase) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(handle)
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in IMPORT_COLUMNS if c not in header]
    if missing:
        raise click.ClickException(
            f"the CSV lacks column(s) {', '.join(missing)}; expected "
            + ",".join(IMPORT_COLUMNS + IMPORT_OPTIONAL)
        )
    reader.fieldnames = header
    rows = [
        (reader.line_num, row) for row in reader if any((v or "").strip() for v in row.values())
    ]
    if not rows:
        raise click.ClickException("the CSV has no device rows")
    return rows


def _row_data(backend, row: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": (row.get("name") or "").strip(),
        "serial_number": (row.get("serial_number") or "").strip(),
        "type": backend.type_id((row.get("type") or "").strip()),
        "organization_id": backend.organization_id((row.get("organization_id") or "").strip()),
    }
    for key in ("username", "password"):
        if row.get(key):
            data[key] = row[key]
    frequency = (row.get("update_frequency") or "").strip()
    if frequency:
        if parse_id(frequency) is None:
            raise click.ClickException(f"update_frequency {frequency!r} is not a whole number")
        data["update_frequency"] = int(frequency)
    return data


@devices.command("import")
@click.argument("csv_file", metavar="FILE.csv", type=click.File("r", encoding="utf-8-sig"))
@json_option
@remote_options
def devices_import(backend, csv_file, as_json: bool) -> None:
    """Create devices from a CSV file, one per row; exit 1 if any row failed.

    Columns: name,serial_number,type,organization_id[,username,password,update_frequency].
    `type` and `organization_id` take an id or a (short) name. Rows are independent: a bad
    row is reported and the others are still created.
    """
    rows = _read_rows(csv_file)
    created, failed = [], []
    with _progress(len(rows), "Importing", enabled=not as_json) as advance:
        for line, row in rows:
            serial = (row.get("serial_number") or "").strip()
            try:
                device = backend.create_device(_row_data(backend, row))
            except click.ClickException as exc:
                failed.append({"line": line, "serial_number": serial, "error": exc.message})
            else:
                created.append({"line": line, "id": device["id"], "serial_number": serial})
            advance()
    if as_json:
        _print_json({"created": created, "failed": failed})
    else:
        for failure in failed:
            click.echo(
                f"line {failure['line']} ({failure['serial_number'] or 'no serial'}): "
                f"{failure['error']}",
                err=True,
            )
        click.echo(f"Imported {len(created)} of {len(rows)} devices ({len(failed)} failed)")
    if failed:
        sys.exit(1)


@devices.command("delete")
@click.argument("device")
@click.option("--yes", is_flag=True, help="Do not ask (asked only on a terminal)")
@json_option
@remote_options
def devices_delete(backend, device: str, yes: bool, as_json: bool) -> None:
    """Delete a device by id, serial number or name (refused while an operation runs)."""
    if not yes and sys.stdin.isatty():
        click.confirm(f"Delete device {device}?", abort=True)
    deleted = backend.delete_device(device)
    if as_json:
        _print_json(
            {"id": deleted["id"], "serial_number": deleted["serial_number"], "deleted": True}
        )
    else:
        click.echo(f"Deleted device {deleted['name']} (id {deleted['id']})")


# ---------------------------------------------------------------------------- operations


class _progress:
    """A rich progress bar on stderr when it is a terminal; silent otherwise."""

    def __init__(self, total: float, description: str, enabled: bool = True):
        self.total, self.description = total, description
        self.enabled = enabled and _console(stderr=True).is_terminal
        self.bar = None

    def __enter__(self) -> Callable[..., None]:
        if not self.enabled:
            return lambda *a, **k: None
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=_console(stderr=True),
            transient=True,
        )
        self.bar.start()
        task = self.bar.add_task(self.description, total=self.total)

        def advance(completed: float | None = None, description: str | None = None) -> None:
            if completed is None:
                self.bar.advance(task)
            else:
                self.bar.update(task, completed=completed, description=description)

        return advance

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


def _estimate(op: dict) -> float:
    from datetime import datetime

    try:
        start = datetime.fromisoformat(str(op["initiated_at"]).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(op["estimated_completion"]).replace("Z", "+00:00"))
        return max((end - start).total_seconds(), 1.0)
    except (KeyError, TypeError, ValueError):
        return 60.0


def waiting_text(op: dict) -> str:
    """What a queued operation waits for, in words ("" when it is not waiting)."""
    waiting_for = op.get("waiting_for")
    if waiting_for == "first_contact":
        return "waiting for the device's first contact (never seen)"
    if waiting_for == "next_contact":
        expected = op.get("next_contact_expected") or "unknown"
        return f"waiting for the device's next contact (expected {expected})"
    return ""


def _wait(backend, op: dict, timeout: float | None, show: bool) -> dict:
    started = time.monotonic()
    estimate = _estimate(op)
    told = ""
    with _progress(estimate, op["operation"], enabled=show) as update:
        while op["status"] not in FINAL_STATES:
            waiting = waiting_text(op)
            if show and waiting and waiting != told:
                # Said once, not only in the bar: a person must know why nothing moves.
                click.echo(f"{op['operation_id']}: {waiting}", err=True)
                told = waiting
            elapsed = time.monotonic() - started
            if timeout is not None and elapsed >= timeout:
                break
            phase = f" ({op['phase']})" if op.get("phase") else ""
            # The estimate is a guess: the bar stops short of the end until the device says so.
            update(
                min(elapsed, estimate * 0.95),
                f"{op['operation']} {op['operation_id']}: {op['status']}{phase}",
            )
            _sleep(POLL_INTERVAL)
            op = backend.get_operation(op["device_id"], op["operation_id"])
    return op


@click.command("op")
@click.argument("device")
@click.argument("operation", metavar=f"{{{'|'.join(OPERATIONS)}}}")
@click.option("--image", metavar="IMAGE", help="Firmware image id or version (for firmware)")
@click.option("--wait", is_flag=True, help="Wait until the operation ends, with a progress bar")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    help="With --wait: give up after S seconds (exit 3; the operation keeps running)",
)
@click.option(
    "--user",
    "user_name",
    metavar="NAME",
    help="Record the operation for this Linesman user (an operator of the device's "
    "organization) instead of the OS user; local database only",
)
@json_option
@remote_options
def op(
    backend,
    device: str,
    operation: str,
    image,
    wait: bool,
    timeout,
    user_name: str | None,
    as_json: bool,
) -> None:
    """Run OPERATION on DEVICE (id, serial number or name); `op cancel OP_ID` cancels one.

    Without --wait it returns once the operation is queued. With --wait it exits 0 when the
    operation completed, 1 when it failed, timed out or was cancelled, and 3 when --timeout
    ran out first. While an operation waits for the device (never seen, or not reachable
    until its next inform) it says so, with when the device is expected.
    """
    if user_name is not None and isinstance(backend, Remote):
        # A remote Linesman records the token's user; naming another would be a lie.
        raise click.UsageError("--user is for the local database; remotely the token acts")
    if user_name is not None and not user_name.strip():
        raise click.BadParameter("must name a user", param_hint="'--user'")
    extra = {"user_name": user_name} if user_name else {}
    if device == "cancel" and operation not in OPERATIONS:
        cancelled = backend.cancel_operation(operation, **extra)
        if as_json:
            _print_json(cancelled)
        else:
            why = f": {cancelled['error']}" if cancelled.get("error") else ""
            click.echo(f"{cancelled['operation_id']} cancelled{why}")
        return
    if operation not in OPERATIONS:
        raise click.BadParameter(
            f"{operation!r} is not one of {', '.join(OPERATIONS)}", param_hint="'OPERATION'"
        )
    if operation == "firmware" and not image:
        raise click.UsageError("firmware needs --image IMAGE (id or version)")
    if operation != "firmware" and image:
        raise click.UsageError("--image only goes with the firmware operation")
    started = backend.start_operation(device, operation, image, **extra)
    if not wait:
        if as_json:
            _print_json(started)
        else:
            waiting = waiting_text(started)
            click.echo(
                f"Queued {started['operation']} on device {started['device_id']} as "
                f"{started['operation_id']}" + (f"; {waiting}" if waiting else "")
            )
        return
    final = _wait(backend, started, timeout, show=not as_json)
    if as_json:
        _print_json(final)
    status = final["status"]
    if status == "completed":
        if not as_json:
            click.echo(f"{final['operation']} {final['operation_id']} completed")
        return
    if status not in FINAL_STATES:
        click.echo(
            f"Error: {final['operation_id']} is still {status} after {timeout:g} s", err=True
        )
        sys.exit(EXIT_STILL_RUNNING)
    why = f": {final['error']}" if final.get("error") else ""
    click.echo(f"Error: {final['operation']} {final['operation_id']} {status}{why}", err=True)
    sys.exit(1)
