"""`inventory_device_log/`: the device log over the API, for every role of the device's
organization (support staff are viewers), unlike the admin-only audit trail."""

from __future__ import annotations

from rest_framework import serializers, viewsets

from linesman.devicelog.filters import DeviceLogFilter
from linesman.devicelog.models import DeviceLogEntry
from linesman.tenancy.services import access_for


class DeviceLogEntrySerializer(serializers.ModelSerializer):
    datetime = serializers.DateTimeField(source="time", read_only=True)
    device_name = serializers.CharField(source="device.name", read_only=True)
    serial_number = serializers.CharField(source="device.serial_number", read_only=True)

    class Meta:
        model = DeviceLogEntry
        fields = (
            "id",
            "device",
            "device_name",
            "serial_number",
            "datetime",
            "action",
            "status",
            "code",
            "message",
            "operation_id",
            "data",
        )
        read_only_fields = fields


class DeviceLogViewSet(viewsets.ReadOnlyModelViewSet):
    """A device's timeline, newest first: sessions and their events, RPC outcomes (fault
    codes in `code`), operations started and ended, status changes."""

    serializer_class = DeviceLogEntrySerializer
    filterset_class = DeviceLogFilter
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        queryset = DeviceLogEntry.objects.select_related("device")
        # Newest first on (device, time) index order; id breaks ties between same-time rows.
        return (
            access_for(self.request)
            .restrict(queryset, "device__organization_id")
            .order_by("-time", "-id")
        )
