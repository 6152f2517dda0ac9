"""Django app configuration for observability: counts platform events when ready."""

from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "linesman.observability"
    label = "observability"

    def ready(self) -> None:
        from linesman.observability import metrics

        metrics.subscribe()
