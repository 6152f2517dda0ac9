"""Django app configuration of the dashboard."""

from __future__ import annotations

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "linesman.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"
