"""Tenancy rules: creating organizations, users and tokens, and resolving who may do what.

Every entry point (API, admin, CLI, dashboard) asks these functions, so a permission rule
lives in one place.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from linesman.tenancy.models import ROLE_RANK, ApiToken, Membership, Organization, Role

TOKEN_PREFIX_LEN = 8


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    clear: str  # shown to the user once, never stored


def create_token(user, *, name: str = "", expires_at: datetime | None = None) -> IssuedToken:
    clear = "lsm_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=clear[:TOKEN_PREFIX_LEN],
        key_hash=hash_token(clear),
        expires_at=expires_at,
    )
    return IssuedToken(token=token, clear=clear)


def authenticate_token(clear: str) -> ApiToken | None:
    """The live token matching `clear`, or None if unknown, expired, or its user is inactive."""
    try:
        token = ApiToken.objects.select_related("user").get(key_hash=hash_token(clear))
    except ApiToken.DoesNotExist:
        return None
    now = timezone.now()
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if not token.user.is_active:
        return None
    # Stamp at most once a minute: a write on every API call would serialise SQLite writers.
    if token.last_used is None or (now - token.last_used).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
    return token


def create_organization(name: str, description: str = "") -> Organization:
    return Organization.objects.create(name=name, description=description)


@transaction.atomic
def create_user(
    username: str,
    *,
    password: str | None = None,
    email: str = "",
    organization: Organization | None = None,
    role: str = Role.VIEWER,
    superuser: bool = False,
):
    User = get_user_model()
    if superuser:
        user = User.objects.create_superuser(username=username, email=email, password=password)
    else:
        user = User.objects.create_user(username=username, email=email, password=password)
    if organization is not None:
        set_membership(user, organization, role)
    return user


def set_membership(user, organization: Organization, role: str) -> Membership:
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(Role.values)}")
    membership, _ = Membership.objects.update_or_create(
        user=user, organization=organization, defaults={"role": role}
    )
    return membership


def remove_membership(user, organization: Organization) -> bool:
    """End `user`'s membership of `organization`; False if there was none."""
    deleted, _ = Membership.objects.filter(user=user, organization=organization).delete()
    return deleted > 0


class Access:
    """What one user may see and do, computed once per request.

    `org_ids` is None for a superuser (every organization), otherwise the set of
    organizations the user belongs to, with the role in each.
    """

    def __init__(self, user: AbstractBaseUser | AnonymousUser):
        self.user = user
        self.is_superuser = bool(getattr(user, "is_superuser", False))
        self.roles: dict[int, str] = {}
        if user.is_authenticated and not self.is_superuser:
            self.roles = dict(
                Membership.objects.filter(user=user).values_list("organization_id", "role")
            )

    @property
    def org_ids(self) -> set[int] | None:
        return None if self.is_superuser else set(self.roles)

    def can_see_org(self, org_id: int | None) -> bool:
        return self.is_superuser or (org_id is not None and org_id in self.roles)

    def has_role(self, org_id: int | None, role: str) -> bool:
        if self.is_superuser:
            return True
        held = self.roles.get(org_id) if org_id is not None else None
        return held is not None and ROLE_RANK[Role(held)] >= ROLE_RANK[Role(role)]

    def has_role_anywhere(self, role: str) -> bool:
        return self.is_superuser or any(
            ROLE_RANK[Role(held)] >= ROLE_RANK[Role(role)] for held in self.roles.values()
        )

    def restrict(self, queryset, field: str = "organization_id", allow_shared: bool = False):
        """Limit a queryset to visible organizations (and shared rows with no organization)."""
        if self.is_superuser:
            return queryset
        from django.db.models import Q

        condition = Q(**{f"{field}__in": list(self.roles)})
        if allow_shared:
            condition |= Q(**{f"{field}__isnull": True})
        return queryset.filter(condition)


def access_for(request) -> Access:
    """The request's Access, cached on the request object."""
    cached = getattr(request, "_linesman_access", None)
    if cached is None or cached.user is not request.user:
        cached = Access(request.user)
        request._linesman_access = cached
    return cached
