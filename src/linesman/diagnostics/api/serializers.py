"""How diagnostics are asked for and shown."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from linesman.core.times import iso_z as stamp
from linesman.diagnostics import services
from linesman.diagnostics.kinds import KINDS
from linesman.operations.models import Operation

KIND_HELP = "One of: " + ", ".join(f"{k.name} ({k.label})" for k in KINDS.values())
PARAMETERS_HELP = "Inputs of the diagnostic, by kind: " + "; ".join(
    f"{k.name}: {', '.join(k.inputs) or 'none'}" for k in KINDS.values()
)


class DiagnosticRequestSerializer(serializers.Serializer):
    """POST body (for OpenAPI; the service validates it)."""

    device = serializers.IntegerField(
        required=False, help_text="Device id (inventory_device_diags/)"
    )
    name = serializers.CharField(
        required=False, help_text="Device name (inventory_device_name_diags/)"
    )
    serial_number = serializers.CharField(
        required=False, help_text="Serial number (inventory_device_serial_diags/)"
    )
    operation = serializers.CharField(help_text=KIND_HELP)
    parameters = serializers.DictField(required=False, help_text=PARAMETERS_HELP)


class DiagnosticSerializer(serializers.Serializer):
    """A scheduled diagnostic: its request, its state, and the device's results."""

    id = serializers.IntegerField()
    operation_id = serializers.CharField()
    device_id = serializers.IntegerField()
    device_name = serializers.CharField()
    device_serial = serializers.CharField()
    operation = serializers.CharField(help_text=KIND_HELP)
    status = serializers.CharField(
        help_text="initiated, dispatched, in_progress, completed, failed, timed_out, cancelled"
    )
    result = serializers.CharField(help_text="success, failure, timeout, cancelled or empty")
    parameters = serializers.DictField()
    object = serializers.CharField(help_text="The TR-181 or TR-098 object the device ran")
    device_state = serializers.CharField(help_text="DiagnosticsState the device reported")
    results = serializers.DictField(allow_null=True)
    error = serializers.CharField()
    initiated_by = serializers.CharField()
    initiated_at = serializers.DateTimeField()
    estimated_completion = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)

    @staticmethod
    def of(op: Operation) -> dict[str, Any]:
        device = op.device
        return {
            "id": op.pk,
            "operation_id": op.operation_id,
            "device_id": device.pk,
            "device_name": device.name,
            "device_serial": device.serial_number,
            "operation": op.params.get("diagnostic", ""),
            "status": op.state,
            "result": op.result,
            "parameters": op.params.get("inputs", {}),
            "object": op.params.get("object", ""),
            "device_state": services.device_reason(op),
            "results": services.results(op),
            "error": op.error,
            "initiated_by": op.initiated_by_name,
            "initiated_at": stamp(op.initiated_at),
            "estimated_completion": stamp(op.estimated_completion),
            "completed_at": stamp(op.completed_at),
        }


class PingResultSerializer(serializers.Serializer):
    """A device's ping results (inventory_device_ipping/)."""

    id = serializers.IntegerField(help_text="The device's id")
    device_name = serializers.CharField()
    device_serial = serializers.CharField()
    host = serializers.CharField(allow_null=True)
    reachable = serializers.BooleanField(allow_null=True)
    rtt_min_ms = serializers.IntegerField(allow_null=True)
    rtt_avg_ms = serializers.IntegerField(allow_null=True)
    rtt_max_ms = serializers.IntegerField(allow_null=True)
    loss_percent = serializers.FloatField(allow_null=True)
    sent = serializers.IntegerField(allow_null=True)
    received = serializers.IntegerField(allow_null=True)
    measured_at = serializers.DateTimeField(allow_null=True)
    last_ping = DiagnosticSerializer(allow_null=True, help_text="The newest finished ping")
    running = DiagnosticSerializer(allow_null=True, help_text="A ping in progress, if any")
