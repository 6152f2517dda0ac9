"""Routes of the REST API under /api/v1/, named as the seeds' platform family names them."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from linesman.audit.api.views import AuditEntryViewSet
from linesman.inventory.api.views import (
    DeviceByNameViewSet,
    DeviceBySerialViewSet,
    DeviceTypeViewSet,
    DeviceViewSet,
    FirmwareImageViewSet,
    LocationViewSet,
    OrganizationViewSet,
)

router = SimpleRouter(trailing_slash=True)
router.register("inventory_device", DeviceViewSet, basename="inventory_device")
router.register("inventory_device_name", DeviceByNameViewSet, basename="inventory_device_name")
router.register(
    "inventory_device_serial", DeviceBySerialViewSet, basename="inventory_device_serial"
)
router.register("organization", OrganizationViewSet, basename="organization")
router.register("inventory_type", DeviceTypeViewSet, basename="inventory_type")
router.register("inventory_location", LocationViewSet, basename="inventory_location")
router.register(
    "inventory_firmware_image", FirmwareImageViewSet, basename="inventory_firmware_image"
)
router.register("audit_log", AuditEntryViewSet, basename="audit_log")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("", include(router.urls)),
]
