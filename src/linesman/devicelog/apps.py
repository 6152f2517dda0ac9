from __future__ import annotations

from django.apps import AppConfig


class DeviceLogConfig(AppConfig):
    name = "linesman.devicelog"
    label = "devicelog"
    verbose_name = "Device log"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from linesman.core import events
        from linesman.devicelog.subscriber import on_event

        events.subscribe(on_event)
