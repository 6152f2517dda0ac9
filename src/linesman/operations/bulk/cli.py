"""`linesman jobs`: create, list, show (with a live progress bar) and cancel bulk jobs.

Works on the local database like the other commands, through the same service and
validation as the API; `--json` prints exactly what the API would answer. Without `--user`
the CLI acts with every permission (whoever runs it owns the database); with `--user NAME`
it acts as that user, with their roles.
"""

from __future__ import annotations

import json
import time
from typing import Any

import click

from linesman.core.textcheck import parse_id


def _setup() -> None:
    from linesman.cli import _check_database
    from linesman.cli import _setup as setup

    setup()
    _check_database()


def _actor(username: str | None):
    """(access, user) to act with: a named user's, or the local system's."""
    from linesman.operations.bulk.services import SystemAccess

    if not username:
        return SystemAccess(), None
    from django.contrib.auth import get_user_model

    from linesman.tenancy.services import Access

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    return Access(user), user


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def _variable(text: str) -> dict[str, Any]:
    """NAME, NAME=VALUE or NAME:TYPE=VALUE (a parameter path has no ':' or '=')."""
    name, sep, value = text.partition("=")
    name, _, vtype = name.partition(":")
    item: dict[str, Any] = {"variable_name": name.strip()}
    if sep:
        item["value"] = value
    if vtype:
        item["type"] = vtype.strip()
    return item


def _number_or_text(value: str) -> int | str:
    return int(value) if parse_id(value) is not None else value


@click.group()
def jobs() -> None:
    """Bulk jobs: scheduled operations over many devices."""


@jobs.command("create")
@click.option("--type", "operation_type", required=False, help="Operation type, e.g. reboot")
@click.option("--org", "orgs", multiple=True, type=int, help="Target organization id (repeat)")
@click.option("--device-type", "device_types", multiple=True, help="Type id or short name")
@click.option("--status", "statuses", multiple=True, help="active, inactive, pending, up, down")
@click.option("--serial", "serials", multiple=True, help="A device's serial number (repeat)")
@click.option("--device-id", "device_ids", multiple=True, type=int, help="A device id (repeat)")
@click.option("--name", "names", multiple=True, help="A device name (repeat)")
@click.option("--location", "locations", multiple=True, help="Location id or short name")
@click.option("--execute-at", help="ISO 8601 start time (default: now)")
@click.option("--priority", type=click.Choice(["low", "normal", "high"]))
@click.option("--timeout-minutes", type=float, help="Give up on a device after this long")
@click.option("--max-concurrency", type=int, help="Devices in flight at once (default 50)")
@click.option("--validate-connectivity", is_flag=True, default=None, help="Fail unreachable fast")
@click.option("--update-firmware-info/--no-update-firmware-info", default=None)
@click.option("--variable", "variables", multiple=True, help="NAME, NAME=VALUE, NAME:TYPE=VALUE")
@click.option("--firmware-image", type=int, help="Firmware image id (firmware_upgrade)")
@click.option("--body", type=click.File("r"), help="A JSON request body (as POSTed), - for stdin")
@click.option("--user", "username", help="Act as this user (default: with every permission)")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON")
def create(**kw) -> None:
    """Create a job, as POST inventory_device_serial_headless_operation/ would."""
    _setup()
    from linesman.operations.bulk import services as bulk
    from linesman.operations.bulk import spec as bulk_spec
    from linesman.operations.bulk.api.serializers import created

    body: dict[str, Any] = json.load(kw["body"]) if kw["body"] else {}
    if kw["operation_type"]:
        body["operation_type"] = kw["operation_type"]
    if kw["orgs"]:
        body["target_organizations"] = list(kw["orgs"])
    filters = dict(body.get("device_filters") or {})
    for option, key, convert in (
        ("device_types", "types", _number_or_text),
        ("statuses", "status", str),
        ("serials", "serial_numbers", str),
        ("device_ids", "device_ids", int),
        ("names", "names", str),
        ("locations", "locations", _number_or_text),
    ):
        if kw[option]:
            filters[key] = [convert(v) for v in kw[option]]
    if filters:
        body["device_filters"] = filters
    schedule = dict(body.get("schedule") or {})
    if kw["execute_at"]:
        schedule["execute_at"] = kw["execute_at"]
    if kw["priority"]:
        schedule["priority"] = kw["priority"]
    if schedule:
        body["schedule"] = schedule
    options = dict(body.get("options") or {})
    for key in (
        "timeout_minutes",
        "max_concurrency",
        "validate_connectivity",
        "update_firmware_info",
    ):
        if kw[key] is not None:
            options[key] = kw[key]
    if options:
        body["options"] = options
    if kw["variables"]:
        body["variables"] = [_variable(v) for v in kw["variables"]]
    if kw["firmware_image"] is not None:
        body["firmware_image"] = kw["firmware_image"]

    access, user = _actor(kw["username"])
    try:
        spec = bulk_spec.parse(body, access=access)
    except bulk_spec.SpecError as exc:
        lines = [f"  {key}: {'; '.join(msgs)}" for key, msgs in exc.errors.items()]
        raise click.ClickException("the job was not created:\n" + "\n".join(lines)) from None
    job = bulk.create_job(spec, user=user)
    data = created(job)
    if kw["as_json"]:
        _print_json(data)
        return
    click.echo(
        f"Created job {data['id']}: {job.operation_type} on {job.total_devices} devices, "
        f"scheduled for {data['scheduled_for']} (about {job.estimated_duration_minutes} min).\n"
        f"Follow it with: linesman jobs show {data['id']} --follow"
    )


def _visible(username: str | None):
    from linesman.operations.bulk import services as bulk

    access, _user = _actor(username)
    return bulk.visible_jobs(access).prefetch_related("organizations")


def _find(job_id: int, username: str | None):
    job = _visible(username).filter(pk=job_id).first()
    if job is None:
        raise click.ClickException(f"no job {job_id}")
    return job


@jobs.command("list")
@click.option("--status", help="Only jobs in this status")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--user", "username", help="Only jobs this user can see")
@click.option("--json", "as_json", is_flag=True)
def list_jobs(status: str | None, limit: int, username: str | None, as_json: bool) -> None:
    """The most recent jobs, newest first."""
    _setup()
    from linesman.operations.bulk.api.serializers import job_item

    found = _visible(username).order_by("-id")
    if status:
        found = found.filter(status=status)
    items = [job_item(j) for j in found[:limit]]
    if as_json:
        _print_json(items)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "type", "status", "progress", "devices", "failed", "scheduled for")
    for item in items:
        table.add_row(
            item["id"],
            item["operation_type"],
            item["status"],
            f"{item['progress']}%",
            str(item["total_devices"]),
            str(item["failed_devices"]),
            item["scheduled_for"] or "",
        )
    Console().print(table)


def _describe(item: dict[str, Any]) -> str:
    lines = [
        f"Job {item['id']}: {item['operation_type']}  {item['status']}  {item['progress']}%",
        f"  devices    {item['total_devices']} total, {item['succeeded_devices']} succeeded, "
        f"{item['failed_devices']} failed, {item['running_devices']} running, "
        f"{item['pending_devices']} pending, {item['skipped_devices']} skipped",
        f"  scheduled  {item['scheduled_for']}   started {item['started_at'] or '-'}   "
        f"ended {item['completed_at'] or '-'}",
        f"  estimate   {item['estimated_completion'] or '-'}   concurrency "
        f"{item['peak_concurrency']}/{item['max_concurrency']}",
    ]
    summary = item["operation_details"]["error_summary"]
    if summary:
        lines.append("  errors     " + ", ".join(f"{k}: {v}" for k, v in summary.items()))
    return "\n".join(lines)


def _follow(job_id: int, username: str | None, interval: float, to_stderr: bool) -> dict[str, Any]:
    """A live progress bar until the job ends; returns the final job."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from linesman.operations.bulk.api.serializers import job_item
    from linesman.operations.bulk.models import FINAL_JOB_STATES

    job = _find(job_id, username)
    columns = (
        TextColumn("[bold]job {task.fields[job]}[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("failed {task.fields[failed]}  running {task.fields[running]}"),
    )
    # With --json the bar goes to stderr, so stdout carries the JSON alone.
    with Progress(*columns, console=Console(stderr=to_stderr), transient=False) as bar:
        task = bar.add_task(job.status, total=job.total_devices, job=job.pk, failed=0, running=0)
        while True:
            job = _find(job_id, username)
            bar.update(
                task,
                completed=job.processed_devices + job.skipped_devices,
                description=job.status,
                failed=job.failed_devices,
                running=job.running_devices,
            )
            if job.status in FINAL_JOB_STATES and not job.running_devices:
                break
            time.sleep(interval)
    return job_item(job)


@jobs.command("show")
@click.argument("job_id", type=int)
@click.option("--follow", is_flag=True, help="Show a live progress bar until the job ends")
@click.option("--interval", type=float, default=1.0, show_default=True, help="Seconds between")
@click.option("--devices", "with_devices", is_flag=True, help="Also list per-device results")
@click.option("--user", "username", help="As this user")
@click.option("--json", "as_json", is_flag=True)
def show(
    job_id: int,
    follow: bool,
    interval: float,
    with_devices: bool,
    username: str | None,
    as_json: bool,
) -> None:
    """One job: status, counters and errors by cause."""
    _setup()
    from linesman.operations.bulk.api.serializers import job_item, target_item

    item = (
        _follow(job_id, username, interval, as_json)
        if follow
        else job_item(_find(job_id, username))
    )
    devices = []
    if with_devices:
        job = _find(job_id, username)
        devices = [target_item(t) for t in job.targets.select_related("operation").order_by("id")]
    if as_json:
        _print_json({**item, "devices": devices} if with_devices else item)
        return
    click.echo(_describe(item))
    for row in devices:
        outcome = row["state"] + (f" ({row['cause']})" if row["cause"] else "")
        click.echo(f"  {row['serial_number']:<24} {outcome}")


@jobs.command("cancel")
@click.argument("job_id", type=int)
@click.option("--user", "username", help="As this user")
@click.option("--json", "as_json", is_flag=True)
def cancel(job_id: int, username: str | None, as_json: bool) -> None:
    """Cancel a job: nothing new starts; its running device operations end cancelled."""
    _setup()
    from linesman.operations.bulk import services as bulk
    from linesman.operations.bulk.api.serializers import job_item

    job = _find(job_id, username)
    access, user = _actor(username)
    if not bulk.may_cancel(access, job):
        raise click.ClickException("cancelling needs the operator role in the job's organizations")
    try:
        bulk.cancel_job(job.pk, user=user)
    except bulk.JobFinished as exc:
        raise click.ClickException(str(exc)) from None
    item = job_item(_find(job_id, username))
    if as_json:
        _print_json(item)
        return
    click.echo(
        f"Cancelled job {job_id}: {item['skipped_devices']} devices skipped, "
        f"{item['running_devices']} still running."
    )
