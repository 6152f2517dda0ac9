"""Top-level routes: the API, its docs, the admin, the ACS and the firmware file server."""

from __future__ import annotations

from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path, re_path

from linesman.cwmp.views import acs
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


# Styled pages inside the dashboard for /ui/ paths; Django's defaults elsewhere.
handler403 = "linesman.dashboard.errors.permission_denied"
handler404 = "linesman.dashboard.errors.page_not_found"
handler500 = "linesman.dashboard.errors.server_error"

urlpatterns = [
    path("", root, name="root"),
    path("api/v1/", include("linesman.api_urls")),
    path("ui/", include("linesman.dashboard.urls")),
    path("admin/", admin.site.urls),
    path("cwmp/", acs, name="cwmp"),
    path("cwmp", acs),
    re_path(r"^firmware/(?P<token>[^/]+)/(?P<filename>[^/]*)$", firmware.serve, name="firmware"),
]
