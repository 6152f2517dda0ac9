"""Routes of the metric endpoints, included by linesman.api_urls under /api/v1/."""

from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from linesman.metrics.api.views import MetricLogViewSet, MetricViewSet

router = SimpleRouter(trailing_slash=True)
router.register("inventory_metric", MetricViewSet, basename="inventory_metric")
router.register("inventory_metric_log", MetricLogViewSet, basename="inventory_metric_log")

urlpatterns = [path("", include(router.urls))]
