"""The web side's protections: login lockout (dashboard and admin) and the dashboard's CSP.

Lockout: failed logins are counted per username and per source address (`core.throttle`,
shared by every process). A POST to a login page whose username or address is beyond its
limit is answered 429 before any password is checked, so it costs no password hash.

CSP: the dashboard's pages load only their own static files (no inline script or style),
so they carry a strict Content-Security-Policy. Other pages (the admin, Swagger UI) keep
Django's and drf-spectacular's own markup and are left alone.
"""

from __future__ import annotations

from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from linesman.core import throttle

LOGIN_VIEWS = frozenset({"dashboard:login", "admin:login"})
CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
CSP_PREFIX = "/ui/"


def _address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


class LoginLockoutMiddleware:
    """Answers 429 to login attempts of a locked-out username or address."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if request.method != "POST" or request.resolver_match is None:
            return None
        if request.resolver_match.view_name not in LOGIN_VIEWS:
            return None
        username = request.POST.get("username", "")
        wait = throttle.blocked(throttle.login_limits(username, _address(request)))
        if wait is None:
            return None
        response = TemplateResponse(
            request,
            "dashboard/locked.html",
            {"minutes": max(1, round(wait / 60)), "seconds": wait},
            status=429,
        )
        response["Retry-After"] = str(wait)
        return response


@receiver(user_login_failed, dispatch_uid="linesman-login-lockout")
def _count_failed_login(sender, credentials: dict, request: HttpRequest | None = None, **kw):
    if request is None:  # not a web login (e.g. the command line)
        return
    throttle.fail(throttle.login_limits(credentials.get("username", ""), _address(request)))


class ContentSecurityPolicyMiddleware:
    """A strict Content-Security-Policy on the dashboard's responses."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(CSP_PREFIX):
            response.setdefault("Content-Security-Policy", CSP)
        return response
