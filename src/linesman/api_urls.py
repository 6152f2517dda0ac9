"""Routes of the REST API under /api/v1/, named as the seeds' platform family names them."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from linesman import api_schema  # noqa: F401  (registers the schema's token scheme)
from linesman.api_root import ApiRootView
from linesman.audit.api.views import AuditEntryViewSet
from linesman.connprofiles.api.views import ConnectionProfileViewSet
from linesman.cwmp.api.views import (
    DeviceNameVariablesView,
    DeviceSerialVariablesView,
    DeviceVariablesView,
)
from linesman.devicelog.api.views import DeviceLogViewSet
from linesman.diagnostics.api.views import diagnostics_urlpatterns
from linesman.inventory.api.settings_views import (
    DeviceNameSettingsView,
    DeviceSerialSettingsView,
    DeviceSettingsView,
    ParameterViewSet,
    SettingByNameListView,
    SettingBySerialListView,
    SettingListView,
)
from linesman.inventory.api.views import (
    DeviceByNameViewSet,
    DeviceBySerialViewSet,
    DeviceTypeViewSet,
    DeviceViewSet,
    FirmwareImageViewSet,
    LocationViewSet,
    OrganizationViewSet,
)
from linesman.operations.api.attribute_views import (
    DeviceAttributesView,
    DeviceNameAttributesView,
    DeviceSerialAttributesView,
)
from linesman.operations.api.views import (
    DeviceNameOperationView,
    DeviceOperationHistoryView,
    DeviceOperationView,
    DeviceSerialOperationView,
    OperationCancelView,
    WhipView,
)
from linesman.operations.bulk.api.views import bulk_urlpatterns
from linesman.webhooks.api.views import DeliveryViewSet, EndpointViewSet

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
router.register("inventory_parameter", ParameterViewSet, basename="inventory_parameter")
router.register("inventory_device_setting", SettingListView, basename="inventory_device_setting")
router.register(
    "inventory_device_name_setting", SettingByNameListView, basename="inventory_device_name_setting"
)
router.register(
    "inventory_device_serial_setting",
    SettingBySerialListView,
    basename="inventory_device_serial_setting",
)
router.register("inventory_device_log", DeviceLogViewSet, basename="inventory_device_log")
router.register(
    "inventory_connection_profile",
    ConnectionProfileViewSet,
    basename="inventory_connection_profile",
)
router.register("webhook_endpoint", EndpointViewSet, basename="webhook_endpoint")
router.register("webhook_delivery", DeliveryViewSet, basename="webhook_delivery")

urlpatterns = [
    path(
        "",
        ApiRootView.as_view(resources=tuple(sorted(prefix for prefix, *_ in router.registry))),
        name="api-root",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("inventory_device_operation/<int:id>/", DeviceOperationView.as_view()),
    path(
        "inventory_device_serial_operation/<str:serial_number>/",
        DeviceSerialOperationView.as_view(),
    ),
    path("inventory_device_name_operation/<str:name>/", DeviceNameOperationView.as_view()),
    path("inventory_device_whip/<int:pk>/", WhipView.as_view()),
    path("inventory_device/<int:pk>/operations/", DeviceOperationHistoryView.as_view()),
    path("operations/<str:operation_id>/cancel/", OperationCancelView.as_view()),
    path("inventory_device_variables/<int:id>/", DeviceVariablesView.as_view()),
    path("inventory_device_name_variables/<str:name>/", DeviceNameVariablesView.as_view()),
    path(
        "inventory_device_serial_variables/<str:serial_number>/",
        DeviceSerialVariablesView.as_view(),
    ),
    path("inventory_device_setting/<int:parent_id>/", DeviceSettingsView.as_view()),
    path("inventory_device_name_setting/<str:parent__name>/", DeviceNameSettingsView.as_view()),
    path(
        "inventory_device_serial_setting/<str:parent__serial_number>/",
        DeviceSerialSettingsView.as_view(),
    ),
    path("inventory_device_attributes/<int:id>/", DeviceAttributesView.as_view()),
    path("inventory_device_name_attributes/<str:name>/", DeviceNameAttributesView.as_view()),
    path(
        "inventory_device_serial_attributes/<str:serial_number>/",
        DeviceSerialAttributesView.as_view(),
    ),
    *bulk_urlpatterns(),
    path("", include("linesman.metrics.api.urls")),
    *diagnostics_urlpatterns(),
    path("", include(router.urls)),
]
