"""Error pages of the dashboard: 403, 404 and 500 inside its layout, with navigation.

Installed as the project's handler403/404/500 (linesman.urls). Only paths under /ui/ get
the dashboard's pages; every other path keeps Django's default answer (the API answers
its errors in JSON before these handlers are reached, see core.middleware).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.views import defaults

UI_PREFIX = "/ui/"

TEXTS = {
    403: ("Not allowed", "Your role does not allow this here."),
    404: ("Not found", "There is nothing at this address, or it is not visible to you."),
    500: ("Server error", "Something went wrong on our side; the error has been logged."),
}


def _is_ui(request: HttpRequest) -> bool:
    return request.path.startswith(UI_PREFIX)


def _page(request: HttpRequest, status: int, detail: str = "") -> HttpResponse:
    title, text = TEXTS[status]
    context = {"status": status, "title": title, "text": text, "detail": detail}
    if status == 500:
        # No context processors nor database work: the failure may be in either.
        body = loader.get_template("dashboard/error_plain.html").render(context)
    else:
        body = loader.render_to_string("dashboard/error.html", context, request=request)
    return HttpResponse(body, status=status)


def _message(exception) -> str:
    # Our own views raise with a sentence meant for the user (Http404("No such device.")).
    text = str(exception or "")
    return text if text and not text.startswith(("{", "<", "Resolver404")) else ""


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    if not _is_ui(request):
        return defaults.permission_denied(request, exception)
    return _page(request, 403, _message(exception))


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if not _is_ui(request):
        return defaults.page_not_found(request, exception)
    detail = _message(exception)
    # Django's resolver puts a dict of tried patterns here, not a sentence.
    if exception is not None and exception.args and isinstance(exception.args[0], dict):
        detail = ""
    return _page(request, 404, detail)


def server_error(request: HttpRequest) -> HttpResponse:
    if not _is_ui(request):
        return defaults.server_error(request)
    return _page(request, 500)
