"""The metric endpoints: `inventory_metric/` (definitions) and `inventory_metric_log/`."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from django.conf import settings
from django.db.models import Q
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from linesman.core import textcheck
from linesman.core.api import check_organization_filter
from linesman.inventory.api.views import ReferenceViewSet
from linesman.metrics import services
from linesman.metrics.api.filters import MetricFilter, MetricLogFilter
from linesman.metrics.api.serializers import (
    LIST_FIELDS,
    MetricLogSerializer,
    MetricSerializer,
    list_item,
)
from linesman.metrics.models import Metric, MetricLog
from linesman.tenancy.services import access_for


class MetricViewSet(ReferenceViewSet):
    """Metric definitions: readable by members; organization admins manage their own,
    superusers the shared ones (no organization), which apply to every organization."""

    model = Metric
    allow_shared = True
    serializer_class = MetricSerializer
    filterset_class = MetricFilter

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        self._check_write(data.get("organization_id"))
        serializer.instance = services.save_metric(
            user=self.request.user, instance=Metric(), data=data
        )

    def perform_update(self, serializer):
        instance = serializer.instance
        self._check_write(instance.organization_id)
        data = dict(serializer.validated_data)
        if "organization_id" in data and data["organization_id"] != instance.organization_id:
            self._check_write(data["organization_id"])
        serializer.instance = services.save_metric(
            user=self.request.user, instance=instance, data=data
        )

    def perform_destroy(self, instance):
        self._check_write(instance.organization_id)
        services.delete_metric(user=self.request.user, instance=instance)


class TimeCursorPagination(BasePagination):
    """Keyset pages in (time, id) order: a page starts after the last point of the one
    before, so points recorded while a client pages never shift or repeat what it reads
    (an offset would). `cursor` is opaque; `limit` sets the page size."""

    cursor_query_param = "cursor"

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = self._limit(request)
        position = self._decode(request.query_params.get(self.cursor_query_param))
        reverse = bool(position and position[2])
        if position is not None:
            time, pk, _ = position
            after = Q(time__gt=time) | Q(time=time, id__gt=pk)
            before = Q(time__lt=time) | Q(time=time, id__lt=pk)
            queryset = queryset.filter(before if reverse else after)
        ordering = ("-time", "-id") if reverse else ("time", "id")
        rows = list(queryset.order_by(*ordering)[: self.limit + 1])
        more = len(rows) > self.limit
        rows = rows[: self.limit]
        if reverse:
            rows.reverse()
        self.has_next = more if not reverse else True
        self.has_previous = (position is not None) if not reverse else more
        self.rows = rows
        return rows

    def _limit(self, request) -> int:
        raw = request.query_params.get("limit")
        if raw in (None, ""):
            return settings.REST_FRAMEWORK["PAGE_SIZE"]
        limit = textcheck.parse_id(raw.strip())
        if limit is None or limit < 1:
            raise ValidationError({"limit": ["A whole number of at least 1 is required."]})
        return min(limit, settings.LINESMAN_MAX_PAGE_SIZE)

    @staticmethod
    def _key(row) -> tuple[datetime, int]:
        """(time, id) of a row: a plain row (the list) or a model instance."""
        return (row["time"], row["id"]) if isinstance(row, dict) else (row.time, row.pk)

    def _encode(self, row, reverse: bool) -> str:
        time, pk = self._key(row)
        text = json.dumps([time.isoformat(), pk, int(reverse)])
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @staticmethod
    def _decode(raw: str | None):
        if raw in (None, ""):
            return None
        try:
            padded = raw + "=" * (-len(raw) % 4)
            time, pk, reverse = json.loads(base64.urlsafe_b64decode(padded.encode()))
            moment = datetime.fromisoformat(time)
            if moment.tzinfo is None or not isinstance(pk, int) or not 0 < pk <= textcheck.MAX_ID:
                raise ValueError
            return moment, pk, bool(reverse)
        except (ValueError, TypeError, binascii.Error, UnicodeError):
            raise ValidationError({"cursor": ["Not a cursor this endpoint gave out."]}) from None

    def _link(self, point, reverse: bool) -> str:
        query = self.request.META.get("QUERY_STRING", "")
        url = f"{settings.LINESMAN_PUBLIC_URL}{self.request.path_info}" + (
            f"?{query}" if query else ""
        )
        url = remove_query_param(url, self.cursor_query_param)
        return replace_query_param(url, self.cursor_query_param, self._encode(point, reverse))

    def get_paginated_response(self, data):
        next_link = self._link(self.rows[-1], False) if self.has_next and self.rows else None
        previous = self._link(self.rows[0], True) if self.has_previous and self.rows else None
        return Response({"next": next_link, "previous": previous, "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }


class MetricLogViewSet(viewsets.ReadOnlyModelViewSet):
    """The metric series of the caller's organizations' devices, oldest first."""

    serializer_class = MetricLogSerializer
    filterset_class = MetricLogFilter
    pagination_class = TimeCursorPagination

    def get_queryset(self):
        points = MetricLog.objects.select_related("device", "metric")
        return access_for(self.request).restrict(points, "device__organization_id")

    def list(self, request, *args, **kwargs):
        check_organization_filter(request)
        rows = self.filter_queryset(self.get_queryset()).values(*LIST_FIELDS)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response([list_item(row) for row in page])
