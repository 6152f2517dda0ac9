"""Django app configuration for tenancy."""

from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "linesman.tenancy"
    label = "tenancy"
    default_auto_field = "django.db.models.BigAutoField"
