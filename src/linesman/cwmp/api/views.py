"""Device variables: the live parameter values a device reported, and setting them."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from linesman.core.api import bool_param, require_role
from linesman.core.errors import Conflict, Unprocessable
from linesman.core.pagination import LimitOffsetPagination
from linesman.core.redaction import MARKER, is_secret, redact, redact_items
from linesman.cwmp import parameters, types
from linesman.cwmp.models import DeviceParameters
from linesman.inventory.models import Device, Parameter
from linesman.inventory.services import managed_parameter_problems
from linesman.operations import services as operations
from linesman.operations.api.views import visible_device
from linesman.operations.models import OperationKind
from linesman.tenancy.models import Role


class VariableSerializer(serializers.Serializer):
    variable_name = serializers.CharField()
    value = serializers.CharField(allow_blank=True)
    type = serializers.CharField()
    writable = serializers.BooleanField(allow_null=True)
    updated = serializers.DateTimeField(allow_null=True)


class VariableWriteSerializer(serializers.Serializer):
    variable_name = serializers.CharField(max_length=300)
    value = serializers.CharField(allow_blank=True, max_length=4096)
    type = serializers.CharField(required=False, max_length=32)


class QueuedVariableSerializer(serializers.Serializer):
    variable_name = serializers.CharField()
    value = serializers.CharField(allow_blank=True)
    type = serializers.CharField()


class VariableQueuedSerializer(serializers.Serializer):
    """Documents the answer to PUT: the SetParameterValues operation and what it sets."""

    operation_id = serializers.CharField()
    status = serializers.CharField()
    variables = QueuedVariableSerializer(many=True)


def _as_list(data: Any) -> list:
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and isinstance(data.get("variables"), list):
        return data["variables"]
    if isinstance(data, dict):
        return [data]
    raise ValidationError({"variables": ["Send an object or a list of objects."]})


def validate_variables(device: Device, items: list[dict]) -> list[dict]:
    """Check names and values against what the device and the catalog know (422 if not)."""
    known = parameters.get_values(device.pk)
    catalog = dict(
        Parameter.objects.filter(variable_name__in=[i["variable_name"] for i in items]).values_list(
            "variable_name", "data_type"
        )
    )
    read_only = set(
        Parameter.objects.filter(
            read_only=True, variable_name__in=[i["variable_name"] for i in items]
        ).values_list("variable_name", flat=True)
    )
    problems: dict[str, str] = {}
    out = []
    for item in items:
        name = item["variable_name"]
        reported = known.get(name)
        kind = types.normalise(
            item.get("type") or (reported[1] if reported else None) or catalog.get(name)
        )
        if name.endswith(".") or " " in name:
            problems[name] = "not a parameter path"
        elif item["value"] == MARKER and is_secret(name):
            # What a secret reads as is never a value to send to the device.
            problems[name] = f"{MARKER} stands for a stored secret; send the value."
        elif (reported is not None and reported[2] is False) or name in read_only:
            problems[name] = "the parameter is read-only"
        else:
            error = types.check(kind, item["value"])
            if error:
                problems[name] = error
        out.append({"variable_name": name, "value": item["value"], "type": kind})
    if problems:
        raise Unprocessable({"variables": problems})
    return out


class VariablePagination(LimitOffsetPagination):
    """The page of variables, with the id of the refresh operation `?refresh=true` queued."""

    def get_paginated_response_schema(self, schema: dict) -> dict:
        page = super().get_paginated_response_schema(schema)
        page["properties"]["refresh_operation_id"] = {
            "type": "string",
            "description": "With refresh=true: the operation fetching fresh values",
        }
        return page


class DeviceVariablesView(APIView):
    """A device's reported parameters; `lookup` is the device field and the path parameter."""

    lookup = "id"
    pagination_class = VariablePagination  # also documents the page in the schema

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "prefix", OpenApiTypes.STR, description="Path prefix, e.g. Device.WiFi."
            ),
            OpenApiParameter(
                "refresh", OpenApiTypes.BOOL, description="Queue a fetch from the device"
            ),
        ],
        responses={
            200: VariableSerializer(many=True),
            404: OpenApiResponse(description="No such device"),
        },
    )
    def get(self, request, **kwargs):
        device = visible_device(request, **{self.lookup: kwargs[self.lookup]})
        refresh = bool_param(request, "refresh")
        prefix = request.query_params.get("prefix") or request.query_params.get("variable_name")
        row = DeviceParameters.objects.filter(device=device).first()
        values = row.values if row else {}
        names = sorted(n for n in values if not prefix or n.startswith(prefix))
        items = [
            {
                "variable_name": n,
                # Secrets are write-only, for every role (core.redaction).
                "value": redact(n, values[n][0]),
                "type": values[n][1],
                "writable": values[n][2],
                "updated": row.updated,
            }
            for n in names
        ]
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(items, request, view=self)
        response = paginator.get_paginated_response(page)
        if refresh:
            require_role(request, device.organization_id, Role.OPERATOR)
            try:
                op = operations.start_operation(
                    device=device, kind=OperationKind.REFRESH, user=request.user
                )
            except operations.OperationConflict as exc:
                raise Conflict(str(exc)) from None
            response.data["refresh_operation_id"] = op.operation_id
        return response

    @extend_schema(
        request=VariableWriteSerializer(many=True),
        responses={
            200: OpenApiResponse(
                VariableQueuedSerializer,
                description="SetParameterValues queued (one-shot; not stored as a setting)",
            ),
            400: OpenApiResponse(description="Malformed body, or the inform interval"),
            404: OpenApiResponse(description="No such device"),
            409: OpenApiResponse(description="Another operation is active"),
            422: OpenApiResponse(description="A value does not fit its parameter"),
        },
    )
    def put(self, request, **kwargs):
        device = visible_device(request, **{self.lookup: kwargs[self.lookup]})
        require_role(request, device.organization_id, Role.OPERATOR)
        body = VariableWriteSerializer(data=_as_list(request.data), many=True)
        body.is_valid(raise_exception=True)
        if not body.validated_data:
            raise ValidationError({"variables": ["At least one variable is required."]})
        managed = managed_parameter_problems([i["variable_name"] for i in body.validated_data])
        if managed:
            raise ValidationError({"variables": managed})
        items = validate_variables(device, body.validated_data)
        try:
            op = operations.start_operation(
                device=device,
                kind=OperationKind.SET,
                user=request.user,
                params={"variables": items},
            )
        except operations.OperationConflict as exc:
            raise Conflict(str(exc)) from None
        except operations.NotApplicable as exc:
            raise Unprocessable(str(exc)) from None
        # A one-shot action: set now, report the result in the operation. Nothing is
        # recorded as desired configuration (that is the settings endpoints' job), so
        # neither `reconf` nor a bootstrap replays it (a diagnostic's `Requested`, say).
        return Response(
            {"operation_id": op.operation_id, "status": op.state, "variables": redact_items(items)}
        )


class DeviceNameVariablesView(DeviceVariablesView):
    lookup = "name"


class DeviceSerialVariablesView(DeviceVariablesView):
    lookup = "serial_number"
