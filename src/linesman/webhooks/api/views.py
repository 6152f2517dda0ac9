"""Webhook endpoints and their delivery log over the API, for organization admins.

`/api/v1/webhook_endpoint/` (CRUD) and `/api/v1/webhook_delivery/` (read-only, filter by
`endpoint`, `status`, `event_type`). Viewers and operators see empty lists: endpoints
carry where an organization's data goes, which is an admin's business.
"""

from __future__ import annotations

import django_filters
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from linesman.core.api import check_organization_filter, require_role
from linesman.core.filters import IdFilter
from linesman.tenancy.models import Organization, Role
from linesman.tenancy.services import access_for
from linesman.webhooks import services
from linesman.webhooks.models import Delivery, DeliveryStatus, Endpoint


class EndpointSerializer(serializers.ModelSerializer):
    organization_id = serializers.IntegerField()
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(services.EVENT_TYPES)), allow_empty=False
    )
    secret = serializers.CharField(
        write_only=True,
        required=False,
        min_length=16,
        max_length=200,
        help_text="Signs deliveries; generated when omitted and shown once in the answer.",
    )

    class Meta:
        model = Endpoint
        fields = (
            "id",
            "organization_id",
            "name",
            "url",
            "event_types",
            "active",
            "secret",
            "failure_count",
            "disabled_reason",
            "disabled_at",
            "created",
            "updated",
        )
        read_only_fields = ("failure_count", "disabled_reason", "disabled_at")


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = (
            "id",
            "endpoint",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "response_code",
            "error",
            "created",
            "last_attempt_at",
            "next_attempt_at",
            "payload",
        )


def _admin_orgs(request) -> list[int] | None:
    access = access_for(request)
    if access.is_superuser:
        return None
    return [org for org in access.roles if access.has_role(org, Role.ADMIN)]


class EndpointFilter(django_filters.FilterSet):
    organization = IdFilter(field_name="organization_id")

    class Meta:
        model = Endpoint
        fields = ["organization", "active"]


class EndpointViewSet(viewsets.ModelViewSet):
    """Webhook endpoints of the organizations where you are an admin."""

    serializer_class = EndpointSerializer
    filterset_class = EndpointFilter
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        orgs = _admin_orgs(self.request)
        queryset = Endpoint.objects.all().order_by("id")
        return queryset if orgs is None else queryset.filter(organization_id__in=orgs)

    def list(self, request, *args, **kwargs):
        check_organization_filter(request)
        return super().list(request, *args, **kwargs)

    def create(self, request, *args, **kwargs):
        access = access_for(request)
        if not access.has_role_anywhere(Role.ADMIN):
            raise PermissionDenied("This needs the admin role in the organization.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        self._check_org(data["organization_id"])
        saved = self._save(lambda: services.create_endpoint(user=request.user, data=data))
        body = {**self.get_serializer(saved.endpoint).data, "secret": saved.secret}
        return Response(body, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        endpoint = self.get_object()
        require_role(request, endpoint.organization_id, Role.ADMIN)  # 403 before a 400
        serializer = self.get_serializer(endpoint, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if data.get("organization_id", endpoint.organization_id) != endpoint.organization_id:
            self._check_org(data["organization_id"])
        saved = self._save(
            lambda: services.update_endpoint(user=request.user, endpoint=endpoint, data=data)
        )
        body = self.get_serializer(saved.endpoint).data
        if saved.secret:
            body = {**body, "secret": saved.secret}
        return Response(body)

    def perform_destroy(self, instance):
        require_role(self.request, instance.organization_id, Role.ADMIN)
        services.delete_endpoint(user=self.request.user, endpoint=instance)

    def _check_org(self, org_id: int) -> None:
        if not Organization.objects.filter(pk=org_id).exists():
            raise ValidationError({"organization_id": ["Unknown organization."]})
        require_role(self.request, org_id, Role.ADMIN)

    @staticmethod
    def _save(action):
        try:
            return action()
        except services.EndpointError as exc:
            raise ValidationError({exc.field: [str(exc)]}) from None


class DeliveryFilter(django_filters.FilterSet):
    endpoint = IdFilter(field_name="endpoint_id")
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)
    event_type = django_filters.CharFilter()

    class Meta:
        model = Delivery
        fields = ["endpoint", "status", "event_type"]


class DeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    """The delivery log of the endpoints of the organizations where you are an admin."""

    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilter

    def get_queryset(self):
        orgs = _admin_orgs(self.request)
        queryset = Delivery.objects.all().order_by("-id")
        return queryset if orgs is None else queryset.filter(endpoint__organization_id__in=orgs)
