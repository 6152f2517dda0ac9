"""Django app configuration for webhooks: subscribes to the platform events when ready."""

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "linesman.webhooks"
    label = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from linesman.core import events
        from linesman.webhooks import services, tasks

        events.subscribe(tasks.on_event, tuple(services.EVENT_TYPES))
