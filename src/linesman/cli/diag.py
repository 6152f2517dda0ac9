"""`linesman diag DEVICE KIND [TARGET]`: run a diagnostic on a device from a shell.

`linesman diag gw-17 ping 8.8.8.8 --wait` pings from the device and prints its RTT and
loss; `traceroute HOST`, `download [URL]`, `upload [URL]`, `udpecho HOST --param port=7`,
`nslookup NAME` and `wifi` work alike. Works on the local database (the same services as
the API) or, with `--url URL --token T` (LINESMAN_URL / LINESMAN_TOKEN), on a remote
Linesman through `inventory_device_diags/`. `--json` prints the API's diagnostic object.

Exit codes: 0 completed; 1 failed, timed out or cancelled (or refused: one line on stderr);
2 usage errors; 3 `--wait --timeout` gave up while the diagnostic was still running.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any
from urllib.parse import quote

import click

from linesman.core.textcheck import parse_id

POLL_INTERVAL = 0.5
EXIT_STILL_RUNNING = 3
FINAL_STATES = ("completed", "failed", "timed_out", "cancelled")

#: Command-line name -> (API diagnostic, the parameter TARGET fills).
KINDS: dict[str, tuple[str, str | None]] = {
    "ping": ("ipping", "host"),
    "traceroute": ("traceroute", "host"),
    "download": ("download", "download_url"),
    "upload": ("upload", "upload_url"),
    "udpecho": ("udpecho", "host"),
    "nslookup": ("nslookup", "host_name"),
    "wifi": ("wifi_neighbor", None),
}


def _sleep(seconds: float) -> None:  # a seam for tests
    time.sleep(seconds)


class _Local:
    """The local database, through the diagnostics service the API uses."""

    def __init__(self) -> None:
        import django
        from django.db import connection
        from django.db.utils import OperationalError

        from linesman.conf import ConfigError

        try:
            django.setup()
            connection.ensure_connection()
        except ConfigError as exc:
            raise click.ClickException(f"configuration error: {exc}") from None
        except OperationalError as exc:
            raise click.ClickException(f"database unreachable: {exc}") from None

    @staticmethod
    def _device(ref: str):
        from linesman.inventory.models import Device

        found = Device.objects.filter(pk=int(ref)).first() if parse_id(ref) is not None else None
        found = found or Device.objects.filter(serial_number=ref).first()
        if found is None:
            named = list(Device.objects.filter(name=ref)[:2])
            if len(named) > 1:
                raise click.ClickException(f"several devices are named {ref!r}; use the id")
            found = named[0] if named else None
        if found is None:
            raise click.ClickException(f"no device with id, serial number or name {ref!r}")
        return found

    def start(self, ref: str, kind: str, parameters: dict[str, Any]) -> dict:
        from linesman.diagnostics import services
        from linesman.diagnostics.api.serializers import DiagnosticSerializer
        from linesman.operations.services import OperationError

        device = self._device(ref)
        try:
            op = services.start(device=device, name=kind, parameters=parameters)
        except services.DiagnosticInputError as exc:
            raise click.ClickException(str(exc)) from None
        except OperationError as exc:
            raise click.ClickException(str(exc)) from None
        return DiagnosticSerializer.of(op)

    def get(self, diag: dict) -> dict:
        from linesman.diagnostics.api.serializers import DiagnosticSerializer
        from linesman.operations.models import Operation

        op = Operation.objects.select_related("device").get(pk=diag["id"])
        return DiagnosticSerializer.of(op)


class _Remote:
    """A remote Linesman through its REST API."""

    def __init__(self, url: str, token: str) -> None:
        from linesman.cli.remote import RemoteClient

        self.api = RemoteClient(url, token)

    def start(self, ref: str, kind: str, parameters: dict[str, Any]) -> dict:
        from linesman.cli.remote import RemoteError

        body = {"operation": kind, "parameters": parameters}
        if parse_id(ref) is not None:
            try:
                return self.api.post("/inventory_device_diags/", {"device": int(ref), **body})
            except RemoteError as exc:
                if exc.status != 404:
                    raise
        for twin, key in (("serial", "serial_number"), ("name", "name")):
            try:
                return self.api.post(f"/inventory_device_{twin}_diags/", {key: ref, **body})
            except RemoteError as exc:
                if exc.status == 409 and "Several devices" in str(exc):
                    raise click.ClickException(
                        f"several devices are named {ref!r}; use the id"
                    ) from None
                if exc.status != 404:
                    raise
        raise click.ClickException(f"no device with id, serial number or name {ref!r}")

    def get(self, diag: dict) -> dict:
        found = self.api.get("/inventory_device_diags/", id=quote(str(diag["id"])))["results"]
        if not found:
            raise click.ClickException(f"diagnostic {diag['operation_id']} is gone")
        return found[0]


def _parameters(kind: str, target: str | None, pairs: tuple[str, ...]) -> dict[str, Any]:
    name, slot = KINDS[kind]
    parameters: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="'--param'")
        parameters[key.strip()] = value
    if target is not None:
        if slot is None:
            raise click.UsageError(f"{kind} takes no TARGET")
        parameters[slot] = target
    return parameters


def describe(diag: dict) -> list[str]:
    """The results in a few lines for people."""
    results = diag.get("results") or {}
    kind = diag.get("operation")
    if kind in ("ipping", "udpecho") and results:
        where = results.get("host", "")
        if not results.get("reachable"):
            return [f"{where}: unreachable, {results['sent']} sent, 0 received, 100% loss"]
        return [
            f"{where}: reachable, {results['sent']} sent, {results['received']} received, "
            f"{results['loss_percent']:g}% loss",
            f"rtt min/avg/max = {results['rtt_min_ms']}/{results['rtt_avg_ms']}/"
            f"{results['rtt_max_ms']} ms",
        ]
    if kind == "traceroute" and results:
        return [
            f"{n:>2}  {hop['address'] or '*'}  {' '.join(f'{t} ms' for t in hop['rtt_ms'])}"
            for n, hop in enumerate(results.get("hops", []), 1)
        ]
    if kind in ("download", "upload") and results:
        rate = results.get("throughput_kbps")
        return [
            f"{results.get('bytes')} bytes in {results.get('seconds')} s"
            + (f" ({rate:g} kbit/s)" if rate is not None else "")
        ]
    if kind == "nslookup" and results:
        return [
            f"{a['status']}: {a['host_name'] or '-'} {' '.join(a['addresses'])}"
            for a in results.get("answers", [])
        ]
    if kind == "wifi_neighbor" and results:
        return [
            f"{n['ssid']:<20} {n['bssid']}  ch {n['channel']:<3} {n['signal_dbm']} dBm {n['band']}"
            for n in results.get("neighbours", [])
        ]
    return [json.dumps(results)] if results else []


@click.command("diag")
@click.argument("device")
@click.argument("kind", type=click.Choice(list(KINDS)))
@click.argument("target", required=False)
@click.option("--param", "pairs", multiple=True, metavar="NAME=VALUE", help="More inputs")
@click.option("--wait", is_flag=True, help="Wait for the results and print them")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    help="With --wait: give up after S seconds (exit 3; the diagnostic keeps running)",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts")
@click.option("--url", envvar="LINESMAN_URL", metavar="URL", help="A remote Linesman")
@click.option("--token", envvar="LINESMAN_TOKEN", metavar="TOKEN", help="API token for --url")
def diag(
    device: str,
    kind: str,
    target: str | None,
    pairs: tuple[str, ...],
    wait: bool,
    timeout: float | None,
    as_json: bool,
    url: str | None,
    token: str | None,
) -> None:
    """Run diagnostic KIND on DEVICE (id, serial number or name).

    TARGET is the host (ping, traceroute, udpecho), the name (nslookup) or the URL (download,
    upload; default: this server's speed-test file). Inputs beyond it go in --param, e.g.
    `--param number_of_repetitions=10`.
    """
    if url and not token:
        raise click.UsageError("--url needs --token (or LINESMAN_TOKEN)")
    name, slot = KINDS[kind]
    if target is None and slot in ("host", "host_name"):
        raise click.UsageError(f"{kind} needs a TARGET ({slot})")
    parameters = _parameters(kind, target, pairs)
    backend = _Remote(url, token) if url else _Local()
    started = backend.start(device, name, parameters)
    if not wait:
        if as_json:
            click.echo(json.dumps(started, indent=2))
        else:
            click.echo(
                f"Queued {kind} on device {started['device_id']} as {started['operation_id']}"
            )
        return
    began = time.monotonic()
    current = started
    while current["status"] not in FINAL_STATES:
        if timeout is not None and time.monotonic() - began >= timeout:
            break
        _sleep(POLL_INTERVAL)
        current = backend.get(current)
    if as_json:
        click.echo(json.dumps(current, indent=2))
    else:
        for line in describe(current):
            click.echo(line)
    status = current["status"]
    if status == "completed":
        return
    if status not in FINAL_STATES:
        click.echo(
            f"Error: {current['operation_id']} is still {status} after {timeout:g} s", err=True
        )
        sys.exit(EXIT_STILL_RUNNING)
    why = f": {current['error']}" if current.get("error") else ""
    click.echo(f"Error: {kind} {current['operation_id']} {status}{why}", err=True)
    sys.exit(1)
