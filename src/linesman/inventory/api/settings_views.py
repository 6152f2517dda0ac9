"""Desired settings of a device (`inventory_device_setting`) and the parameter catalog."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from linesman.core.api import require_role
from linesman.core.errors import Unprocessable
from linesman.core.filters import IdFilter
from linesman.core.redaction import redact
from linesman.inventory.models import Device, DeviceType, Parameter, Setting
from linesman.inventory.services import (
    SettingsRejected,
    change_settings,
)
from linesman.operations.api.views import visible_device
from linesman.tenancy.models import Role
from linesman.tenancy.services import access_for

NOT_FOUND = OpenApiResponse(description="No such device, or not visible to you")


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


def _by_parameter(field: str):
    """Settings whose path is that of the catalog parameters matching `field` = value."""

    def apply(queryset, name, value):
        paths = Parameter.objects.filter(**{field: value}).values("variable_name")
        return queryset.filter(variable_name__in=paths)

    return apply


class SettingFilter(django_filters.FilterSet):
    """The filters of the three settings lists; each list adds the key of its parent."""

    variable_name = django_filters.CharFilter(field_name="variable_name", lookup_expr="startswith")
    pending = django_filters.BooleanFilter(field_name="pending")
    parameter_id = IdFilter(method=_by_parameter("pk"))
    parameter__variable_name = django_filters.CharFilter(field_name="variable_name")
    parameter__name = django_filters.CharFilter(method=_by_parameter("name"))
    parameter__short_name = django_filters.CharFilter(method=_by_parameter("short_name"))

    class Meta:
        model = Setting
        fields = [
            "variable_name",
            "pending",
            "parameter_id",
            "parameter__variable_name",
            "parameter__name",
            "parameter__short_name",
        ]


class SettingByIdFilter(SettingFilter):
    parent_id = IdFilter(field_name="device_id", required=True)


class SettingByNameFilter(SettingFilter):
    parent__name = django_filters.CharFilter(field_name="device__name", required=True)


class SettingBySerialFilter(SettingFilter):
    parent__serial_number = django_filters.CharFilter(
        field_name="device__serial_number", required=True
    )


class SettingListView(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Desired settings of one device: `?parent_id=N` (required) selects it."""

    # A list only: `{parent_id}/` is DeviceSettingsView.

    serializer_class = SettingSerializer
    filterset_class = SettingByIdFilter

    def get_queryset(self):
        return (
            access_for(self.request)
            .restrict(Setting.objects.all(), "device__organization_id")
            .order_by("id")
        )


class SettingByNameListView(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Desired settings of one device: `?parent__name=` (required) selects it."""

    serializer_class = SettingSerializer
    filterset_class = SettingByNameFilter
    get_queryset = SettingListView.get_queryset


class SettingBySerialListView(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Desired settings of one device: `?parent__serial_number=` (required) selects it."""

    serializer_class = SettingSerializer
    filterset_class = SettingBySerialFilter
    get_queryset = SettingListView.get_queryset


@extend_schema_view(
    get=extend_schema(operation_id="inventory_device_setting_retrieve"),
    put=extend_schema(operation_id="inventory_device_setting_update"),
    patch=extend_schema(operation_id="inventory_device_setting_partial_update"),
)
class DeviceSettingsView(APIView):
    """PUT replaces a device's settings, PATCH adds or changes the ones sent.

    Settings are desired state: each stays `pending` until the device confirms it, and all
    of them are re-applied by `reconf` and after a factory reset or bootstrap. (One-shot
    writes go through the variables endpoints.) The inform interval is not a setting: it
    is the device's `update_frequency` (400 naming it).
    """

    #: The device field the URL's key names.
    lookup = "pk"

    def _device(self, request, kwargs) -> Device:
        (key,) = kwargs.values()
        return visible_device(request, **{self.lookup: key})

    def _write(self, request, kwargs, replace: bool):
        device = self._device(request, kwargs)
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
    def put(self, request, **kwargs):
        return self._write(request, kwargs, replace=True)

    @extend_schema(
        request=SettingWriteSerializer(many=True),
        responses={
            200: SettingSerializer(many=True),
            422: OpenApiResponse(description="A value does not fit its type"),
        },
    )
    def patch(self, request, **kwargs):
        return self._write(request, kwargs, replace=False)

    @extend_schema(responses={200: SettingSerializer(many=True), 404: NOT_FOUND})
    def get(self, request, **kwargs):
        device = self._device(request, kwargs)
        return Response(SettingSerializer(device.settings.order_by("id"), many=True).data)


@extend_schema_view(
    get=extend_schema(operation_id="inventory_device_name_setting_retrieve"),
    put=extend_schema(operation_id="inventory_device_name_setting_update"),
    patch=extend_schema(operation_id="inventory_device_name_setting_partial_update"),
)
class DeviceNameSettingsView(DeviceSettingsView):
    """The settings of the device with this name (409 if several share it)."""

    lookup = "name"


@extend_schema_view(
    get=extend_schema(operation_id="inventory_device_serial_setting_retrieve"),
    put=extend_schema(operation_id="inventory_device_serial_setting_update"),
    patch=extend_schema(operation_id="inventory_device_serial_setting_partial_update"),
)
class DeviceSerialSettingsView(DeviceSettingsView):
    """The settings of the device with this serial number."""

    lookup = "serial_number"


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


class ParameterFilter(django_filters.FilterSet):
    group = django_filters.CharFilter(field_name="group")
    variable_name = django_filters.CharFilter(field_name="variable_name")
    name = django_filters.CharFilter(field_name="name")
    short_name = django_filters.CharFilter(field_name="short_name")
    required = django_filters.BooleanFilter(field_name="required")
    read_only = django_filters.BooleanFilter(field_name="read_only")
    metric = django_filters.BooleanFilter(field_name="metric")
    type = IdFilter(method="filter_type")

    class Meta:
        model = Parameter
        fields = [
            "group",
            "variable_name",
            "name",
            "short_name",
            "required",
            "read_only",
            "metric",
            "type",
        ]

    def filter_type(self, queryset, name, value):
        """Parameters reported by devices of this type (a type the caller can see)."""
        visible = access_for(self.request).restrict(
            DeviceType.objects.filter(pk=value), allow_shared=True
        )
        return queryset.filter(device_types__in=visible)


class ParameterViewSet(viewsets.ModelViewSet):
    """The parameter catalog: everyone reads it, superusers edit it. It fills itself from
    what devices report (cwmp/parameters.py); `?type=N` lists what one device type has."""

    serializer_class = ParameterSerializer
    queryset = Parameter.objects.order_by("id")
    filterset_class = ParameterFilter
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def check_permissions(self, request):
        super().check_permissions(request)
        if request.method not in ("GET", "HEAD", "OPTIONS") and not request.user.is_superuser:
            raise PermissionDenied("Only superusers edit the parameter catalog.")
