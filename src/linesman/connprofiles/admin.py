from __future__ import annotations

from django.contrib import admin

from linesman.connprofiles.models import ConnectionProfile


@admin.register(ConnectionProfile)
class ConnectionProfileAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "metrics_interval", "log_level", "log_retention_days")
    search_fields = ("name",)
