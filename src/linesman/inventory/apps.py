"""Django app configuration for the inventory."""

from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "linesman.inventory"
    label = "inventory"
    default_auto_field = "django.db.models.BigAutoField"
