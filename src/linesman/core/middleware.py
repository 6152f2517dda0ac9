"""What every request under /api/ gets before and after its view.

- The path and the query string are checked with `core.textcheck`: a NUL or another
  character XML 1.0 cannot carry is a 400 naming the parameter (PostgreSQL refuses NUL in
  a query parameter with an exception, which would otherwise be a 500).
- A write (POST, PUT, PATCH, DELETE) runs in one transaction that is rolled back when the
  answer is a 5xx: a request that fails leaves nothing half-written behind, whichever
  service it reached. (4xx answers keep what was written: the views refuse before they
  write, and state such as failed-attempt counters must survive a 401 or a 429.) The
  transaction spans rendering too, which Django's ATOMIC_REQUESTS would not (a body that
  cannot be rendered is a 500 after the view returned). Reads are left alone: some wait
  on devices (update_status, WHIP), and a transaction held open meanwhile would hide
  their work from the ACS process the device talks to. Nor are uploads (multipart): on
  SQLite a transaction takes the database's write lock when it begins, and a firmware
  image streaming in for minutes would hold it from every device session meanwhile;
  their services write in one transaction of their own.
- A 404 that no API view produced (no route matched) is answered in JSON like the rest.

The ACS route (/cwmp/) and the dashboard are not under /api/ and are unaffected.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from linesman.core import textcheck

API_PREFIX = "/api/"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _refuse_bad_url(request: HttpRequest) -> HttpResponse | None:
    found = textcheck.problem(request.path_info)
    if found is not None:
        return JsonResponse({"detail": f"The path {found}"}, status=400)
    for name in request.GET:
        found = textcheck.problem(name)
        if found is not None:
            return JsonResponse({"detail": f"A query parameter name {found}"}, status=400)
        for value in request.GET.getlist(name):
            found = textcheck.problem(value)
            if found is not None:
                return JsonResponse({name: [f"The value {found}"]}, status=400)
    return None


class ApiRequestMiddleware:
    """Input checks, one transaction per write, and JSON 404s for the API (see module)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        refused = _refuse_bad_url(request)
        if refused is not None:
            return refused
        if request.method in WRITE_METHODS and not request.content_type.startswith("multipart/"):
            with transaction.atomic():
                response = self.get_response(request)
                if response.status_code >= 500:
                    transaction.set_rollback(True)
        else:
            response = self.get_response(request)
        if response.status_code == 404 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            return JsonResponse({"detail": "Not found."}, status=404)
        return response
