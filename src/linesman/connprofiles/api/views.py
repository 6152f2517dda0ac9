"""`inventory_connection_profile/`: the connection profiles a user can see (the shared ones
and their organizations'), read-only; superusers manage them in the admin."""

from __future__ import annotations

import django_filters
from rest_framework import serializers, viewsets

from linesman.connprofiles.models import ConnectionProfile
from linesman.tenancy.services import access_for


class ConnectionProfileSerializer(serializers.ModelSerializer):
    organization_id = serializers.IntegerField(read_only=True, allow_null=True)
    connection_service = serializers.SerializerMethodField()
    collection_service = serializers.SerializerMethodField()
    storage_service = serializers.SerializerMethodField()

    class Meta:
        model = ConnectionProfile
        fields = (
            "id",
            "name",
            "description",
            "organization_id",
            "connection_service",
            "collection_service",
            "storage_service",
            "created",
        )
        read_only_fields = fields

    def get_connection_service(self, obj: ConnectionProfile) -> dict:
        return {"protocol": "cwmp", "connection_request_methods": obj.connection_request_methods}

    def get_collection_service(self, obj: ConnectionProfile) -> dict:
        return {"metrics_interval": obj.metrics_interval, "log_level": obj.log_level}

    def get_storage_service(self, obj: ConnectionProfile) -> dict:
        return {"log_retention_days": obj.log_retention_days}


class ConnectionProfileFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="name")

    class Meta:
        model = ConnectionProfile
        fields = ["name"]


class ConnectionProfileViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ConnectionProfileSerializer
    filterset_class = ConnectionProfileFilter
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        queryset = ConnectionProfile.objects.order_by("id")
        return access_for(self.request).restrict(queryset, allow_shared=True)
