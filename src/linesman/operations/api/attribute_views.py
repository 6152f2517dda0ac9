"""Parameter attributes of a device over the API, by id, name and serial number:
`inventory_device_attributes/{id}/`, `inventory_device_name_attributes/{name}/`,
`inventory_device_serial_attributes/{serial}/`.

GET lists the desired attributes (`?refresh=true` also starts a `get.attr` operation that
reads them from the device, for `?names=a,b` or the desired ones); PUT sets notification
(off, passive, active) and optionally the access list: stored as desired and sent with a
`set.attr` operation.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from linesman.core.api import bool_param, require_role
from linesman.core.errors import Conflict, Unprocessable
from linesman.operations import attributes, services
from linesman.operations.api.views import visible_device
from linesman.tenancy.models import Role


class AttributeWriteSerializer(serializers.Serializer):
    variable_name = serializers.CharField(max_length=300)
    notification = serializers.JSONField(help_text="off, passive or active (or 0, 1, 2)")
    access_list = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        allow_null=True,
        max_length=16,
        help_text='e.g. ["Subscriber"]; omitted: left as the device has it',
    )

    def validate_notification(self, value):
        parsed = attributes.parse_notification(value)
        if parsed is None:
            raise ValidationError("Use off, passive or active.")
        return parsed

    def validate_variable_name(self, value: str) -> str:
        if value.endswith(".") or " " in value:
            raise ValidationError("Name a parameter, not an object.")
        return value


def _items(data) -> list:
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and isinstance(data.get("attributes"), list):
        return data["attributes"]
    if isinstance(data, dict):
        return [data]
    raise ValidationError({"attributes": ["Send an object or a list of objects."]})


def _start(action):
    try:
        return action()
    except services.OperationConflict as exc:
        raise Conflict(str(exc)) from None
    except services.NotApplicable as exc:
        raise Unprocessable(str(exc)) from None


class DeviceAttributesView(APIView):
    #: The device field the path names, and the path parameter's name (as the seeds name it).
    lookup = "id"

    @extend_schema(responses={200: OpenApiResponse(description="Desired attributes")})
    def get(self, request, **kwargs):
        device = visible_device(request, **{self.lookup: kwargs[self.lookup]})
        body = {"attributes": attributes.desired(device)}
        if bool_param(request, "refresh"):
            require_role(request, device.organization_id, Role.OPERATOR)
            raw = request.query_params.get("names") or ""
            names = [n.strip() for n in raw.split(",") if n.strip()] or [
                a["variable_name"] for a in body["attributes"]
            ]
            op = _start(
                lambda: attributes.read_attributes(device=device, user=request.user, names=names)
            )
            body["refresh_operation_id"] = op.operation_id
        return Response(body)

    @extend_schema(
        request=AttributeWriteSerializer(many=True),
        responses={
            200: OpenApiResponse(description="SetParameterAttributes queued; stored as desired"),
            404: OpenApiResponse(description="No such device"),
            409: OpenApiResponse(description="Another operation is active"),
        },
    )
    def put(self, request, **kwargs):
        device = visible_device(request, **{self.lookup: kwargs[self.lookup]})
        require_role(request, device.organization_id, Role.OPERATOR)
        body = AttributeWriteSerializer(data=_items(request.data), many=True)
        body.is_valid(raise_exception=True)
        if not body.validated_data:
            raise ValidationError({"attributes": ["At least one attribute is required."]})
        items = [dict(i) for i in body.validated_data]
        op = _start(
            lambda: attributes.set_attributes(device=device, user=request.user, attributes=items)
        )
        shown = [{**i, "notification": attributes.label(i["notification"])} for i in items]
        return Response({"operation_id": op.operation_id, "status": op.state, "attributes": shown})


class DeviceNameAttributesView(DeviceAttributesView):
    lookup = "name"


class DeviceSerialAttributesView(DeviceAttributesView):
    lookup = "serial_number"
