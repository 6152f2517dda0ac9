"""Django app configuration for operations."""

from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "linesman.operations"
    label = "operations"
    default_auto_field = "django.db.models.BigAutoField"
