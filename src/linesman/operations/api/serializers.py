"""Serializers of operation requests and of operations as the seeds show them."""

from __future__ import annotations

from rest_framework import serializers

from linesman.core.redaction import redact_output
from linesman.core.times import iso_z as stamp
from linesman.operations import services
from linesman.operations.models import SEED_OPERATIONS, Operation

WAITING_HELP = (
    "What the operation waits for before anything is sent: first_contact (the device never "
    "contacted the ACS), next_contact (it cannot be reached now; it runs at the device's next "
    "inform), or null"
)
EXPECTED_HELP = (
    "When the device's next contact is expected (last contact + inform interval); null when "
    "not waiting, or when the device was never seen"
)


class OperationRequestSerializer(serializers.Serializer):
    operation = serializers.CharField(help_text=f"One of: {', '.join(SEED_OPERATIONS)}")


class OperationStartedSerializer(serializers.Serializer):
    """The seeds' answer to an operation request."""

    id = serializers.IntegerField(help_text="The device's id")
    operation = serializers.CharField()
    status = serializers.CharField()
    device_id = serializers.IntegerField()
    device_name = serializers.CharField()
    device_serial = serializers.CharField()
    operation_timestamp = serializers.DateTimeField()
    estimated_completion = serializers.DateTimeField()
    initiated_by = serializers.CharField()
    operation_id = serializers.CharField()
    waiting_for = serializers.CharField(allow_null=True, help_text=WAITING_HELP)
    next_contact_expected = serializers.DateTimeField(allow_null=True, help_text=EXPECTED_HELP)

    @staticmethod
    def of(op: Operation, requested: str) -> dict:
        device = op.device
        waiting = services.waiting(op)
        return {
            "id": device.pk,
            "operation": requested,
            "status": op.state,
            "device_id": device.pk,
            "device_name": device.name,
            "device_serial": device.serial_number,
            "operation_timestamp": stamp(op.initiated_at),
            "estimated_completion": stamp(op.estimated_completion),
            "initiated_by": op.initiated_by_name,
            "operation_id": op.operation_id,
            "waiting_for": waiting["waiting_for"],
            "next_contact_expected": stamp(waiting["next_contact_expected"]),
        }


class OperationSerializer(serializers.ModelSerializer):
    """An operation in a device's history."""

    operation = serializers.CharField(source="kind")
    status = serializers.CharField(source="state")
    steps = serializers.SerializerMethodField()
    device_id = serializers.IntegerField()
    initiated_by = serializers.CharField(source="initiated_by_name")
    waiting_for = serializers.SerializerMethodField(help_text=WAITING_HELP)
    next_contact_expected = serializers.SerializerMethodField(help_text=EXPECTED_HELP)

    class Meta:
        model = Operation
        fields = (
            "operation_id",
            "device_id",
            "operation",
            "steps",
            "status",
            "phase",
            "result",
            "error",
            "error_cause",
            "initiated_by",
            "initiated_at",
            "dispatched_at",
            "started_at",
            "completed_at",
            "estimated_completion",
            "output",
            "bulk_job_id",
            "waiting_for",
            "next_contact_expected",
        )

    def get_waiting_for(self, op: Operation) -> str | None:
        return services.waiting(op)["waiting_for"]

    def get_next_contact_expected(self, op: Operation) -> str | None:
        return stamp(services.waiting(op)["next_contact_expected"])

    def get_steps(self, op: Operation) -> list[str]:
        return list(op.params.get("steps") or [op.kind])

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # The values a refresh, sync or get read are shown with their secrets redacted.
        data["output"] = redact_output(data.get("output"))
        return data
