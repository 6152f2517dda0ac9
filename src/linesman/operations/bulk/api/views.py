"""Headless operation endpoints: bulk jobs and scheduled transactions, in three twins.

`inventory_device_serial_headless_operation/` (seed 003), `inventory_device_headless_operation/`
(devices by id) and `inventory_device_name_headless_operation/` (by name) share one model:
a job created through one is visible through all three. Each offers

- `GET  ./`                  the caller's jobs (paginated), or one with `?id=`
- `POST ./`                  a new job (201), see `linesman.operations.bulk.spec`
- `GET  ./{id}/`             one job
- `DELETE ./{id}/`, `POST ./{id}/cancel/`   cancel: nothing new starts, running ones end
- `GET  ./{id}/devices/`     per-device results (`?state=failed`, `?cause=`, `?format=csv`)
- `GET  ./{id}/report.csv`   the same as CSV (an inventory_audit's snapshot)
"""

from __future__ import annotations

import json
import logging

from django.http import Http404, StreamingHttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from linesman.core.api import bool_param, path_id
from linesman.core.errors import Conflict
from linesman.core.pagination import LimitOffsetPagination
from linesman.core.renderers import JSONRenderer
from linesman.operations.bulk import services as bulk
from linesman.operations.bulk import spec as bulk_spec
from linesman.operations.bulk.api.serializers import (
    ENDPOINTS,
    BulkJobCreatedSerializer,
    BulkJobSerializer,
    BulkJobTargetSerializer,
    created,
    csv_rows,
    job_item,
    target_item,
)
from linesman.operations.bulk.models import BulkJob, BulkJobStatus, TargetState
from linesman.tenancy.services import access_for

log = logging.getLogger(__name__)

#: update_status=true probes at most this many of the shown jobs' devices.
REFRESH_LIMIT = 500

OUTCOMES = {
    "pending": TargetState.PENDING,
    "running": TargetState.RUNNING,
    "succeeded": TargetState.SUCCEEDED,
    "success": TargetState.SUCCEEDED,
    "ok": TargetState.SUCCEEDED,
    "failed": TargetState.FAILED,
    "failure": TargetState.FAILED,
    "error": TargetState.FAILED,
    "skipped": TargetState.SKIPPED,
    "cancelled": TargetState.SKIPPED,
}

ERRORS = {
    401: OpenApiResponse(description="Missing or invalid API token"),
    404: OpenApiResponse(description="No such job, or not visible to you"),
}
ID_PARAM = OpenApiParameter(
    "id", OpenApiTypes.STR, description="The job's id; omit to list every job you can see"
)
UPDATE_STATUS_PARAM = OpenApiParameter(
    "update_status",
    OpenApiTypes.BOOL,
    description="Refresh the status of the jobs' devices (connection requests) first",
)
STATUS_PARAM = OpenApiParameter(
    "status", OpenApiTypes.STR, enum=list(BulkJobStatus.values), description="Only jobs in it"
)
STATE_PARAM = OpenApiParameter(
    "state",
    OpenApiTypes.STR,
    description="Only devices in these states (comma-separated: pending, running, "
    "succeeded, failed, skipped); `outcome` is a synonym",
)
CAUSE_PARAM = OpenApiParameter("cause", OpenApiTypes.STR, description="Only failures of it")
FORMAT_PARAM = OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"])


class CSVRenderer(BaseRenderer):
    """Lets `?format=csv` through content negotiation; the CSV itself is streamed."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes | str):
            return data
        return json.dumps(data)


def _job_or_404(request, key) -> BulkJob:
    job = (
        bulk.visible_jobs(access_for(request))
        .prefetch_related("organizations")
        .filter(pk=path_id(key))
        .first()
    )
    if job is None:
        raise Http404
    return job


def _refresh_devices(jobs: list[BulkJob]) -> None:
    """update_status=true: bring the status of the jobs' devices up to date."""
    from linesman.inventory.models import Device
    from linesman.inventory.services import refresh_status

    devices = list(
        Device.objects.select_related("type")
        .filter(bulk_targets__job__in=[j.pk for j in jobs])
        .distinct()
        .order_by("id")[:REFRESH_LIMIT]
    )
    if devices:
        refresh_status(devices)


class _BulkView(APIView):
    addressing = "serial"
    pagination_class = LimitOffsetPagination  # also documents the pages in the schema

    def handle_exception(self, exc):
        # Errors are JSON bodies even where CSV was negotiated (report.csv, ?format=csv).
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response


class HeadlessOperationView(_BulkView):
    """Bulk jobs and scheduled transactions: list, look up by `?id=`, create."""

    @extend_schema(
        parameters=[ID_PARAM, UPDATE_STATUS_PARAM, STATUS_PARAM],
        responses={200: BulkJobSerializer(many=True), **ERRORS},
    )
    def get(self, request):
        update_status = bool_param(request, "update_status")
        jobs = bulk.visible_jobs(access_for(request)).prefetch_related("organizations")
        raw_id = request.query_params.get("id")
        if raw_id not in (None, ""):
            jobs = jobs.filter(pk=_job_or_404(request, raw_id).pk)
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in BulkJobStatus.values:
                raise ValidationError(
                    {"status": [f"Use one of: {', '.join(BulkJobStatus.values)}."]}
                )
            jobs = jobs.filter(status=wanted)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(jobs.order_by("-id"), request, view=self)
        if update_status and page:
            try:
                _refresh_devices(page)
            except Exception as exc:  # the seed documents a 500 for this case
                log.exception("update_status failed")
                return Response(
                    {"detail": f"Operation status update failed: {type(exc).__name__}"},
                    status=status.HTTP_500_INTERNAL_SERVER_ERROR,
                )
        return paginator.get_paginated_response([job_item(j, self.addressing) for j in page])

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={
            201: BulkJobCreatedSerializer,
            400: OpenApiResponse(description="Malformed JSON, or a missing/unknown type"),
            401: ERRORS[401],
            403: OpenApiResponse(description="A target organization is not yours"),
            422: OpenApiResponse(description="Invalid parameters; each problem is named"),
        },
    )
    def post(self, request):
        try:
            spec = bulk_spec.parse(
                request.data, access=access_for(request), addressing=self.addressing
            )
        except bulk_spec.SpecError as exc:
            return Response(exc.errors, status=exc.status_code)
        job = bulk.create_job(spec, user=request.user)
        return Response(created(job, self.addressing), status=status.HTTP_201_CREATED)


def _cancel(view: _BulkView, request, key) -> Response:
    job = _job_or_404(request, key)
    if not bulk.may_cancel(access_for(request), job):
        raise PermissionDenied(
            "Cancelling needs the operator role in every organization of the job."
        )
    try:
        job = bulk.cancel_job(job.pk, user=request.user)
    except bulk.JobFinished as exc:
        raise Conflict(str(exc)) from None
    return Response(job_item(_job_or_404(request, job.pk), view.addressing))


class HeadlessOperationDetailView(_BulkView):
    """One job; DELETE cancels it (its running device operations end `cancelled`)."""

    @extend_schema(responses={200: BulkJobSerializer, **ERRORS})
    def get(self, request, id: str):
        return Response(job_item(_job_or_404(request, id), self.addressing))

    @extend_schema(
        responses={
            200: BulkJobSerializer,
            **ERRORS,
            403: OpenApiResponse(description="Your role may not cancel it"),
            409: OpenApiResponse(description="The job already ended"),
        }
    )
    def delete(self, request, id: str):
        return _cancel(self, request, id)


class HeadlessOperationCancelView(_BulkView):
    """Cancel a job (the same as DELETE on the job)."""

    @extend_schema(
        request=None,
        responses={
            200: BulkJobSerializer,
            **ERRORS,
            403: OpenApiResponse(description="Your role may not cancel it"),
            409: OpenApiResponse(description="The job already ended"),
        },
    )
    def post(self, request, id: str):
        return _cancel(self, request, id)


class _JsonErrors:
    """Errors of the views that can answer CSV are JSON objects, as everywhere in the API,
    not JSON labelled text/csv."""

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response) and response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


def _csv_response(job: BulkJob, targets) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        csv_rows(job, targets.iterator(chunk_size=1000)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="bulk-job-{job.pk}.csv"'
    return response


class HeadlessOperationDevicesView(_JsonErrors, _BulkView):
    """Per-device results of a job, to retry just the failures."""

    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        parameters=[STATE_PARAM, CAUSE_PARAM, FORMAT_PARAM],
        responses={
            (200, "application/json"): BulkJobTargetSerializer(many=True),
            (200, "text/csv"): OpenApiTypes.STR,
            **ERRORS,
        },
    )
    def get(self, request, id: str):
        job = _job_or_404(request, id)
        targets = job.targets.select_related("operation").order_by("id")
        raw = request.query_params.get("state") or request.query_params.get("outcome")
        if raw:
            states = set()
            for word in raw.split(","):
                state = OUTCOMES.get(word.strip().lower())
                if state is None:
                    raise ValidationError(
                        {
                            "state": [
                                f"{word!r} is not a state; use {', '.join(TargetState.values)}."
                            ]
                        }
                    )
                states.add(state)
            targets = targets.filter(state__in=states)
        cause = request.query_params.get("cause")
        if cause:
            targets = targets.filter(cause=cause)
        if request.accepted_renderer.format == "csv":
            return _csv_response(job, targets)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(targets, request, view=self)
        return paginator.get_paginated_response([target_item(t) for t in page])


class HeadlessOperationReportView(_JsonErrors, _BulkView):
    """Every device's result as CSV (an inventory_audit's snapshot)."""

    renderer_classes = [CSVRenderer, JSONRenderer]

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR, **ERRORS})
    def get(self, request, id: str):
        job = _job_or_404(request, id)
        return _csv_response(job, job.targets.select_related("operation").order_by("id"))


def bulk_urlpatterns() -> list:
    """Routes of the three twins, to add to the API's urlpatterns."""
    patterns = []
    for addressing, endpoint in ENDPOINTS.items():
        kw = {"addressing": addressing}
        patterns += [
            path(f"{endpoint}/", HeadlessOperationView.as_view(**kw)),
            path(f"{endpoint}/<str:id>/", HeadlessOperationDetailView.as_view(**kw)),
            path(f"{endpoint}/<str:id>/cancel/", HeadlessOperationCancelView.as_view(**kw)),
            path(f"{endpoint}/<str:id>/devices/", HeadlessOperationDevicesView.as_view(**kw)),
            path(f"{endpoint}/<str:id>/report.csv", HeadlessOperationReportView.as_view(**kw)),
        ]
    return patterns
