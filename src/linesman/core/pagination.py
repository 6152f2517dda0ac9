"""`limit`/`offset` pagination with the seeds' `{count, next, previous, results}` envelope."""

from __future__ import annotations

from django.conf import settings
from rest_framework import pagination
from rest_framework.exceptions import ValidationError


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """Rejects malformed `limit`/`offset` (400) instead of silently falling back."""

    max_limit = settings.LINESMAN_MAX_PAGE_SIZE

    def get_limit(self, request):
        raw = request.query_params.get(self.limit_query_param)
        if raw is None or raw == "":
            return self.default_limit
        try:
            limit = int(raw)
        except ValueError:
            raise ValidationError({"limit": ["A whole number is required."]}) from None
        if limit < 1:
            raise ValidationError({"limit": ["Must be at least 1."]})
        return min(limit, self.max_limit)

    def get_offset(self, request):
        raw = request.query_params.get(self.offset_query_param)
        if raw is None or raw == "":
            return 0
        try:
            offset = int(raw)
        except ValueError:
            raise ValidationError({"offset": ["A whole number is required."]}) from None
        if offset < 0:
            raise ValidationError({"offset": ["Must not be negative."]})
        return offset
