"""DRF authentication by API token: `Bearer <t>`, `Token <t>` or a bare token."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from linesman.tenancy import services


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("bearer", "token")

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "").strip()
        if not header:
            return None
        parts = header.split()
        if len(parts) == 2 and parts[0].lower() in self.keywords:
            clear = parts[1]
        elif len(parts) == 1:
            clear = parts[0]
        elif parts[0].lower() in {"basic", "digest"}:
            return None  # another scheme; let other authenticators decide
        else:
            raise exceptions.AuthenticationFailed("Malformed Authorization header.")
        token = services.authenticate_token(clear)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        return token.user, token

    def authenticate_header(self, request) -> str:
        # A WWW-Authenticate value makes DRF answer 401 (not 403) to anonymous callers.
        return 'Bearer realm="api"'
