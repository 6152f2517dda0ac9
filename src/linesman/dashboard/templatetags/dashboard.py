"""Template helpers of the dashboard: badges, health bars and sortable column headers."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def status_badge(status: str) -> SafeString:
    css = "up" if status == "Up" else "down"
    return format_html('<span class="badge status-{}">{}</span>', css, status)


@register.simple_tag
def state_badge(state: str) -> SafeString:
    return format_html(
        '<span class="badge st-{}" data-state="{}">{}</span>', state, state, state.replace("_", " ")
    )


@register.simple_tag
def health_bar(up: int, down: int) -> SafeString:
    total = up + down
    share = round(100 * up / total) if total else 0
    return format_html(
        '<span class="health" title="{}% Up"><span class="health-up" data-width="{}"></span>'
        "</span>",
        share,
        share,
    )


@register.simple_tag(takes_context=True)
def sort_header(context, key: str, label: str) -> SafeString:
    """A column header that sorts by `key`, and reverses when it already does."""
    request = context["request"]
    current = context.get("sort") or ""
    params = request.GET.copy()
    params.pop("page", None)
    params["sort"] = "-" + key if current == key else key
    arrow = " ▲" if current == key else (" ▼" if current == "-" + key else "")
    return format_html(
        '<a href="?{}" class="sort" data-sort="{}">{}{}</a>', params.urlencode(), key, label, arrow
    )


@register.simple_tag(takes_context=True)
def page_link(context, number: int) -> str:
    params = context["request"].GET.copy()
    params["page"] = number
    return "?" + params.urlencode()


@register.filter
def took(op) -> str:
    """How long a finished operation took, or an ellipsis while it runs."""
    if not op.completed_at:
        return "…"
    seconds = int((op.completed_at - op.initiated_at).total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


@register.simple_tag
def progress_bar(percent: int, failed: int = 0, element_id: str = "") -> SafeString:
    """A progress bar with its percentage; red-tinted once any device failed."""
    return format_html(
        '<div class="progress"{} role="progressbar" aria-valuenow="{}" aria-valuemin="0" '
        'aria-valuemax="100"><div class="bar{}" data-width="{}"></div>'
        '<span class="label">{}%</span></div>',
        format_html(' id="{}"', element_id) if element_id else "",
        percent,
        " with-failures" if failed else "",
        percent,
        percent,
    )


@register.filter
def more(text, limit: int = 80) -> SafeString:
    """Long text cut at `limit` characters, the whole of it one click away (<details>):
    table cells wrap and fold instead of widening the page."""
    text = "" if text is None else str(text)
    if len(text) <= limit:
        return format_html("{}", text)
    return format_html(
        '<details class="more" title="{}"><summary>{}…<span class="more-hint">more</span>'
        '</summary><div class="full">{}</div></details>',
        text[:300],
        text[:limit].rstrip(),
        text,
    )
