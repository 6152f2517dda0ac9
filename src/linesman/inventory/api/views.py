"""REST views for devices (by id, name and serial number) and the reference resources."""

from __future__ import annotations

from contextlib import contextmanager

from django.db import transaction
from django.db.models import ProtectedError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.exceptions import APIException, PermissionDenied
from rest_framework.response import Response

from linesman.core.api import bool_param, check_organization_filter, require_role
from linesman.core.errors import Conflict, Unprocessable
from linesman.inventory import services
from linesman.inventory.api.serializers import (
    DeviceListItemSerializer,
    DeviceSerializer,
    DeviceTypeSerializer,
    FirmwareImageSerializer,
    LocationSerializer,
    OrganizationSerializer,
    detail_item,
    list_item,
)
from linesman.inventory.filters import (
    DeviceFilter,
    DeviceTypeFilter,
    FirmwareImageFilter,
    LocationFilter,
)
from linesman.inventory.models import Device, DeviceType, FirmwareImage, Location
from linesman.operations.models import SEED_OPERATIONS
from linesman.operations.pending import pending_settings_for
from linesman.tenancy.models import Organization, Role
from linesman.tenancy.services import access_for

PENDING_PARAM = OpenApiParameter(
    "pending", OpenApiTypes.BOOL, description="Show each pending item with its state or time"
)
UPDATE_STATUS_PARAM = OpenApiParameter(
    "update_status",
    OpenApiTypes.BOOL,
    description="Probe the devices (connection request) before answering",
)
ERRORS = {
    400: OpenApiResponse(description="Invalid input; the body names each bad field"),
    401: OpenApiResponse(description="Missing or invalid API token"),
    403: OpenApiResponse(description="Insufficient role in the organization"),
}
NOT_FOUND = {404: OpenApiResponse(description="No such device, or not visible to you")}

#: Fields an operator (not only an admin) may change with PATCH: operation flags and debug.
OPERATOR_FIELDS = {*SEED_OPERATIONS, "debug", "firmware_image", "firmware_image_is_pending"}


@contextmanager
def operation_errors():
    """The operation service's refusals as API errors (400, 409, 422), not 500s."""
    from linesman.operations.services import OperationError

    try:
        yield
    except OperationError as exc:
        error = APIException(str(exc))
        error.status_code = exc.status_code
        raise error from None


def _require_admin_somewhere(request) -> None:
    """403 before looking at the body when the user cannot create anything anywhere."""
    if not access_for(request).has_role_anywhere(Role.ADMIN):
        raise PermissionDenied("This needs the admin role in an organization.")


@extend_schema_view(
    list=extend_schema(
        parameters=[PENDING_PARAM, UPDATE_STATUS_PARAM],
        responses={200: DeviceListItemSerializer(many=True), **ERRORS},
    ),
    retrieve=extend_schema(
        parameters=[PENDING_PARAM, UPDATE_STATUS_PARAM],
        responses={200: DeviceSerializer, **ERRORS, **NOT_FOUND},
    ),
    create=extend_schema(responses={201: DeviceSerializer, **ERRORS}),
    update=extend_schema(responses={200: DeviceSerializer, **ERRORS, **NOT_FOUND}),
    partial_update=extend_schema(
        responses={
            200: DeviceSerializer,
            **ERRORS,
            **NOT_FOUND,
            409: OpenApiResponse(description="Another operation is active on the device"),
            422: OpenApiResponse(description="Firmware image of another device type"),
        }
    ),
    destroy=extend_schema(
        responses={
            204: None,
            **ERRORS,
            **NOT_FOUND,
            409: OpenApiResponse(description="The device has an operation in progress"),
        }
    ),
)
class DeviceViewSet(viewsets.ModelViewSet):
    """Devices addressed by id."""

    serializer_class = DeviceSerializer
    filterset_class = DeviceFilter
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        queryset = Device.objects.select_related("type", "location")
        return access_for(self.request).restrict(queryset).order_by("id")

    def filter_queryset(self, queryset):
        # The list's filters mean nothing to one device, and building the filter set costs a
        # detail request about a tenth of its time.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.request is not None and getattr(self, "swagger_fake_view", False) is False:
            context["pending_detail"] = bool_param(self.request, "pending")
        return context

    def _respond(self, device: Device, code: int = status.HTTP_200_OK) -> Response:
        pending = pending_settings_for([device], detailed=bool_param(self.request, "pending"))
        return Response(detail_item(device, pending), status=code)

    def list(self, request, *args, **kwargs):
        check_organization_filter(request)
        detailed = bool_param(request, "pending")
        update_status = bool_param(request, "update_status")
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        if update_status:
            services.refresh_status(page)
        pending = pending_settings_for(page, detailed=detailed)
        return self.get_paginated_response([list_item(device, pending) for device in page])

    def retrieve(self, request, *args, **kwargs):
        bool_param(request, "pending")
        device = self.get_object()
        if bool_param(request, "update_status"):
            services.refresh_status([device])
        return self._respond(device)

    def create(self, request, *args, **kwargs):
        _require_admin_somewhere(request)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        require_role(request, data["organization_id"], Role.ADMIN)
        if getattr(serializer, "firmware_mismatch", False):
            raise Unprocessable({"firmware_image": ["The image is for another device type."]})
        steps = self._steps(self._pop_flags(data))
        firmware = bool(data.get("firmware_image") and data.get("firmware_image_is_pending"))
        self._check_combination(steps, firmware)
        with operation_errors(), transaction.atomic():
            device = services.create_device(user=request.user, data=data)
            self._run_flags(device, steps, firmware=firmware)
        return self._respond(device, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        device = self.get_object()
        # The role first: a caller who may not change the device learns nothing from a 400.
        touched = set(request.data.keys()) if hasattr(request.data, "keys") else set()
        needed = Role.OPERATOR if partial and touched <= OPERATOR_FIELDS else Role.ADMIN
        require_role(request, device.organization_id, needed)
        serializer = self.get_serializer(device, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if data.get("organization_id", device.organization_id) != device.organization_id:
            require_role(request, data["organization_id"], Role.ADMIN)
        if getattr(serializer, "firmware_mismatch", False):
            raise Unprocessable({"firmware_image": ["The image is for another device type."]})
        steps = self._steps(self._pop_flags(data))
        from linesman.operations import services as operations

        firmware = operations.firmware_requested(device, data)
        self._check_combination(steps, firmware)
        with operation_errors():
            if steps or firmware:
                operations.check_can_start(device)  # 409 before anything changes
            # One transaction: an operation that cannot start leaves the device unchanged.
            with transaction.atomic():
                device = services.update_device(user=request.user, device=device, data=data)
                self._run_flags(device, steps, firmware=firmware)
        return self._respond(device)

    def destroy(self, request, *args, **kwargs):
        device = self.get_object()
        require_role(request, device.organization_id, Role.ADMIN)
        try:
            services.delete_device(user=request.user, device=device)
        except services.DeviceBusy as exc:
            raise Conflict(str(exc)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)

    @staticmethod
    def _pop_flags(data: dict) -> list[str]:
        return [name for name in SEED_OPERATIONS if data.pop(name, False)]

    @staticmethod
    def _steps(flags: list[str]) -> list[str]:
        """The flags in the order they run; an impossible combination is a 400."""
        from linesman.operations import services as operations

        with operation_errors():
            return operations.order_steps(flags) if flags else []

    @staticmethod
    def _check_combination(steps: list[str], firmware: bool) -> None:
        # A device runs one operation at a time: the upgrade would refuse the others (409).
        if steps and firmware:
            from rest_framework.exceptions import ValidationError

            raise ValidationError(
                {
                    "firmware_image_is_pending": [
                        "A firmware upgrade cannot be requested together with "
                        f"{', '.join(steps)}; send them one after the other."
                    ]
                }
            )

    def _run_flags(self, device: Device, steps: list[str], firmware: bool = False) -> None:
        if not steps and not firmware:
            return
        from linesman.operations import services as operations

        if firmware:
            operations.start_firmware_upgrade(device=device, user=self.request.user)
        if steps:
            operations.start_operation(
                device=device, kind=steps[0], steps=steps, user=self.request.user
            )


class _TwinLookupMixin:
    """Address a device by another unique-ish field; several visible matches answer 409."""

    lookup_value_regex = "[^/]+"

    def get_object(self):
        value = self.kwargs[self.lookup_field]
        matches = list(self.get_queryset().filter(**{self.lookup_field: value})[:20])
        if not matches:
            raise Http404
        if len(matches) > 1:
            raise Conflict(
                {
                    "detail": f"Several devices match {self.lookup_field} {value!r}.",
                    "ids": [d.pk for d in matches],
                }
            )
        self.check_object_permissions(self.request, matches[0])
        return matches[0]


@extend_schema_view(
    retrieve=extend_schema(
        parameters=[PENDING_PARAM, UPDATE_STATUS_PARAM],
        responses={200: DeviceSerializer, **ERRORS, **NOT_FOUND},
    ),
    update=extend_schema(responses={200: DeviceSerializer, **ERRORS, **NOT_FOUND}),
    partial_update=extend_schema(responses={200: DeviceSerializer, **ERRORS, **NOT_FOUND}),
    destroy=extend_schema(responses={204: None, **ERRORS, **NOT_FOUND}),
)
class DeviceByNameViewSet(_TwinLookupMixin, DeviceViewSet):
    """Devices addressed by name (unique within an organization)."""

    lookup_field = "name"


@extend_schema_view(
    retrieve=extend_schema(
        parameters=[PENDING_PARAM, UPDATE_STATUS_PARAM],
        responses={200: DeviceSerializer, **ERRORS, **NOT_FOUND},
    ),
    update=extend_schema(responses={200: DeviceSerializer, **ERRORS, **NOT_FOUND}),
    partial_update=extend_schema(responses={200: DeviceSerializer, **ERRORS, **NOT_FOUND}),
    destroy=extend_schema(responses={204: None, **ERRORS, **NOT_FOUND}),
)
class DeviceBySerialViewSet(_TwinLookupMixin, DeviceViewSet):
    """Devices addressed by serial number."""

    lookup_field = "serial_number"


class ReferenceViewSet(viewsets.ModelViewSet):
    """Reference objects: readable by members, writable by the organization's admins.

    Shared objects (no organization) are readable by everyone and writable by superusers.
    """

    model = None
    allow_shared = False
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return (
            access_for(self.request)
            .restrict(self.model.objects.all(), allow_shared=self.allow_shared)
            .order_by("id")
        )

    def list(self, request, *args, **kwargs):
        check_organization_filter(request)
        return super().list(request, *args, **kwargs)

    def create(self, request, *args, **kwargs):
        _require_admin_somewhere(request)
        return super().create(request, *args, **kwargs)

    def update(self, request, *args, **kwargs):
        self._check_write(self.get_object().organization_id)  # 403 before a 400
        return super().update(request, *args, **kwargs)

    def _check_write(self, org_id) -> None:
        if org_id is None:
            if not access_for(self.request).is_superuser:
                raise PermissionDenied("Only superusers manage shared objects.")
            return
        if not Organization.objects.filter(pk=org_id).exists():
            from rest_framework.exceptions import ValidationError

            raise ValidationError({"organization_id": ["Unknown organization."]})
        require_role(self.request, org_id, Role.ADMIN)

    def _data(self, serializer) -> dict:
        return dict(serializer.validated_data)

    def perform_create(self, serializer):
        data = self._data(serializer)
        self._check_write(data.get("organization_id"))
        serializer.instance = services.save_reference(
            user=self.request.user, instance=self.model(), data=data
        )

    def perform_update(self, serializer):
        instance = serializer.instance
        self._check_write(instance.organization_id)
        data = self._data(serializer)
        if "organization_id" in data and data["organization_id"] != instance.organization_id:
            self._check_write(data["organization_id"])
        serializer.instance = services.save_reference(
            user=self.request.user, instance=instance, data=data
        )

    def perform_destroy(self, instance):
        self._check_write(instance.organization_id)
        try:
            services.delete_reference(user=self.request.user, instance=instance)
        except ProtectedError:
            raise Conflict("Objects still refer to this one; remove or move them first.") from None


class DeviceTypeViewSet(ReferenceViewSet):
    """Device types (profiles/templates with a TR-069 settings template)."""

    model = DeviceType
    allow_shared = True
    serializer_class = DeviceTypeSerializer
    filterset_class = DeviceTypeFilter


class LocationViewSet(ReferenceViewSet):
    model = Location
    serializer_class = LocationSerializer
    filterset_class = LocationFilter


class FirmwareImageViewSet(ReferenceViewSet):
    """Firmware images; upload the file as multipart/form-data."""

    model = FirmwareImage
    allow_shared = True
    serializer_class = FirmwareImageSerializer
    filterset_class = FirmwareImageFilter

    def _data(self, serializer) -> dict:
        return services.firmware_image_values(serializer.validated_data)


class OrganizationViewSet(viewsets.ModelViewSet):
    """Organizations: members read theirs; superusers create and delete, admins rename."""

    serializer_class = OrganizationSerializer
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return access_for(self.request).restrict(Organization.objects.all(), "id").order_by("id")

    def create(self, request, *args, **kwargs):
        if not access_for(request).is_superuser:
            raise PermissionDenied("Only superusers create organizations.")
        return super().create(request, *args, **kwargs)

    def update(self, request, *args, **kwargs):
        require_role(request, self.get_object().pk, Role.ADMIN)  # 403 before a 400
        return super().update(request, *args, **kwargs)

    def perform_create(self, serializer):
        if not access_for(self.request).is_superuser:
            raise PermissionDenied("Only superusers create organizations.")
        serializer.instance = services.save_reference(
            user=self.request.user, instance=Organization(), data=dict(serializer.validated_data)
        )

    def perform_update(self, serializer):
        require_role(self.request, serializer.instance.pk, Role.ADMIN)
        serializer.instance = services.save_reference(
            user=self.request.user,
            instance=serializer.instance,
            data=dict(serializer.validated_data),
        )

    def perform_destroy(self, instance):
        if not access_for(self.request).is_superuser:
            raise PermissionDenied("Only superusers delete organizations.")
        try:
            services.delete_reference(user=self.request.user, instance=instance)
        except ProtectedError:
            raise Conflict("The organization still has devices; remove them first.") from None
