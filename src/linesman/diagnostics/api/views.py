"""Diagnostics endpoints: inventory_device{,_name,_serial}_diags/ and *_ipping/{key}/."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from linesman.core import textcheck
from linesman.core.api import bool_param, id_param, path_id, require_role
from linesman.core.errors import Conflict, Unprocessable
from linesman.core.pagination import LimitOffsetPagination
from linesman.core.times import iso_z as stamp
from linesman.diagnostics import services
from linesman.diagnostics.api.serializers import (
    DiagnosticRequestSerializer,
    DiagnosticSerializer,
    PingResultSerializer,
)
from linesman.inventory.models import Device
from linesman.inventory.services import refresh_status
from linesman.operations import services as operations
from linesman.operations.api.views import visible_device
from linesman.tenancy.models import Role
from linesman.tenancy.services import access_for

ERRORS = {
    400: OpenApiResponse(description="Unknown diagnostic or bad parameters (JSON names them)"),
    401: OpenApiResponse(description="Missing or invalid API token"),
    403: OpenApiResponse(description="Your role may not run diagnostics here"),
    404: OpenApiResponse(description="No such device, or not visible to you"),
    409: OpenApiResponse(description="Another operation is active on the device"),
    422: OpenApiResponse(description="Not in the device's data model, or device deactivated"),
}


LIST_PARAMETERS = [
    OpenApiParameter("id", OpenApiTypes.STR, description="Diagnostic id or operation_id"),
    OpenApiParameter(
        "update_status",
        OpenApiTypes.BOOL,
        description="Probe the listed devices' status before answering",
    ),
    OpenApiParameter("limit", OpenApiTypes.INT),
    OpenApiParameter("offset", OpenApiTypes.INT),
]
LIST_RESPONSES = {200: DiagnosticSerializer(many=True), 400: ERRORS[400], 401: ERRORS[401]}


def _run(request, device: Device, name, parameters):
    require_role(request, device.organization_id, Role.OPERATOR)
    try:
        return services.start(device=device, name=name, parameters=parameters, user=request.user)
    except services.DiagnosticInputError as exc:
        raise ValidationError(exc.errors) from None
    except operations.OperationConflict as exc:
        raise Conflict(str(exc)) from None
    except operations.NotApplicable as exc:
        raise Unprocessable(str(exc)) from None


class _DiagsView(APIView):
    """GET: scheduled diagnostics and their results; POST: schedule one."""

    pagination_class = LimitOffsetPagination  # also documents the page in the schema

    #: The body field / query filter naming the device, and the Device field it matches.
    key = "device"
    lookup = "pk"

    def _key_param(self, request):
        if self.lookup == "pk":
            return id_param(request, self.key)
        value = request.query_params.get(self.key)
        return value or None

    def get(self, request):
        devices = access_for(request).restrict(Device.objects.all())
        key = self._key_param(request)
        if key is not None:
            devices = devices.filter(**{self.lookup: key})
        ops = services.diagnostics(devices)
        raw_id = (request.query_params.get("id") or "").strip()
        if raw_id:
            ops = (
                ops.filter(pk=textcheck.parse_id(raw_id) or 0)
                if raw_id.isdigit()
                else ops.filter(operation_id=raw_id)
            )
        update_status = bool_param(request, "update_status")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(ops, request, view=self)
        if update_status and page:
            refresh_status(list({op.device_id: op.device for op in page}.values()))
        return paginator.get_paginated_response([DiagnosticSerializer.of(op) for op in page])

    @extend_schema(
        request=DiagnosticRequestSerializer,
        responses={201: DiagnosticSerializer, **ERRORS},
    )
    def post(self, request):
        data = request.data
        if not isinstance(data, dict):
            raise ValidationError({"detail": ["A JSON object is required."]})
        raw = data.get(self.key)
        if raw in (None, ""):
            raise ValidationError({self.key: ["This field is required."]})
        if self.lookup == "pk":
            number = None if isinstance(raw, bool) else textcheck.parse_id(str(raw))
            if number is None:
                raise ValidationError({self.key: ["A device id is required."]})
            raw = number
        elif not isinstance(raw, str):
            raise ValidationError({self.key: ["A string is required."]})
        if "operation" not in data:
            raise ValidationError({"operation": ["This field is required."]})
        device = visible_device(request, **{self.lookup: raw})
        op = _run(request, device, data.get("operation"), data.get("parameters"))
        return Response(DiagnosticSerializer.of(op), status=status.HTTP_201_CREATED)


def _list_schema(key: str, kind, what: str):
    return extend_schema(
        parameters=[
            *LIST_PARAMETERS,
            OpenApiParameter(key, kind, description=f"Only this device's ({what})"),
        ],
        responses=LIST_RESPONSES,
    )


class DeviceDiagsView(_DiagsView):
    key, lookup = "device", "pk"

    @_list_schema("device", OpenApiTypes.INT, "id")
    def get(self, request):
        return super().get(request)


class DeviceNameDiagsView(_DiagsView):
    key, lookup = "name", "name"

    @_list_schema("name", OpenApiTypes.STR, "name")
    def get(self, request):
        return super().get(request)


class DeviceSerialDiagsView(_DiagsView):
    key, lookup = "serial_number", "serial_number"

    @_list_schema("serial_number", OpenApiTypes.STR, "serial number")
    def get(self, request):
        return super().get(request)


class _IppingView(APIView):
    """GET: the device's ping results; with `run=true` it also starts a ping."""

    #: The Device field the path names, and the path parameter naming it (as the seeds do).
    lookup, url_kwarg = "pk", "id"

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "run",
                OpenApiTypes.BOOL,
                description="Start a ping from the device now (operator role); the answer "
                "is 202 and `running` names it. Read again for its results.",
            ),
            OpenApiParameter(
                "host",
                OpenApiTypes.STR,
                description="With run=true: the host to ping (default: this server's host)",
            ),
            OpenApiParameter(
                "number_of_repetitions", OpenApiTypes.INT, description="With run=true"
            ),
        ],
        responses={200: PingResultSerializer, 202: PingResultSerializer, **ERRORS},
    )
    def get(self, request, **kwargs):
        key = kwargs[self.url_kwarg]
        if self.lookup == "pk":
            key = path_id(key)
        device = visible_device(request, **{self.lookup: key})
        code = status.HTTP_200_OK
        if bool_param(request, "run"):
            parameters = {"host": request.query_params.get("host") or services.default_ping_host()}
            repetitions = request.query_params.get("number_of_repetitions")
            if repetitions:
                parameters["number_of_repetitions"] = repetitions
            _run(request, device, "ipping", parameters)
            code = status.HTTP_202_ACCEPTED
        return Response(self.body(device), status=code)

    @staticmethod
    def body(device: Device) -> dict:
        last = services.last_ping(device)
        running = services.active_ping(device)
        measured = services.results(last) if last else None
        measured = measured or {}
        return {
            "id": device.pk,
            "device_name": device.name,
            "device_serial": device.serial_number,
            "host": measured.get("host")
            or (last.params.get("inputs", {}).get("host") if last else None),
            "reachable": measured.get("reachable"),
            "rtt_min_ms": measured.get("rtt_min_ms"),
            "rtt_avg_ms": measured.get("rtt_avg_ms"),
            "rtt_max_ms": measured.get("rtt_max_ms"),
            "loss_percent": measured.get("loss_percent"),
            "sent": measured.get("sent"),
            "received": measured.get("received"),
            "measured_at": stamp(last.completed_at) if last else None,
            "last_ping": DiagnosticSerializer.of(last) if last else None,
            "running": DiagnosticSerializer.of(running) if running else None,
        }


class DeviceIppingView(_IppingView):
    lookup, url_kwarg = "pk", "id"


class DeviceNameIppingView(_IppingView):
    lookup, url_kwarg = "name", "name"


class DeviceSerialIppingView(_IppingView):
    lookup, url_kwarg = "serial_number", "serial_number"


def diagnostics_urlpatterns() -> list:
    from django.urls import path

    return [
        path("inventory_device_diags/", DeviceDiagsView.as_view()),
        path("inventory_device_name_diags/", DeviceNameDiagsView.as_view()),
        path("inventory_device_serial_diags/", DeviceSerialDiagsView.as_view()),
        path("inventory_device_ipping/<int:id>/", DeviceIppingView.as_view()),
        path("inventory_device_name_ipping/<str:name>/", DeviceNameIppingView.as_view()),
        path(
            "inventory_device_serial_ipping/<str:serial_number>/",
            DeviceSerialIppingView.as_view(),
        ),
    ]
