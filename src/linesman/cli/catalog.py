"""`linesman types|locations|firmware`: the reference objects a fresh install needs first.

Each group lists, shows, creates and deletes, on the local database or a remote Linesman
(`--url/--token`, like `devices`). Locally the API's own serializers validate the input
and `inventory.services` writes it (with the audit trail), so the rules are the API's;
remotely the API is called. Objects are named by id or by their natural key: a type by
short name, a location by short name or name, a firmware image by version.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts")


@dataclass(frozen=True)
class Kind:
    """One reference resource: its API path, the key it is named by, its table columns."""

    path: str
    noun: str
    keys: tuple[str, ...]
    columns: tuple[str, ...]


TYPES = Kind(
    "inventory_type",
    "device type",
    ("short_name",),
    ("id", "short_name", "name", "manufacturer", "organization_id", "allow_basic_auth"),
)
LOCATIONS = Kind(
    "inventory_location",
    "location",
    ("short_name", "name"),
    ("id", "short_name", "name", "organization_id", "latitude", "longitude"),
)
FIRMWARE = Kind(
    "inventory_firmware_image",
    "firmware image",
    ("version",),
    ("id", "version", "device_type", "organization_id", "size", "checksum"),
)


class _Local:
    """The local database through the API's serializers and the inventory services."""

    def __init__(self) -> None:
        from linesman.cli.devices import Local

        self._devices = Local()  # sets Django up and checks the schema

    def organization_id(self, ref: str) -> int:
        return self._devices.organization_id(ref)

    def type_id(self, ref: str) -> int:
        return self._devices.type_id(ref)

    @staticmethod
    def _bindings(kind: Kind):
        from linesman.inventory.api import serializers
        from linesman.inventory.models import DeviceType, FirmwareImage, Location

        return {
            TYPES.path: (DeviceType, serializers.DeviceTypeSerializer),
            LOCATIONS.path: (Location, serializers.LocationSerializer),
            FIRMWARE.path: (FirmwareImage, serializers.FirmwareImageSerializer),
        }[kind.path]

    def list(self, kind: Kind, filters: dict[str, Any]) -> list[dict]:
        model, serializer = self._bindings(kind)
        rows = model.objects.filter(**{k: v for k, v in filters.items() if v is not None})
        return [serializer(row).data for row in rows.order_by("id")]

    def _find(self, kind: Kind, ref: str):
        model, _ = self._bindings(kind)
        found = model.objects.filter(pk=int(ref)).first() if _is_id(ref) else None
        for key in kind.keys:
            if found is not None:
                break
            matches = list(model.objects.filter(**{key: ref})[:2])
            if len(matches) > 1:
                raise click.ClickException(f"several {kind.noun}s have {key} {ref!r}; use the id")
            found = matches[0] if matches else None
        if found is None:
            raise click.ClickException(f"no {kind.noun} {ref!r}")
        return found

    def show(self, kind: Kind, ref: str) -> dict:
        _, serializer = self._bindings(kind)
        return serializer(self._find(kind, ref)).data

    def create(self, kind: Kind, data: dict[str, Any], upload: str | None = None) -> dict:
        from django.core.files import File
        from django.db import transaction

        from linesman.cli.remote import describe_error
        from linesman.inventory import services

        model, serializer_class = self._bindings(kind)
        handle = open(upload, "rb") if upload else None  # noqa: SIM115 - closed below
        try:
            if handle is not None:
                data = {**data, "file": File(handle, name=os.path.basename(upload))}
            serializer = serializer_class(data=data)
            if not serializer.is_valid():
                raise click.ClickException(describe_error(serializer.errors))
            values = dict(serializer.validated_data)
            if kind is FIRMWARE:
                values = services.firmware_image_values(values)
            with transaction.atomic():
                instance = services.save_reference(user=None, instance=model(), data=values)
            return serializer_class(instance).data
        finally:
            if handle is not None:
                handle.close()

    def delete(self, kind: Kind, ref: str) -> dict:
        from django.db.models import ProtectedError

        from linesman.inventory import services

        instance = self._find(kind, ref)
        shown = self.show(kind, str(instance.pk))
        try:
            services.delete_reference(user=None, instance=instance)
        except ProtectedError:
            raise click.ClickException(
                f"{kind.noun} {ref!r} is still in use (devices or images refer to it); "
                "remove or move them first"
            ) from None
        return shown


class _Remote:
    """A remote Linesman's REST API."""

    def __init__(self, url: str, token: str) -> None:
        from linesman.cli.devices import Remote

        self._devices = Remote(url, token)
        self.api = self._devices.api

    def organization_id(self, ref: str) -> int:
        return self._devices.organization_id(ref)

    def type_id(self, ref: str) -> int:
        return self._devices.type_id(ref)

    def list(self, kind: Kind, filters: dict[str, Any]) -> list[dict]:
        rows: list[dict] = []
        offset = 0
        while True:
            page = self.api.get(f"/{kind.path}/", limit=1000, offset=offset, **filters)
            rows += page["results"]
            offset += len(page["results"])
            if not page.get("next") or not page["results"]:
                return rows

    def _find(self, kind: Kind, ref: str) -> dict:
        from linesman.cli.remote import RemoteError

        if _is_id(ref):
            try:
                return self.api.get(f"/{kind.path}/{int(ref)}/")
            except RemoteError as exc:
                if exc.status != 404:
                    raise
        everything = self.list(kind, {})
        for key in kind.keys:
            matches = [row for row in everything if row.get(key) == ref]
            if len(matches) > 1:
                raise click.ClickException(f"several {kind.noun}s have {key} {ref!r}; use the id")
            if matches:
                return matches[0]
        raise click.ClickException(f"no {kind.noun} {ref!r}")

    def show(self, kind: Kind, ref: str) -> dict:
        return self._find(kind, ref)

    def create(self, kind: Kind, data: dict[str, Any], upload: str | None = None) -> dict:
        if upload is None:
            return self.api.post(f"/{kind.path}/", data)
        form = {k: str(v) for k, v in data.items() if v is not None}
        with open(upload, "rb") as handle:
            files = {"file": (os.path.basename(upload), handle, "application/octet-stream")}
            return self.api.request("POST", f"/{kind.path}/", data=form, files=files)

    def delete(self, kind: Kind, ref: str) -> dict:
        found = self._find(kind, ref)
        self.api.delete(f"/{kind.path}/{found['id']}/")
        return found


def _is_id(ref: str) -> bool:
    # ASCII digits only: "²".isdigit() is true, and int() of it fails.
    return ref.isascii() and ref.isdigit() and len(ref) <= 18


def _backend(command: Callable) -> Callable:
    @click.option("--url", envvar="LINESMAN_URL", metavar="URL", help="A remote Linesman")
    @click.option("--token", envvar="LINESMAN_TOKEN", metavar="TOKEN", help="API token")
    @functools.wraps(command)
    def wrapper(*args, url: str | None, token: str | None, **kwargs):
        if url and not token:
            raise click.UsageError("--url needs --token (or LINESMAN_TOKEN)")
        backend = _Remote(url, token) if url else _Local()
        return command(*args, backend=backend, **kwargs)

    return wrapper


def _print(rows: list[dict], kind: Kind, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        click.echo(f"No {kind.noun}s.")
        return
    cells = [list(kind.columns)] + [
        ["" if row.get(c) is None else str(row.get(c)) for c in kind.columns] for row in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(kind.columns))]
    for line in cells:
        click.echo(
            "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        )


def _print_one(row: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(row, indent=2, default=str))
        return
    width = max(len(key) for key in row)
    for key, value in row.items():
        shown = json.dumps(value) if isinstance(value, dict | list) else value
        click.echo(f"{key.ljust(width)}  {'' if shown is None else shown}")


def _group(kind: Kind, name: str, help_text: str) -> click.Group:
    @click.group(name=name, help=help_text)
    def group() -> None:
        pass

    @group.command("show")
    @click.argument("ref")
    @json_option
    @_backend
    def show(backend, ref: str, as_json: bool) -> None:
        """Show one, by id or name."""
        _print_one(backend.show(kind, ref), as_json)

    @group.command("delete")
    @click.argument("ref")
    @json_option
    @_backend
    def delete(backend, ref: str, as_json: bool) -> None:
        """Delete one, by id or name (refused while anything refers to it)."""
        gone = backend.delete(kind, ref)
        if as_json:
            click.echo(json.dumps(gone, indent=2, default=str))
        else:
            click.echo(f"Deleted {kind.noun} {ref} (id {gone['id']})")

    return group


types = _group(TYPES, "types", "Device types: profiles with a TR-069 settings template.")
locations = _group(LOCATIONS, "locations", "Locations of an organization.")
firmware = _group(FIRMWARE, "firmware", "Firmware images devices can be upgraded to.")


def _org_filter(backend, org_ref: str | None) -> dict[str, Any]:
    return {"organization_id": backend.organization_id(org_ref)} if org_ref else {}


@types.command("list")
@click.option("--org", "org_ref", metavar="ORG", help="Only this organization's (id or name)")
@json_option
@_backend
def types_list(backend, org_ref: str | None, as_json: bool) -> None:
    """List device types."""
    _print(backend.list(TYPES, _org_filter(backend, org_ref)), TYPES, as_json)


@types.command("create")
@click.argument("short_name")
@click.option("--name", required=True, help="Display name")
@click.option("--manufacturer", default="")
@click.option("--product-class", default="", help="ProductClass the devices report")
@click.option("--org", "org_ref", metavar="ORG", help="Owning organization (default: shared)")
@click.option("--allow-basic-auth", is_flag=True, help="Devices may use HTTP Basic to inform")
@json_option
@_backend
def types_create(
    backend, short_name, name, manufacturer, product_class, org_ref, allow_basic_auth, as_json
) -> None:
    """Create a device type (shared by every organization unless --org is given)."""
    data = {
        "short_name": short_name,
        "name": name,
        "manufacturer": manufacturer,
        "product_class": product_class,
        "allow_basic_auth": allow_basic_auth,
        "organization_id": backend.organization_id(org_ref) if org_ref else None,
    }
    created = backend.create(TYPES, data)
    if as_json:
        _print_one(created, True)
    else:
        click.echo(f"Created device type {created['short_name']} (id {created['id']})")


@locations.command("list")
@click.option("--org", "org_ref", metavar="ORG", help="Only this organization's (id or name)")
@json_option
@_backend
def locations_list(backend, org_ref: str | None, as_json: bool) -> None:
    """List locations."""
    _print(backend.list(LOCATIONS, _org_filter(backend, org_ref)), LOCATIONS, as_json)


@locations.command("create")
@click.argument("name")
@click.option("--org", "org_ref", required=True, metavar="ORG", help="Organization (id or name)")
@click.option("--short-name", help="A short key (default: the name, slugified)")
@click.option("--latitude", help="Decimal degrees, -90 to 90")
@click.option("--longitude", help="Decimal degrees, -180 to 180")
@json_option
@_backend
def locations_create(backend, name, org_ref, short_name, latitude, longitude, as_json) -> None:
    """Create a location in an organization."""
    from django.utils.text import slugify

    data = {
        "name": name,
        "short_name": short_name or slugify(name).replace("-", "_") or "location",
        "organization_id": backend.organization_id(org_ref),
        "latitude": latitude,
        "longitude": longitude,
    }
    created = backend.create(LOCATIONS, {k: v for k, v in data.items() if v is not None})
    if as_json:
        _print_one(created, True)
    else:
        click.echo(f"Created location {created['name']} (id {created['id']})")


@firmware.command("list")
@click.option("--type", "type_ref", metavar="TYPE", help="Only images of this device type")
@json_option
@_backend
def firmware_list(backend, type_ref: str | None, as_json: bool) -> None:
    """List firmware images."""
    filters = {"device_type": backend.type_id(type_ref)} if type_ref else {}
    _print(backend.list(FIRMWARE, filters), FIRMWARE, as_json)


@firmware.command("create")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--type", "type_ref", required=True, metavar="TYPE", help="Device type it is for")
@click.option("--version", "version", required=True, help="The version devices report after it")
@click.option("--description", default="")
@json_option
@_backend
def firmware_create(backend, file, type_ref, version, description, as_json) -> None:
    """Upload a firmware image file for a device type."""
    data = {"device_type": backend.type_id(type_ref), "version": version}
    if description:
        data["description"] = description
    created = backend.create(FIRMWARE, data, upload=file)
    if as_json:
        _print_one(created, True)
    else:
        click.echo(
            f"Created firmware image {created['version']} (id {created['id']}, "
            f"{created['size']} bytes, sha256 {created['checksum'][:12]}...)"
        )
