"""Admin pages for metric definitions and per-type collection intervals."""

from __future__ import annotations

from django.contrib import admin

from linesman.core.admin_mixins import AuditedAdmin
from linesman.metrics import services
from linesman.metrics.models import Metric, TypeCollection


@admin.register(Metric)
class MetricAdmin(AuditedAdmin):
    list_display = ("id", "name", "parameter_path", "kind", "group", "unit", "organization")
    list_filter = ("kind",)
    search_fields = ("name", "parameter_path")
    exclude = ("parameter",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The catalogue entry, as the API links it (services.save_metric).
        services.link_catalogue(obj)


@admin.register(TypeCollection)
class TypeCollectionAdmin(AuditedAdmin):
    list_display = ("device_type", "interval")
