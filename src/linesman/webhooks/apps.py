"""Django app configuration for webhooks: subscribes to the platform events when ready."""

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "linesman.webhooks"
    label = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from linesman.core import events
        from linesman.webhooks import services, tasks
        from linesman.webhooks.models import Endpoint

        events.subscribe(tasks.on_event, tuple(services.EVENT_TYPES))
        for signal in (post_save, post_delete):
            signal.connect(services.forget_subscriptions, sender=Endpoint, dispatch_uid="wh-subs")
