"""Django app configuration for the ACS."""

from django.apps import AppConfig


class CwmpConfig(AppConfig):
    name = "linesman.cwmp"
    label = "cwmp"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from linesman.cwmp import challenge, parameters

        challenge.connect()
        parameters.connect()
