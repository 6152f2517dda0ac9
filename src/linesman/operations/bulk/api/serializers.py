"""How bulk jobs and their per-device results look in the API (the seed's shapes) and CSV.

Plain functions build the JSON so the CLI prints exactly what the API answers; the
Serializer classes only document the shapes in the OpenAPI schema.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from rest_framework import serializers

from linesman.core.redaction import redact_items, redact_output
from linesman.core.times import iso_z as stamp
from linesman.operations.bulk.models import (
    FINAL_JOB_STATES,
    BulkJob,
    BulkJobStatus,
    BulkJobTarget,
    BulkOperationType,
)

#: Addressing -> the endpoint of the job family that addresses devices that way.
ENDPOINTS = {
    "serial": "inventory_device_serial_headless_operation",
    "id": "inventory_device_headless_operation",
    "name": "inventory_device_name_headless_operation",
}


def base_path(addressing: str) -> str:
    return f"/api/v1/{ENDPOINTS.get(addressing, ENDPOINTS['serial'])}/"


def progress(job: BulkJob) -> int:
    if job.status in FINAL_JOB_STATES and job.status != BulkJobStatus.CANCELLED:
        return 100
    if not job.total_devices:
        return 0
    return job.processed_devices * 100 // job.total_devices


def estimated_completion(job: BulkJob, now: datetime | None = None) -> datetime | None:
    """The end as observed so far: the rate of devices done since the start, extrapolated."""
    now = now or timezone.now()
    planned = timedelta(minutes=job.estimated_duration_minutes)
    if job.finished_at is not None:
        return job.finished_at
    if job.status == BulkJobStatus.CANCELLED:
        # Cancelled with batch targets still settling: no moving guess, the cancel time.
        return job.cancelled_at
    if job.status == BulkJobStatus.SCHEDULED:
        return max(job.execute_at, now) + planned
    if job.started_at is None:
        return None
    done = job.processed_devices
    remaining = job.pending_devices + job.running_devices
    elapsed = (now - job.started_at).total_seconds()
    if done == 0 or elapsed <= 0:
        return job.started_at + planned
    return now + timedelta(seconds=elapsed * remaining / done)


def operation_config(job: BulkJob, org_ids: list[int]) -> dict[str, Any]:
    config: dict[str, Any] = {
        "organizations": org_ids,
        "device_types": job.filters.get("types") or job.device_types,
        "options": job.options,
        "device_filters": job.filters,
        "priority": job.priority,
    }
    if job.params.get("variables"):
        # A `set` job's secrets were written; they are not read back.
        config["variables"] = redact_items(job.params["variables"])
    if job.params.get("firmware_image"):
        config["firmware_image"] = job.params["firmware_image"]
    return config


def _org_ids(job: BulkJob) -> list[int]:
    return sorted(o.pk for o in job.organizations.all())


def _urls(job: BulkJob, addressing: str | None) -> dict[str, str]:
    base = base_path(addressing or job.addressing)
    urls = {
        "monitoring_url": f"{base}?id={job.pk}",
        "devices_url": f"{base}{job.pk}/devices/",
    }
    if job.operation_type == BulkOperationType.INVENTORY_AUDIT:
        urls["report_url"] = f"{base}{job.pk}/report.csv"
    return urls


def created(job: BulkJob, addressing: str | None = None) -> dict[str, Any]:
    """The answer to a POST, as the seed shows it."""
    return {
        "id": job.public_id,
        "operation_type": job.operation_type,
        "status": job.status,
        "created_at": stamp(job.created_at),
        "scheduled_for": stamp(job.execute_at),
        "estimated_duration_minutes": job.estimated_duration_minutes,
        "target_device_count": job.total_devices,
        "operation_config": operation_config(job, _org_ids(job)),
        "priority": job.priority,
        **_urls(job, addressing),
    }


def job_item(job: BulkJob, addressing: str | None = None, now=None) -> dict[str, Any]:
    """A job as the seed's GET lists it, with a few more counters and links."""
    org_ids = _org_ids(job)
    return {
        "id": job.public_id,
        "operation_type": job.operation_type,
        "status": job.status,
        "progress": progress(job),
        "total_devices": job.total_devices,
        "processed_devices": job.processed_devices,
        "failed_devices": job.failed_devices,
        "succeeded_devices": job.succeeded_devices,
        "running_devices": job.running_devices,
        "pending_devices": job.pending_devices,
        "skipped_devices": job.skipped_devices,
        "created_at": stamp(job.created_at),
        "updated_at": stamp(job.updated_at),
        "scheduled_for": stamp(job.execute_at),
        "started_at": stamp(job.started_at),
        "completed_at": stamp(job.finished_at),
        "estimated_completion": stamp(estimated_completion(job, now)),
        "priority": job.priority,
        "max_concurrency": job.max_concurrency,
        "peak_concurrency": job.peak_running,
        "created_by": job.created_by_name,
        "operation_details": {
            "device_types": job.device_types,
            "organization_ids": org_ids,
            "error_summary": dict(sorted(job.error_summary.items())),
        },
        "operation_config": operation_config(job, org_ids),
        **_urls(job, addressing),
    }


def target_item(target: BulkJobTarget) -> dict[str, Any]:
    op = target.operation
    return {
        "device_id": target.device_id,
        "serial_number": target.serial_number,
        "name": target.name,
        "organization_id": target.organization_id,
        "state": target.state,
        "cause": target.cause or None,
        "error": target.error or None,
        "operation_id": op.operation_id if op else None,
        "operation_status": op.state if op else None,
        "started_at": stamp(target.started_at),
        "finished_at": stamp(target.finished_at),
        "dispatched_at": stamp(op.dispatched_at) if op else None,
        # A `get` job's results carry the values read from the device: secrets redacted.
        "result": redact_output(target.result or {}),
    }


AUDIT_COLUMNS = [
    "device_id",
    "serial_number",
    "name",
    "organization_id",
    "type",
    "status",
    "is_active",
    "manufacturer",
    "product_class",
    "software_version",
    "hardware_version",
    "firmware_image",
    "firmware_image_is_pending",
    "location",
    "address",
    "last_connection",
    "status_change",
    "pending_settings",
]
RESULT_COLUMNS = [
    "device_id",
    "serial_number",
    "name",
    "organization_id",
    "state",
    "cause",
    "error",
    "operation_id",
    "started_at",
    "finished_at",
    "result",
]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    if not isinstance(value, str):
        return str(value)
    # Spreadsheets run text cells starting with these as formulas; a quote keeps them text.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def csv_rows(job: BulkJob, targets: Iterable[BulkJobTarget]) -> Iterator[str]:
    """The job's per-device results as CSV lines: an inventory_audit's snapshot columns, or
    each device's outcome for other jobs."""
    audit = job.operation_type == BulkOperationType.INVENTORY_AUDIT
    columns = AUDIT_COLUMNS + ["state", "cause"] if audit else RESULT_COLUMNS
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")

    def flush() -> str:
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text

    writer.writerow(columns)
    yield flush()
    for target in targets:
        if audit:
            row = {**(target.result or {}), "state": target.state, "cause": target.cause}
            row.setdefault("device_id", target.device_id)
            row.setdefault("serial_number", target.serial_number)
            row.setdefault("name", target.name)
            row.setdefault("organization_id", target.organization_id)
        else:
            row = target_item(target)
        writer.writerow([_cell(row.get(c)) for c in columns])
        yield flush()


# --- schema documentation ----------------------------------------------------------------


class OperationDetailsSerializer(serializers.Serializer):
    device_types = serializers.ListField(child=serializers.CharField())
    organization_ids = serializers.ListField(child=serializers.IntegerField())
    error_summary = serializers.DictField(child=serializers.IntegerField())


class BulkJobCreatedSerializer(serializers.Serializer):
    id = serializers.CharField()
    operation_type = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    scheduled_for = serializers.DateTimeField()
    estimated_duration_minutes = serializers.IntegerField()
    target_device_count = serializers.IntegerField()
    operation_config = serializers.DictField()
    priority = serializers.CharField()
    monitoring_url = serializers.CharField()
    devices_url = serializers.CharField()
    report_url = serializers.CharField(required=False, help_text="inventory_audit jobs only")


class BulkJobSerializer(serializers.Serializer):
    id = serializers.CharField()
    operation_type = serializers.CharField()
    status = serializers.ChoiceField(choices=BulkJobStatus.choices)
    progress = serializers.IntegerField(help_text="Percent of devices processed")
    total_devices = serializers.IntegerField()
    processed_devices = serializers.IntegerField()
    failed_devices = serializers.IntegerField()
    succeeded_devices = serializers.IntegerField()
    running_devices = serializers.IntegerField()
    pending_devices = serializers.IntegerField()
    skipped_devices = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    scheduled_for = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    estimated_completion = serializers.DateTimeField(allow_null=True)
    priority = serializers.CharField()
    max_concurrency = serializers.IntegerField()
    peak_concurrency = serializers.IntegerField()
    created_by = serializers.CharField()
    operation_details = OperationDetailsSerializer()
    operation_config = serializers.DictField()
    monitoring_url = serializers.CharField()
    devices_url = serializers.CharField()
    report_url = serializers.CharField(required=False, help_text="inventory_audit jobs only")


class BulkJobTargetSerializer(serializers.Serializer):
    device_id = serializers.IntegerField(allow_null=True)
    serial_number = serializers.CharField()
    name = serializers.CharField()
    organization_id = serializers.IntegerField()
    state = serializers.CharField()
    cause = serializers.CharField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    operation_id = serializers.CharField(allow_null=True)
    operation_status = serializers.CharField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    dispatched_at = serializers.DateTimeField(allow_null=True)
    result = serializers.DictField()
