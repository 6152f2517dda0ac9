"""Django app configuration for the inventory."""

from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "linesman.inventory"
    label = "inventory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from linesman.inventory import device_types

        device_types.connect_signals()
