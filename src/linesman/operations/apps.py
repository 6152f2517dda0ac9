"""Django app configuration for operations."""

from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "linesman.operations"
    label = "operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Bulk jobs subscribe to the engine's "operation finished" announcements, and their
        # Huey tasks register with the queue in every process (server and worker alike).
        from linesman.operations.bulk import services, tasks  # noqa: F401
