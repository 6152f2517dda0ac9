"""DRF authentication by API token: `Bearer <t>`, `Token <t>` or a bare token.

Unknown and expired tokens are counted per source address (`core.throttle`); beyond the
limit they are answered 429 with Retry-After instead of 401. A valid token is never
refused and costs no throttle I/O.
"""

from __future__ import annotations

from rest_framework import authentication, exceptions

from linesman.core import throttle
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
            limits = throttle.api_token_limits(request.META.get("REMOTE_ADDR", ""))
            wait = throttle.fail(limits)
            if wait is not None:
                raise exceptions.Throttled(
                    wait, "Too many invalid tokens from this address; try again later."
                )
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        return token.user, token

    def authenticate_header(self, request) -> str:
        # A WWW-Authenticate value makes DRF answer 401 (not 403) to anonymous callers.
        return 'Bearer realm="api"'
