"""Admin page of operations (read-only: operations start through the API or CLI)."""

from __future__ import annotations

from django.contrib import admin

from linesman.operations.models import Operation


@admin.register(Operation)
class OperationAdmin(admin.ModelAdmin):
    list_display = ("operation_id", "device", "kind", "state", "initiated_at", "completed_at")
    list_filter = ("kind", "state")
    search_fields = ("operation_id", "device__serial_number")

    def has_add_permission(self, request):
        return False
