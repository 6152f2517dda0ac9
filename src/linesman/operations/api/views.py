"""Operation endpoints: by device id, name and serial number, the WHIP trigger, history."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from linesman.core.api import require_role
from linesman.core.errors import Conflict, ServiceUnavailable, Unprocessable
from linesman.core.pagination import LimitOffsetPagination
from linesman.inventory.models import Device
from linesman.operations import services
from linesman.operations.api.serializers import (
    OperationRequestSerializer,
    OperationSerializer,
    OperationStartedSerializer,
    stamp,
)
from linesman.operations.models import SEED_OPERATIONS, Operation, OperationState
from linesman.tenancy.models import Role
from linesman.tenancy.services import access_for

RESPONSES = {
    200: OperationStartedSerializer,
    400: OpenApiResponse(description="Unknown or missing operation"),
    401: OpenApiResponse(description="Missing or invalid API token"),
    403: OpenApiResponse(description="Your role may not run operations here"),
    404: OpenApiResponse(description="No such device, or not visible to you"),
    409: OpenApiResponse(description="Another operation is active on the device"),
    422: OpenApiResponse(description="The device cannot take operations (deactivated)"),
}


def visible_device(request, **lookup) -> Device:
    queryset = access_for(request).restrict(Device.objects.select_related("type", "location"))
    matches = list(queryset.filter(**lookup)[:20])
    if not matches:
        raise Http404
    if len(matches) > 1:
        raise Conflict({"detail": "Several devices match.", "ids": [d.pk for d in matches]})
    return matches[0]


def run(request, device: Device, name, *, connection_request: bool = True):
    """Start a seed operation for an API request, mapping service errors to HTTP."""
    require_role(request, device.organization_id, Role.OPERATOR)
    try:
        kind = services.parse_kind(name)
        return services.start_operation(
            device=device, kind=kind, user=request.user, connection_request=connection_request
        )
    except services.UnknownOperation as exc:
        raise ValidationError({"operation": [str(exc)]}) from None
    except services.OperationConflict as exc:
        raise Conflict(str(exc)) from None
    except services.NotApplicable as exc:
        raise Unprocessable(str(exc)) from None


class _OperationView(APIView):
    """PUT (or POST, as existing clients send) {"operation": ...} on one device.

    `lookup` is both the device field and the name of the path parameter (the seeds' `id`,
    `serial_number`, `name`)."""

    lookup = "id"

    def _device(self, request, key) -> Device:
        return visible_device(request, **{self.lookup: key})

    def _start(self, request, key):
        if not isinstance(request.data, dict):
            raise ValidationError({"operation": ["A JSON object with an operation is required."]})
        body = OperationRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        device = self._device(request, key)
        op = run(request, device, body.validated_data["operation"])
        return Response(OperationStartedSerializer.of(op, body.validated_data["operation"]))

    @extend_schema(request=OperationRequestSerializer, responses=RESPONSES)
    def put(self, request, **kwargs):
        return self._start(request, kwargs[self.lookup])

    @extend_schema(request=OperationRequestSerializer, responses=RESPONSES)
    def post(self, request, **kwargs):
        return self._start(request, kwargs[self.lookup])


class DeviceOperationView(_OperationView):
    lookup = "id"


class DeviceSerialOperationView(_OperationView):
    lookup = "serial_number"


class DeviceNameOperationView(_OperationView):
    lookup = "name"


class WhipDeviceInfo(serializers.Serializer):
    device_id = serializers.IntegerField()
    device_name = serializers.CharField()
    device_type = serializers.CharField(required=False)
    serial_number = serializers.CharField(required=False)
    ip_address = serializers.CharField(required=False, allow_null=True)
    location = serializers.CharField(required=False, allow_null=True)
    online_status = serializers.CharField(required=False)
    last_seen = serializers.DateTimeField(required=False, allow_null=True)


class WhipResponse(serializers.Serializer):
    id = serializers.IntegerField()
    operation = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    device_info = WhipDeviceInfo()
    operation_details = serializers.DictField(required=False)
    last_operation = serializers.DictField(required=False, allow_null=True)


class WhipView(APIView):
    """GET with ?operation=X triggers it synchronously; without it, the last status."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "operation",
                OpenApiTypes.STR,
                enum=list(SEED_OPERATIONS),
                description="Operation to trigger; omit to read the status",
            ),
        ],
        responses={
            200: WhipResponse,
            **{k: v for k, v in RESPONSES.items() if k in (400, 401, 403, 404, 409)},
            503: OpenApiResponse(description="The device is offline or unreachable"),
        },
    )
    def get(self, request, pk: int):
        device = visible_device(request, pk=pk)
        name = request.query_params.get("operation")
        if name is None:
            return Response(self._status(device))
        op = run(request, device, name, connection_request=False)
        from linesman.cwmp import connreq

        outcome = connreq.send(device)
        if not outcome.ok:
            op = services.withdraw_unstarted(op, user=request.user, reason="device unreachable")
            if op.state == OperationState.CANCELLED:
                # The classified cause only: the upstream error would tell a caller which
                # internal ports are open.
                raise ServiceUnavailable(
                    f"The device cannot be reached: {outcome.error} ({outcome.cause}); "
                    "nothing was queued."
                )
            # Otherwise the device came in on its own meanwhile and has it in hand.
        return Response(
            {
                "id": device.pk,
                "operation": name,
                "status": op.state,
                "device_info": {
                    "device_id": device.pk,
                    "device_name": device.name,
                    "device_type": device.type.short_name,
                    "serial_number": device.serial_number,
                    "ip_address": device.address,
                    "location": device.effective_location_name or None,
                },
                "operation_details": {
                    "initiated_at": stamp(op.initiated_at),
                    "estimated_completion": stamp(op.estimated_completion),
                    "operation_id": op.operation_id,
                },
            }
        )

    @staticmethod
    def _status(device: Device) -> dict:
        last = services.last_operation(device)
        from linesman.inventory.services import device_is_up

        return {
            "id": device.pk,
            "operation": last.kind if last else None,
            "status": last.state if last else "idle",
            "last_operation": {
                "operation_type": last.kind,
                "initiated_at": stamp(last.initiated_at),
                "completed_at": stamp(last.completed_at),
                "result": last.result
                or ("pending" if last.state != OperationState.CANCELLED else "cancelled"),
                "operation_id": last.operation_id,
            }
            if last
            else None,
            "device_info": {
                "device_id": device.pk,
                "device_name": device.name,
                "online_status": "online" if device_is_up(device) else "offline",
                "last_seen": stamp(device.last_connection),
            },
        }


class DeviceOperationHistoryView(APIView):
    """A device's operations, newest first, paginated."""

    pagination_class = LimitOffsetPagination  # also documents the page in the schema

    @extend_schema(responses={200: OperationSerializer(many=True)})
    def get(self, request, pk: int):
        device = visible_device(request, pk=pk)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(device.operations.order_by("-id"), request, view=self)
        return paginator.get_paginated_response(OperationSerializer(page, many=True).data)


class OperationCancelView(APIView):
    """POST: cancel one operation by its id (what `linesman op cancel OP_ID` calls).

    RPCs not yet sent are withdrawn and the operation ends `cancelled` at once; an RPC
    already on the wire may still be carried out, which its error then says.
    """

    @extend_schema(
        request=None,
        responses={
            200: OperationSerializer,
            403: OpenApiResponse(description="Your role may not cancel operations here"),
            404: OpenApiResponse(description="No such operation, or not visible to you"),
            409: OpenApiResponse(description="The operation already ended"),
        },
    )
    def post(self, request, operation_id: str):
        op = Operation.objects.select_related("device").filter(operation_id=operation_id).first()
        if op is None:
            raise Http404
        visible_device(request, pk=op.device_id)
        require_role(request, op.device.organization_id, Role.OPERATOR)
        if not op.is_active:
            raise Conflict(f"Operation {op.operation_id} already ended ({op.state}).")
        op = services.cancel_operation(op, user=request.user, reason="cancelled by request")
        return Response(OperationSerializer(op).data)
