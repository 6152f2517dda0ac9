"""Django app configuration for metrics: subscribes to the ACS's Inform and RPC answers."""

from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "linesman.metrics"
    label = "metrics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from linesman.metrics import services

        services.connect()
