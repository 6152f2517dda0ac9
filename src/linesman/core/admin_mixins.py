"""Admin integration: saves and deletes are audited, and text is checked like the API's."""

from __future__ import annotations

from django.contrib import admin

from linesman.audit import services as audit
from linesman.core import textcheck


class _TextCheckedForm:
    """Refuses text XML 1.0 cannot carry (core.textcheck), as the API does, per field."""

    def clean(self):
        cleaned = super().clean()
        found = list(textcheck.problems_in(cleaned))
        for where, message in found:
            field = where.split(".")[0].split("[")[0]
            self.add_error(field if field in self.fields else None, f"The value {message}")
        return cleaned


class AuditedAdmin(admin.ModelAdmin):
    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (_TextCheckedForm, form), {})

    def save_model(self, request, obj, form, change):
        before = audit.snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        device_id = obj.pk if obj._meta.label_lower == "inventory.device" else None
        if change:
            audit.record_update(request.user, obj, before, device_id=device_id)
        else:
            audit.record_create(request.user, obj, device_id=device_id)

    def delete_model(self, request, obj):
        device_id = obj.pk if obj._meta.label_lower == "inventory.device" else None
        audit.record_delete(request.user, obj, device_id=device_id)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def save_formset(self, request, form, formset, change):
        """Inline rows (an organization's memberships, i.e. roles) are audited too."""
        befores = {
            f.instance.pk: audit.snapshot(type(f.instance).objects.get(pk=f.instance.pk))
            for f in formset.initial_forms
            if f.instance.pk is not None and f.has_changed()
        }
        for f in formset.deleted_forms:
            if f.instance.pk is not None:  # recorded first: deleting clears the pk
                audit.record_delete(request.user, f.instance)
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            audit.record_create(request.user, obj)
        for obj, _fields in formset.changed_objects:
            audit.record_update(request.user, obj, befores.get(obj.pk, {}))
