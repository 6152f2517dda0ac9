"""The Webhooks page: organization admins see their endpoints (with why one was switched
off), the latest deliveries, add an endpoint, and switch endpoints on or off.

Changes go through `webhooks.services`, the functions the API calls; the endpoint's URL
policy and event types are checked there. A generated secret is shown once, in the answer
to the POST that created it (never stored in a message or the session).
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from linesman.dashboard.views import login_required
from linesman.tenancy.models import Organization, Role
from linesman.tenancy.services import access_for
from linesman.webhooks import services
from linesman.webhooks.models import Delivery, Endpoint

RECENT_DELIVERIES = 30


class EndpointForm(forms.Form):
    organization = forms.ModelChoiceField(queryset=Organization.objects.none())
    name = forms.CharField(max_length=100)
    url = forms.URLField(max_length=1000, label="URL", assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        choices=[(k, f"{k}: {v}") for k, v in services.EVENT_TYPES.items()],
        widget=forms.CheckboxSelectMultiple,
    )
    secret = forms.CharField(
        required=False, min_length=16, max_length=200, help_text="empty: one is generated"
    )

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations


def _admin_orgs(request: HttpRequest):
    access = access_for(request)
    orgs = Organization.objects.order_by("name")
    if access.is_superuser:
        return orgs
    return orgs.filter(pk__in=[o for o in access.roles if access.has_role(o, Role.ADMIN)])


@login_required
def webhook_list(request: HttpRequest) -> HttpResponse:
    orgs = _admin_orgs(request)
    form = EndpointForm(request.POST or None, organizations=orgs)
    created = None
    if request.method == "POST":
        if not orgs.exists():
            raise PermissionDenied("This needs the admin role in an organization.")
        if form.is_valid():
            data = dict(form.cleaned_data)
            data["organization_id"] = data.pop("organization").pk
            try:
                created = services.create_endpoint(user=request.user, data=data)
                form = EndpointForm(organizations=orgs)
            except services.EndpointError as exc:
                form.add_error(exc.field, str(exc))
    endpoints = Endpoint.objects.filter(organization__in=orgs).select_related("organization")
    deliveries = (
        Delivery.objects.filter(endpoint__organization__in=orgs)
        .select_related("endpoint")
        .order_by("-id")[:RECENT_DELIVERIES]
    )
    context = {
        "endpoints": endpoints,
        "deliveries": deliveries,
        "form": form,
        "can_create": orgs.exists(),
        "created": created,
    }
    return render(request, "dashboard/webhooks.html", context, status=201 if created else 200)


@login_required
@require_POST
def webhook_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = Endpoint.objects.filter(pk=pk, organization__in=_admin_orgs(request)).first()
    if endpoint is None:
        raise Http404("No such endpoint.")
    active = request.POST.get("active") == "on"
    services.update_endpoint(user=request.user, endpoint=endpoint, data={"active": active})
    return redirect("dashboard:webhooks")
