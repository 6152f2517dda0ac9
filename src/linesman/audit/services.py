"""Recording audit entries, with secrets masked, from every place that changes state."""

from __future__ import annotations

from typing import Any

from django.db import models

from linesman.audit.models import AuditAction, AuditEntry
from linesman.core import hotsql, redaction

MASK = redaction.MARKER
#: Field names whose values never reach the audit trail in clear.
SECRET_FIELDS = {
    "password",
    "password_encrypted",
    "connection_request_password",
    "connection_request_password_encrypted",
    "key_hash",
    "secret_encrypted",  # webhook endpoints
}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if hasattr(value, "name") and hasattr(value, "url"):  # stored file
        return value.name or ""
    return str(value)


def snapshot(instance: models.Model) -> dict[str, Any]:
    """The instance's concrete field values (foreign keys as ids), secrets masked."""
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        value = getattr(instance, field.attname)
        data[field.name] = MASK if field.name in SECRET_FIELDS and value else _plain(value)
    # Secret device parameters (core.redaction): a setting's value, a type's template.
    if isinstance(data.get("variable_name"), str) and "value" in data:
        data["value"] = redaction.redact(data["variable_name"], data["value"])
    if isinstance(data.get("settings_template"), dict):
        data["settings_template"] = redaction.redact_mapping(data["settings_template"])
    return data


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for every field that changed."""
    return {
        name: [before.get(name), value]
        for name, value in after.items()
        if before.get(name) != value
    }


def actor_name(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return "system"
    return user.get_username()


def record(
    *,
    user,
    action: str,
    instance: models.Model | None = None,
    object_type: str = "",
    object_id: Any = "",
    object_repr: str = "",
    changes: dict | None = None,
    message: str = "",
    organization_id: int | None = None,
    device_id: int | None = None,
    actor: str | None = None,
) -> AuditEntry:
    if instance is not None:
        object_type = object_type or instance._meta.label_lower
        object_id = object_id or instance.pk
        object_repr = object_repr or str(instance)[:300]
        if organization_id is None:
            organization_id = getattr(instance, "organization_id", None)
        if organization_id is None and instance._meta.label_lower == "tenancy.organization":
            organization_id = instance.pk  # so its admins see changes to it
    entry = AuditEntry(
        user=user if getattr(user, "is_authenticated", False) else None,
        actor=actor or actor_name(user),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        object_repr=object_repr,
        changes=changes or {},
        message=message,
        organization_id=organization_id,
        device_id=device_id,
    )
    # One prepared INSERT rather than `save()`: an entry is written for every operation
    # that ends, thousands a minute in a bulk job, and nothing listens to its signals.
    hotsql.insert(entry)
    return entry


def record_create(user, instance: models.Model, *, device_id: int | None = None) -> AuditEntry:
    return record(
        user=user,
        action=AuditAction.CREATE,
        instance=instance,
        changes={k: [None, v] for k, v in snapshot(instance).items() if v not in (None, "")},
        device_id=device_id,
    )


def record_update(
    user,
    instance: models.Model,
    before: dict[str, Any],
    *,
    device_id: int | None = None,
    secrets_changed: tuple[str, ...] = (),
) -> AuditEntry | None:
    """Record what changed. A secret replaced by another is masked on both sides, so its
    change is invisible to `diff`; the caller names such fields in `secrets_changed`."""
    changes = diff(before, snapshot(instance))
    for name in secrets_changed:
        changes.setdefault(name, [before.get(name), MASK])
    if not changes:
        return None
    return record(
        user=user,
        action=AuditAction.UPDATE,
        instance=instance,
        changes=changes,
        device_id=device_id,
    )


def record_delete(user, instance: models.Model, *, device_id: int | None = None) -> AuditEntry:
    return record(
        user=user,
        action=AuditAction.DELETE,
        instance=instance,
        changes={k: [v, None] for k, v in snapshot(instance).items() if v not in (None, "")},
        device_id=device_id,
    )
