"""Admin pages for organizations, memberships and API tokens (tokens created here too)."""

from __future__ import annotations

from django.contrib import admin, messages

from linesman.core.admin_mixins import AuditedAdmin
from linesman.tenancy import services
from linesman.tenancy.models import ApiToken, Membership, Organization

# Only superusers use the admin: it is not organization-scoped like the API.
admin.site.has_permission = lambda request: request.user.is_active and request.user.is_superuser
admin.site.site_header = "Linesman administration"


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(AuditedAdmin):
    list_display = ("id", "name", "created")
    search_fields = ("name",)
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ("user", "organization", "role")
    list_filter = ("role", "organization")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created", "expires_at", "last_used")
    fields = ("user", "name", "expires_at")
    readonly_fields = ()

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        issued = services.create_token(obj.user, name=obj.name, expires_at=obj.expires_at)
        obj.pk = issued.token.pk
        messages.warning(request, f"New token (shown once, copy it now): {issued.clear}")
