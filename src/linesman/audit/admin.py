"""Read-only admin page of the audit trail."""

from __future__ import annotations

from django.contrib import admin

from linesman.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("time", "actor", "action", "object_type", "object_repr", "device_id")
    list_filter = ("action", "object_type")
    search_fields = ("object_repr", "actor", "message")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
