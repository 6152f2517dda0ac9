"""``linesman simulate``: run a fleet of simulated CWMP devices against an ACS.

Shows live progress (devices bootstrapped, sessions, errors) and a summary on exit; Ctrl-C
stops cleanly. ``--csv`` prints the fleet's inventory CSV instead of running it, and
``--register`` creates the devices through Linesman's API before starting them.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import logging
import signal
import sys
import time
from typing import Any

import click
from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn
from rich.table import Table

from linesman.cli.remote import RemoteClient
from linesman.simulator.fleet import (
    FLAVOURS,
    Fleet,
    FleetStats,
    device_record,
    register_via_api,
)


def _stats_table(stats: FleetStats, elapsed: float) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(justify="right")
    rate = stats.sessions_ok / elapsed if elapsed > 0 else 0.0
    rows = [
        ("devices", f"{stats.devices} ({stats.online} online, {stats.in_session} in session)"),
        ("bootstrapped", str(stats.bootstrapped)),
        ("sessions ok", f"{stats.sessions_ok} ({rate:.1f}/s)"),
        ("sessions failed", str(stats.sessions_failed)),
        ("RPCs answered", str(stats.rpcs)),
        ("connection requests", str(stats.connection_requests)),
        ("reboots / factory resets", f"{stats.reboots} / {stats.factory_resets}"),
        ("downloads", str(stats.downloads)),
    ]
    if stats.errors:
        rows.append(("errors", ", ".join(f"{k}: {v}" for k, v in sorted(stats.errors.items()))))
    if stats.last_errors:
        rows.append(("last error", stats.last_errors[-1][:100]))
    for name, value in rows:
        table.add_row(name, value)
    return table


async def _run(
    fleet: Fleet,
    *,
    duration: float | None,
    register: dict[str, Any] | None,
    console: Console,
    live: bool,
) -> FleetStats:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    if register is not None:
        with Progress(
            TextColumn("registering"),
            BarColumn(),
            TaskProgressColumn(),
            console=console,
            disable=not live,
        ) as progress:
            task = progress.add_task("register", total=len(fleet))
            result = await register_via_api(
                register["api"],
                register["token"],
                fleet,
                register["type"],
                register["org"],
                progress=lambda done, _total: progress.update(task, completed=done),
            )
        if result.failed and not result.created:
            # Nothing to simulate against: say why in one line and fail (exit 1), rather
            # than running a fleet the ACS will refuse.
            serial, why = result.failed[0]
            raise click.ClickException(
                f"registered none of {len(fleet)} devices ({serial}: {why.splitlines()[0]})"
            )
        console.print(f"registered {result.created} of {len(fleet)} devices")
        for serial, why in result.failed[:5]:
            console.print(f"  [yellow]{serial}[/]: {why}")
        if len(result.failed) > 5:
            console.print(f"  ... and {len(result.failed) - 5} more failures")

    await fleet.start()
    assert fleet.connreq is not None
    console.print(
        f"{len(fleet)} devices -> {fleet.acs_url}; connection requests on "
        f"http://127.0.0.1:{fleet.connreq.port}/<serial>"
    )
    started = time.monotonic()
    deadline = started + duration if duration else None
    progress = Progress(
        TextColumn("bootstrapped"), BarColumn(), TaskProgressColumn(), console=console
    )
    boot_task = progress.add_task("bootstrapped", total=len(fleet) or 1)
    last_line = started

    def render() -> Group:
        stats = fleet.stats()
        progress.update(boot_task, completed=stats.bootstrapped)
        return Group(progress, _stats_table(stats, time.monotonic() - started))

    try:
        display = (
            Live(render(), console=console, refresh_per_second=4, auto_refresh=False)
            if live
            else None
        )
        with display or contextlib.nullcontext():
            while not stop.is_set():
                timeout = 0.5
                if deadline is not None:
                    timeout = min(timeout, deadline - time.monotonic())
                    if timeout <= 0:
                        break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout)
                if display is not None:
                    display.update(render(), refresh=True)
                elif time.monotonic() - last_line >= 10:
                    # No terminal (CI, a log file): a plain line now and then instead.
                    last_line = time.monotonic()
                    s = fleet.stats()
                    console.print(
                        f"bootstrapped {s.bootstrapped}/{s.devices} sessions ok "
                        f"{s.sessions_ok} failed {s.sessions_failed}"
                    )
    finally:
        await fleet.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    return fleet.stats()


def _resolve(api_url: str, token: str, type_ref: str, org_ref: str) -> dict[str, int]:
    """The ids of --type and --org (ids or names) on the server; one line if either is unknown."""
    client = RemoteClient(api_url, token)
    try:
        return {"type": client.type_id(type_ref), "org": client.organization_id(org_ref)}
    finally:
        client.close()


def import_csv(fleet: Fleet, type_ref: str, org_ref: str) -> str:
    """The fleet as `linesman devices import` reads it: type and organization on every row.

    `type` and `organization_id` are written as given (an id or a name): the import
    resolves either.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = ["name", "serial_number", "type", "organization_id"]
    columns += ["username", "password", "update_frequency"]
    writer.writerow(columns)
    for device in fleet.devices:
        record = device_record(device, type_ref, org_ref)
        writer.writerow([record[c] for c in columns])
    return out.getvalue()


@click.command("simulate")
@click.option("--acs", "acs_url", metavar="URL", help="The ACS URL devices inform to.")
@click.option(
    "--devices",
    "count",
    type=click.IntRange(0, 1_000_000),
    default=1,
    show_default=True,
    help="Number of devices.",
)
@click.option("--serial-prefix", default="SIM", show_default=True)
@click.option(
    "--start-index",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="Index of the first device (serial = prefix + 6-digit index).",
)
@click.option("--flavour", type=click.Choice(FLAVOURS), default="tr181", show_default=True)
@click.option(
    "--interval",
    type=click.IntRange(1),
    default=300,
    show_default=True,
    help="Factory PeriodicInformInterval, seconds.",
)
@click.option(
    "--connreq-port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port of the shared connection-request listener on 127.0.0.1 (0: any).",
)
@click.option(
    "--username",
    default="{serial}",
    show_default=True,
    help="ACS username template ({serial}, {index}).",
)
@click.option(
    "--password",
    default="{serial}-secret",
    show_default=True,
    help="ACS password template ({serial}, {index}).",
)
@click.option(
    "--auth",
    "auth_mode",
    type=click.Choice(["auto", "basic-preemptive", "none"]),
    default="auto",
    show_default=True,
    help="auto answers the ACS's Digest or Basic challenge.",
)
@click.option(
    "--max-sessions",
    type=click.IntRange(1),
    default=32,
    show_default=True,
    help="Sessions in flight at once across the fleet.",
)
@click.option(
    "--ramp",
    type=click.FloatRange(0),
    default=0.0,
    show_default=True,
    help="Spread power-on over this many seconds.",
)
@click.option(
    "--reboot-delay",
    type=click.FloatRange(0),
    default=2.0,
    show_default=True,
    help="Seconds a rebooting device stays offline.",
)
@click.option("--register", is_flag=True, help="Create the devices via the API first.")
@click.option("--api", "api_url", metavar="URL", help="Linesman API base URL for --register.")
@click.option("--token", help="API token for --register.")
@click.option(
    "--type",
    "device_type",
    metavar="TYPE",
    help="Device type (id or short name) for --register and --csv.",
)
@click.option("--org", metavar="ORG", help="Organization (id or name) for --register and --csv.")
@click.option(
    "--csv",
    "as_csv",
    is_flag=True,
    help="Print the fleet as a CSV for `linesman devices import` and exit.",
)
@click.option(
    "--duration",
    type=click.FloatRange(0, min_open=True),
    metavar="SECONDS",
    help="Stop after this long (default: until Ctrl-C).",
)
@click.option("-v", "--verbose", count=True, help="Log more (repeat for debug).")
def simulate(
    acs_url: str | None,
    count: int,
    serial_prefix: str,
    start_index: int,
    flavour: str,
    interval: int,
    connreq_port: int,
    username: str,
    password: str,
    auth_mode: str,
    max_sessions: int,
    ramp: float,
    reboot_delay: float,
    register: bool,
    api_url: str | None,
    token: str | None,
    device_type: str | None,
    org: str | None,
    as_csv: bool,
    duration: float | None,
    verbose: int,
) -> None:
    """Simulate CWMP home gateways (TR-181 or TR-098) against an ACS."""
    logging.basicConfig(
        level=(logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not as_csv and not acs_url:
        raise click.UsageError("--acs is required (unless --csv)")
    registration = None
    if register:
        missing = [
            n
            for n, v in (
                ("--api", api_url),
                ("--token", token),
                ("--type", device_type),
                ("--org", org),
            )
            if not v
        ]
        if missing:
            raise click.UsageError(f"--register needs {', '.join(missing)}")
        registration = {
            "api": api_url,
            "token": token,
            **_resolve(api_url, token, device_type, org),
        }
    for template in (username, password):
        try:
            template.format(serial="S", index=1)
        except (KeyError, IndexError, ValueError) as exc:
            raise click.BadParameter(f"bad template {template!r}: {exc}") from None
    fleet = Fleet(
        acs_url or "http://127.0.0.1/",
        count,
        serial_prefix=serial_prefix,
        first_index=start_index,
        flavour=flavour,
        username=username,
        password=password,
        periodic_interval=interval,
        connreq_port=connreq_port,
        auth_mode=auth_mode.replace("-", "_"),
        max_sessions=max_sessions,
        ramp=ramp,
        reboot_delay=reboot_delay,
    )
    if as_csv:
        click.echo(import_csv(fleet, device_type or "", org or ""), nl=False)
        if not (device_type and org):
            click.echo("note: `linesman devices import` needs --type and --org here", err=True)
        return
    console = Console(stderr=True)
    try:
        stats = asyncio.run(
            _run(
                fleet,
                duration=duration,
                register=registration,
                console=console,  # type: ignore[arg-type]
                live=console.is_terminal,
            )
        )
    except OSError as exc:
        raise click.ClickException(str(exc)) from None
    console.print("[bold]summary[/]")
    started = fleet.started_at or time.monotonic()
    console.print(_stats_table(stats, time.monotonic() - started))
    sys.stdout.flush()
