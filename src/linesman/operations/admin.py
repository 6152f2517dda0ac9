"""Admin page of operations (read-only: operations start through the API or CLI)."""

from __future__ import annotations

import json

from django.contrib import admin

from linesman.core import redaction
from linesman.operations.models import Operation


@admin.register(Operation)
class OperationAdmin(admin.ModelAdmin):
    list_display = ("operation_id", "device", "kind", "state", "initiated_at", "completed_at")
    list_filter = ("kind", "state")
    search_fields = ("operation_id", "device__serial_number")
    # What a get/refresh read and what a set wrote may hold secrets: shown redacted only.
    exclude = ("params", "output")
    readonly_fields = ("shown_params", "shown_output")

    @admin.display(description="params")
    def shown_params(self, op: Operation) -> str:
        return json.dumps(redaction.redact_output(op.params or {}), indent=1, sort_keys=True)

    @admin.display(description="output")
    def shown_output(self, op: Operation) -> str:
        return json.dumps(redaction.redact_output(op.output or {}), indent=1, sort_keys=True)

    def has_add_permission(self, request):
        return False
