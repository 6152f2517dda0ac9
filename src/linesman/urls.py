"""Top-level routes: the API, its docs, the admin, the ACS, the firmware and speed-test files."""

from __future__ import annotations

from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path, re_path

from linesman.cwmp.views import acs
from linesman.diagnostics import files as diagnostic_files
from linesman.inventory import firmware


def root(request):
    return JsonResponse(
        {
            "name": "Linesman",
            "api": "/api/v1/",
            "docs": "/api/v1/docs/",
            "acs": "/cwmp/",
            "admin": "/admin/",
        }
    )


urlpatterns = [
    path("", root, name="root"),
    path("api/v1/", include("linesman.api_urls")),
    path("ui/", include("linesman.dashboard.urls")),
    path("admin/", admin.site.urls),
    path("cwmp/", acs, name="cwmp"),
    path("cwmp", acs),
    path("diagnostics/speedtest/", diagnostic_files.speedtest),
    path("diagnostics/speedtest/<int:size>", diagnostic_files.speedtest),
    re_path(r"^firmware/(?P<token>[^/]+)/(?P<filename>[^/]*)$", firmware.serve, name="firmware"),
]
