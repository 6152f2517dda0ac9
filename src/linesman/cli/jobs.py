"""`linesman jobs`: create, list, show (with a live progress bar) and cancel bulk jobs.

Works on the local database like the other commands, through the same service and
validation as the API, or on a remote Linesman through its API with `--url/--token`
(`LINESMAN_URL`/`LINESMAN_TOKEN`); `--json` prints exactly what the API answers. Locally,
without `--user` the CLI acts with every permission (whoever runs it owns the database);
with `--user NAME` it acts as that user, with their roles. Remotely the token says who acts.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click

from linesman.core.textcheck import parse_id


def _setup() -> None:
    from linesman.cli.setup import check_database as _check_database
    from linesman.cli.setup import setup

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


# The words of `--help`, spelled out here because Django's models cannot be imported before
# the settings are loaded (a test checks they match BulkOperationType/BulkJobStatus).
OPERATION_TYPES = (
    "reboot",
    "factory",
    "device_factory",
    "sync",
    "reconf",
    "firmware_upgrade",
    "get",
    "set",
    "add.obj",
    "del.obj",
    "get.attr",
    "set.attr",
    "bulk_serial_sync",
    "status_refresh",
    "inventory_audit",
)
#: Other names of an operation type: `linesman op` and the device page say `firmware`.
OPERATION_ALIASES = {"firmware": "firmware_upgrade"}
JOB_STATUSES = (
    "scheduled",
    "in_progress",
    "completed",
    "completed_with_errors",
    "failed",
    "cancelled",
)
FINAL_STATUSES = frozenset({"completed", "completed_with_errors", "failed", "cancelled"})
DEVICE_STATUSES = ("active", "inactive", "pending", "up", "down")
#: The API path the remote backend creates and reads jobs under (jobs addressed by id).
ENDPOINT = "/inventory_device_headless_operation"


def when(value: str | None, *, seconds: bool = True) -> str:
    """A timestamp as ISO 8601 UTC with Z (`2026-01-16T02:00:00Z`), whatever the input zone."""
    if not value:
        return "-"
    try:
        moment = datetime.fromisoformat(str(value)).astimezone(UTC)
    except ValueError:
        return str(value)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ" if seconds else "%Y-%m-%dT%H:%MZ")


def _job_ref(job_id: str) -> int:
    if parse_id(job_id) is None:
        raise click.ClickException(f"no job {job_id}")
    return int(job_id)


class LocalJobs:
    """Jobs in the local database, through the services and renderers the API uses."""

    def __init__(self, username: str | None) -> None:
        _setup()
        self.username = username
        self.access, self.user = _actor(username)

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        from linesman.operations.bulk import services as bulk
        from linesman.operations.bulk import spec as bulk_spec
        from linesman.operations.bulk.api.serializers import created

        try:
            spec = bulk_spec.parse(body, access=self.access)
        except bulk_spec.SpecError as exc:
            problems = "; ".join(f"{key}: {' '.join(msgs)}" for key, msgs in exc.errors.items())
            raise click.ClickException(f"the job was not created: {problems}") from None
        return created(bulk.create_job(spec, user=self.user))

    def _job(self, job_id: str):
        from linesman.operations.bulk import services as bulk

        found = bulk.visible_jobs(self.access).prefetch_related("organizations")
        job = found.filter(pk=_job_ref(job_id)).first()
        if job is None:
            raise click.ClickException(f"no job {job_id}")
        return job

    def list(self, status: str | None, limit: int) -> list[dict[str, Any]]:
        from linesman.operations.bulk import services as bulk
        from linesman.operations.bulk.api.serializers import job_item

        found = bulk.visible_jobs(self.access).prefetch_related("organizations").order_by("-id")
        if status:
            found = found.filter(status=status)
        return [job_item(j) for j in found[:limit]]

    def get(self, job_id: str) -> dict[str, Any]:
        from linesman.operations.bulk.api.serializers import job_item

        return job_item(self._job(job_id))

    def targets(self, job_id: str) -> list[dict[str, Any]]:
        from linesman.operations.bulk.api.serializers import target_item

        job = self._job(job_id)
        return [target_item(t) for t in job.targets.select_related("operation").order_by("id")]

    def cancel(self, job_id: str) -> dict[str, Any]:
        from linesman.operations.bulk import services as bulk

        job = self._job(job_id)
        if not bulk.may_cancel(self.access, job):
            raise click.ClickException(
                "cancelling needs the operator role in the job's organizations"
            )
        try:
            bulk.cancel_job(job.pk, user=self.user)
        except bulk.JobFinished as exc:
            raise click.ClickException(str(exc)) from None
        return self.get(job_id)


class RemoteJobs:
    """Jobs on a remote Linesman, through its REST API (the same JSON)."""

    def __init__(self, url: str, token: str) -> None:
        from linesman.cli.remote import RemoteClient

        self.api = RemoteClient(url, token)

    def _call(self, job_id: str | None, method: Callable, path: str, *args, **kwargs):
        from linesman.cli.remote import RemoteError

        try:
            return method(path, *args, **kwargs)
        except RemoteError as exc:
            if exc.status == 404 and job_id is not None:
                raise click.ClickException(f"no job {job_id}") from None
            raise

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        from linesman.cli.remote import RemoteError

        try:
            return self.api.post(f"{ENDPOINT}/", body)
        except RemoteError as exc:
            raise click.ClickException(f"the job was not created: {exc.message}") from None

    def list(self, status: str | None, limit: int) -> list[dict[str, Any]]:
        return self.api.get(f"{ENDPOINT}/", status=status, limit=limit)["results"]

    def get(self, job_id: str) -> dict[str, Any]:
        return self._call(job_id, self.api.get, f"{ENDPOINT}/{_job_ref(job_id)}/")

    def targets(self, job_id: str) -> list[dict[str, Any]]:
        path, rows, offset = f"{ENDPOINT}/{_job_ref(job_id)}/devices/", [], 0
        while True:
            page = self._call(job_id, self.api.get, path, limit=1000, offset=offset)
            rows += page["results"]
            offset += len(page["results"])
            if not page["results"] or offset >= page["count"]:
                return rows

    def cancel(self, job_id: str) -> dict[str, Any]:
        return self._call(job_id, self.api.post, f"{ENDPOINT}/{_job_ref(job_id)}/cancel/", {})


def backend_options(command: Callable) -> Callable:
    """--url/--token (remote) and --user (local): the command receives `backend`."""

    @click.option(
        "--url",
        envvar="LINESMAN_URL",
        metavar="URL",
        help="A remote Linesman (env LINESMAN_URL); default: the local database",
    )
    @click.option("--token", envvar="LINESMAN_TOKEN", help="API token for --url (LINESMAN_TOKEN)")
    @click.option("--user", "username", help="Locally: act as this user (default: as the system)")
    @functools.wraps(command)
    def wrapper(*args, url: str | None, token: str | None, username: str | None, **kwargs):
        if url:
            if not token:
                raise click.UsageError("--url needs --token (or LINESMAN_TOKEN)")
            if username:
                raise click.UsageError("--user is for the local database; remotely the token acts")
            backend: LocalJobs | RemoteJobs = RemoteJobs(url, token)
        else:
            backend = LocalJobs(username)
        return command(*args, backend=backend, **kwargs)

    return wrapper


@click.group()
def jobs() -> None:
    """Bulk jobs: scheduled operations over many devices."""


@jobs.command("create")
@click.option(
    "--type",
    "operation_type",
    required=False,
    type=click.Choice([*OPERATION_TYPES, *OPERATION_ALIASES]),
    help="Operation type (firmware is firmware_upgrade)",
)
@click.option("--org", "orgs", multiple=True, type=int, help="Target organization id (repeat)")
@click.option("--device-type", "device_types", multiple=True, help="Type id or short name")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(DEVICE_STATUSES, case_sensitive=False),
    help="Devices in this status (repeat)",
)
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
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON")
@backend_options
def create(backend, **kw) -> None:
    """Create a job, as POST inventory_device_headless_operation/ would."""
    body: dict[str, Any] = json.load(kw["body"]) if kw["body"] else {}
    if kw["operation_type"]:
        body["operation_type"] = kw["operation_type"]
    for key in ("operation_type", "operation"):
        if body.get(key) in OPERATION_ALIASES:
            body[key] = OPERATION_ALIASES[body[key]]
    if kw["orgs"]:
        body["target_organizations"] = list(kw["orgs"])
    filters = dict(body.get("device_filters") or {})
    for option, key, convert in (
        ("device_types", "types", _number_or_text),
        ("statuses", "status", str.lower),
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

    data = backend.create(body)
    if kw["as_json"]:
        _print_json(data)
        return
    click.echo(
        f"Created job {data['id']}: {data['operation_type']} on {data['target_device_count']} "
        f"devices, scheduled for {when(data['scheduled_for'])} "
        f"(about {data['estimated_duration_minutes']} min).\n"
        f"Follow it with: linesman jobs show {data['id']} --follow"
    )


#: `jobs list` columns: (header, width, right-aligned); 78 characters with the gaps.
LIST_COLUMNS = (
    ("id", 5, True),
    ("type", 16, False),
    ("status", 21, False),
    ("done", 4, True),
    ("devs", 5, True),
    ("fail", 4, True),
    ("scheduled (UTC)", 17, False),
)


def _row(values: list[str]) -> str:
    cells = []
    for (_header, width, right), value in zip(LIST_COLUMNS, values, strict=True):
        text = value if len(value) <= width else value[: width - 1] + "…"
        cells.append(text.rjust(width) if right else text.ljust(width))
    return " ".join(cells).rstrip()


@jobs.command("list")
@click.option("--status", type=click.Choice(JOB_STATUSES), help="Only jobs in this status")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@backend_options
def list_jobs(backend, status: str | None, limit: int, as_json: bool) -> None:
    """The most recent jobs, newest first (fits 80 columns)."""
    items = backend.list(status, limit)
    if as_json:
        _print_json(items)
        return
    if not items:
        click.echo("No jobs match." if status else "No jobs yet.")
        return
    click.echo(_row([header for header, _w, _r in LIST_COLUMNS]))
    for item in items:
        click.echo(
            _row(
                [
                    str(item["id"]),
                    item["operation_type"],
                    item["status"],
                    f"{item['progress']}%",
                    str(item["total_devices"]),
                    str(item["failed_devices"]),
                    when(item["scheduled_for"], seconds=False),
                ]
            )
        )


def _describe(item: dict[str, Any]) -> str:
    lines = [
        f"Job {item['id']}: {item['operation_type']}  {item['status']}  {item['progress']}%",
        f"  devices    {item['total_devices']} total, {item['succeeded_devices']} succeeded, "
        f"{item['failed_devices']} failed, {item['running_devices']} running, "
        f"{item['pending_devices']} pending, {item['skipped_devices']} skipped",
        f"  scheduled  {when(item['scheduled_for'])}   started {when(item['started_at'])}   "
        f"ended {when(item['completed_at'])}",
        f"  estimate   {when(item['estimated_completion'])}   concurrency "
        f"{item['peak_concurrency']}/{item['max_concurrency']}",
    ]
    if item.get("created_by"):
        lines.append(f"  by         {item['created_by']}")
    summary = item["operation_details"]["error_summary"]
    if summary:
        lines.append("  errors     " + ", ".join(f"{k}: {v}" for k, v in summary.items()))
    return "\n".join(lines)


def _follow(backend, job_id: str, interval: float, to_stderr: bool) -> dict[str, Any]:
    """A live progress bar until the job ends; returns the final job."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    item = backend.get(job_id)
    columns = (
        TextColumn("[bold]job {task.fields[job]}[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("failed {task.fields[failed]}  running {task.fields[running]}"),
    )
    # With --json the bar goes to stderr, so stdout carries the JSON alone.
    with Progress(*columns, console=Console(stderr=to_stderr), transient=False) as bar:
        task = bar.add_task(
            item["status"], total=item["total_devices"], job=item["id"], failed=0, running=0
        )
        while True:
            item = backend.get(job_id)
            bar.update(
                task,
                completed=item["processed_devices"] + item["skipped_devices"],
                description=item["status"],
                failed=item["failed_devices"],
                running=item["running_devices"],
            )
            if item["status"] in FINAL_STATUSES and not item["running_devices"]:
                break
            time.sleep(interval)
    return item


@jobs.command("show")
@click.argument("job_id")
@click.option("--follow", is_flag=True, help="Show a live progress bar until the job ends")
@click.option("--interval", type=float, default=1.0, show_default=True, help="Seconds between")
@click.option("--devices", "with_devices", is_flag=True, help="Also list per-device results")
@click.option("--json", "as_json", is_flag=True)
@backend_options
def show(
    backend,
    job_id: str,
    follow: bool,
    interval: float,
    with_devices: bool,
    as_json: bool,
) -> None:
    """One job: status, counters and errors by cause."""
    item = _follow(backend, job_id, interval, as_json) if follow else backend.get(job_id)
    devices = backend.targets(job_id) if with_devices else []
    if as_json:
        _print_json({**item, "devices": devices} if with_devices else item)
        return
    click.echo(_describe(item))
    for row in devices:
        outcome = row["state"] + (f" ({row['cause']})" if row["cause"] else "")
        click.echo(f"  {row['serial_number']:<24} {outcome}")


@jobs.command("cancel")
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True)
@backend_options
def cancel(backend, job_id: str, as_json: bool) -> None:
    """Cancel a job: nothing new starts; its running device operations end cancelled."""
    item = backend.cancel(job_id)
    if as_json:
        _print_json(item)
        return
    click.echo(
        f"Cancelled job {job_id}: {item['skipped_devices']} devices skipped, "
        f"{item['running_devices']} still running."
    )
