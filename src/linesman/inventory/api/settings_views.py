"""Desired settings of a device (`inventory_device_setting`) and the parameter catalog."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from linesman.core.api import require_role
from linesman.core.errors import Unprocessable
from linesman.core.filters import IdFilter
from linesman.core.redaction import redact
from linesman.inventory.models import Parameter, Setting
from linesman.inventory.services import SettingsRejected, change_settings
from linesman.operations.api.views import visible_device
from linesman.tenancy.models import Role
from linesman.tenancy.services import access_for


class SettingSerializer(serializers.ModelSerializer):
    parent_id = serializers.IntegerField(source="device_id", read_only=True)

    class Meta:
        model = Setting
        fields = (
            "id",
            "parent_id",
            "variable_name",
            "value",
            "type",
            "pending",
            "updated",
            "applied",
        )
        read_only_fields = ("id", "parent_id", "pending", "updated", "applied")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # Secrets are write-only, for every role; the stored value stays for the ACS.
        data["value"] = redact(data.get("variable_name"), data.get("value"))
        return data


class SettingWriteSerializer(serializers.Serializer):
    variable_name = serializers.CharField(max_length=300)
    value = serializers.CharField(allow_blank=True, max_length=4096)
    type = serializers.CharField(required=False, max_length=32)


class SettingFilter(django_filters.FilterSet):
    parent_id = IdFilter(field_name="device_id")
    variable_name = django_filters.CharFilter(field_name="variable_name", lookup_expr="startswith")
    pending = django_filters.BooleanFilter(field_name="pending")

    class Meta:
        model = Setting
        fields = ["parent_id", "variable_name", "pending"]


class SettingListView(viewsets.ReadOnlyModelViewSet):
    """Desired settings; `?parent_id=N` selects one device's."""

    serializer_class = SettingSerializer
    filterset_class = SettingFilter

    def get_queryset(self):
        return (
            access_for(self.request)
            .restrict(Setting.objects.all(), "device__organization_id")
            .order_by("id")
        )


class DeviceSettingsView(APIView):
    """PUT replaces a device's settings, PATCH adds or changes the ones sent.

    Settings are desired state: each stays `pending` until the device confirms it, and all
    of them are re-applied by `reconf` and after a factory reset or bootstrap. (One-shot
    writes go through the variables endpoints.) The inform interval is not a setting: it
    is the device's `update_frequency` (400 naming it).
    """

    def _write(self, request, parent_id: int, replace: bool):
        device = visible_device(request, pk=parent_id)
        require_role(request, device.organization_id, Role.OPERATOR)
        data = request.data
        if isinstance(data, dict) and "settings" in data:
            data = data["settings"]
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list):
            raise ValidationError({"settings": ["Send a list of {variable_name, value}."]})
        body = SettingWriteSerializer(data=data, many=True)
        body.is_valid(raise_exception=True)
        try:
            change_settings(
                user=request.user, device=device, items=body.validated_data, replace=replace
            )
        except SettingsRejected as exc:
            if exc.unprocessable:
                raise Unprocessable({"settings": exc.problems}) from None
            raise ValidationError({"settings": exc.problems}) from None
        settings = Setting.objects.filter(device=device).order_by("id")
        return Response(SettingSerializer(settings, many=True).data)

    @extend_schema(
        request=SettingWriteSerializer(many=True),
        responses={
            200: SettingSerializer(many=True),
            422: OpenApiResponse(description="A value does not fit its type"),
        },
    )
    def put(self, request, parent_id: int):
        return self._write(request, parent_id, replace=True)

    @extend_schema(
        request=SettingWriteSerializer(many=True),
        responses={
            200: SettingSerializer(many=True),
            422: OpenApiResponse(description="A value does not fit its type"),
        },
    )
    def patch(self, request, parent_id: int):
        return self._write(request, parent_id, replace=False)

    @extend_schema(responses={200: SettingSerializer(many=True)})
    def get(self, request, parent_id: int):
        device = visible_device(request, pk=parent_id)
        return Response(SettingSerializer(device.settings.order_by("id"), many=True).data)


class ParameterSerializer(serializers.ModelSerializer):
    class Meta:
        model = Parameter
        fields = (
            "id",
            "name",
            "variable_name",
            "short_name",
            "data_type",
            "group",
            "required",
            "read_only",
            "metric",
        )
        read_only_fields = ("id",)


class ParameterViewSet(viewsets.ModelViewSet):
    """The parameter catalog: everyone reads it, superusers edit it."""

    serializer_class = ParameterSerializer
    queryset = Parameter.objects.order_by("id")
    filterset_fields = ["group", "variable_name"]
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def check_permissions(self, request):
        super().check_permissions(request)
        if request.method not in ("GET", "HEAD", "OPTIONS") and not request.user.is_superuser:
            raise PermissionDenied("Only superusers edit the parameter catalog.")
