"""Top-level routes: the API, its docs, the admin, the ACS, the firmware and speed-test files."""

from __future__ import annotations

from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path, re_path
from django.views import defaults

from linesman.cwmp.views import acs
from linesman.dashboard import errors
from linesman.diagnostics import files as diagnostic_files
from linesman.inventory import firmware
from linesman.observability.views import metrics_view


def root(request):
    return JsonResponse(
        {
            "name": "Linesman",
            "api": "/api/v1/",
            "docs": "/api/v1/docs/",
            "acs": "/cwmp/",
            "admin": "/admin/",
            "metrics": "/metrics",
        }
    )


def _api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    """404 for a path no route matches: under /api/ a JSON body as every API error has (the
    OpenAPI schema documents it), under /ui/ the dashboard's page, elsewhere Django's."""
    if _api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return errors.page_not_found(request, exception)


def bad_request(request, exception=None):
    """400 raised before any view (a Host header ALLOWED_HOSTS refuses, a malformed
    request): JSON under /api/, like every other API error."""
    if _api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if _api(request):
        return JsonResponse({"detail": "You do not have permission to do this."}, status=403)
    return errors.permission_denied(request, exception)


def server_error(request):
    """500: never expected (a defect), but under /api/ still a JSON body."""
    if _api(request):
        return JsonResponse({"detail": "Internal server error."}, status=500)
    return errors.server_error(request)


handler400 = bad_request
handler403 = permission_denied
handler404 = not_found
handler500 = server_error

urlpatterns = [
    path("", root, name="root"),
    path("api/v1/", include("linesman.api_urls")),
    path("ui/", include("linesman.dashboard.urls")),
    path("admin/", admin.site.urls),
    path("cwmp/", acs, name="cwmp"),
    path("cwmp", acs),
    path("diagnostics/speedtest/", diagnostic_files.speedtest),
    path("diagnostics/speedtest/<int:size>", diagnostic_files.speedtest),
    path("metrics", metrics_view, name="metrics"),
    re_path(r"^firmware/(?P<token>[^/]+)/(?P<filename>[^/]*)$", firmware.serve, name="firmware"),
]
