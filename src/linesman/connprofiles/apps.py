from __future__ import annotations

from django.apps import AppConfig


class ConnectionProfilesConfig(AppConfig):
    name = "linesman.connprofiles"
    label = "connprofiles"
    verbose_name = "Connection profiles"
    default_auto_field = "django.db.models.BigAutoField"
