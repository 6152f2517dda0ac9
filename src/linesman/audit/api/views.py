"""The audit trail over the API: organization admins read their organizations' entries."""

from __future__ import annotations

import django_filters
from rest_framework import serializers, viewsets

from linesman.audit.models import AuditEntry
from linesman.core.api import check_organization_filter
from linesman.core.filters import IdFilter
from linesman.tenancy.models import Role
from linesman.tenancy.services import access_for


class AuditEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = (
            "id",
            "time",
            "actor",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "organization_id",
            "device_id",
            "changes",
            "message",
        )


class AuditFilter(django_filters.FilterSet):
    device = IdFilter(field_name="device_id")
    organization = IdFilter(field_name="organization_id")
    object_type = django_filters.CharFilter(field_name="object_type")
    action = django_filters.ChoiceFilter(
        field_name="action", choices=AuditEntry._meta.get_field("action").choices
    )

    class Meta:
        model = AuditEntry
        fields = ["device", "organization", "object_type", "action"]


class AuditEntryViewSet(viewsets.ReadOnlyModelViewSet):
    """Audit entries of the organizations where you are an admin (all, for superusers)."""

    serializer_class = AuditEntrySerializer
    filterset_class = AuditFilter

    def get_queryset(self):
        access = access_for(self.request)
        queryset = AuditEntry.objects.all()
        if access.is_superuser:
            return queryset
        admin_orgs = [org for org in access.roles if access.has_role(org, Role.ADMIN)]
        return queryset.filter(organization_id__in=admin_orgs)

    def list(self, request, *args, **kwargs):
        check_organization_filter(request)
        return super().list(request, *args, **kwargs)
