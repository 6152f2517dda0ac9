"""Django app configuration for the audit trail."""

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "linesman.audit"
    label = "audit"
    default_auto_field = "django.db.models.BigAutoField"
