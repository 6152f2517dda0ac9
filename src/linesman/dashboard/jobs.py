"""Bulk job pages: the list with a creation form, a job's live progress, its failed
devices, cancel, and retrying the failures as a new job.

Jobs are created, cancelled and found through `operations.bulk` and `bulk_spec` (the
services the headless API calls), with the user's own `Access`, so the roles and target
rules are the API's.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from linesman.core.redaction import redact_output
from linesman.core.textcheck import parse_id
from linesman.dashboard import access as visible
from linesman.dashboard.job_forms import BulkJobForm, retry_body
from linesman.dashboard.views import POLL_ACTIVE, POLL_IDLE, login_required
from linesman.inventory.models import FirmwareImage
from linesman.operations.bulk import services as bulk
from linesman.operations.bulk import spec as bulk_spec
from linesman.operations.bulk.api.serializers import estimated_completion, progress
from linesman.operations.bulk.models import FINAL_JOB_STATES, BulkJob, TargetState
from linesman.tenancy.models import Role
from linesman.tenancy.services import access_for

JOBS_PER_PAGE = 25
TARGETS_PER_PAGE = 100
#: Failed devices shown on the job page itself; the drill-down has them all.
FAILED_PREVIEW = 20


def _is_live(job: BulkJob) -> bool:
    return job.status not in FINAL_JOB_STATES or job.running_devices > 0


def _job(request: HttpRequest, pk: int) -> BulkJob:
    job = (
        bulk.visible_jobs(access_for(request))
        .prefetch_related("organizations")
        .filter(pk=pk)
        .first()
    )
    if job is None:
        raise Http404("No such job.")
    return job


def _form(request: HttpRequest, data=None, initial: dict | None = None) -> BulkJobForm:
    access = access_for(request)
    images = access.restrict(
        FirmwareImage.objects.select_related("device_type"), allow_shared=True
    ).order_by("device_type__short_name", "version")
    return BulkJobForm(
        data,
        initial=initial,
        organizations=visible.organizations(access),
        types=visible.device_types(access),
        locations=visible.locations(access),
        images=images,
    )


def _spec_errors(form: BulkJobForm, exc: bulk_spec.SpecError) -> None:
    for key, problems in exc.errors.items():
        for problem in problems:
            form.add_error(None, f"{key}: {problem}" if key != "detail" else problem)


def _table_context(request: HttpRequest, access) -> dict:
    jobs = bulk.visible_jobs(access).prefetch_related("organizations").order_by("-id")
    page = Paginator(jobs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [(job, progress(job)) for job in page.object_list]
    poll = POLL_ACTIVE if any(_is_live(job) for job, _ in rows) else POLL_IDLE
    return {"page": page, "rows": rows, "poll": poll}


@login_required
@require_POST
def job_from_devices(request: HttpRequest) -> HttpResponse:
    """The device list's "start a job": the job form, open, its targets filled in with the
    rows selected (as serial numbers) or with the list's filter ("all matching")."""
    from linesman.dashboard.views import device_list_form, filtered_devices

    access = access_for(request)
    if not access.has_role_anywhere(Role.OPERATOR):
        raise PermissionDenied("Starting jobs needs the operator role.")
    form = device_list_form(request, request.POST)
    initial: dict = {}
    if request.POST.get("scope") == "all":
        matching = filtered_devices(request, form)
        data = form.cleaned_data if form.is_valid() else {}
        if (data.get("q") or "").strip():
            # A text search has no job filter: the devices it matches now, by serial.
            serials = matching.values_list("serial_number", flat=True)
            initial["serial_numbers"] = "\n".join(serials)
        else:
            for job_field, list_field in (
                ("organizations", "organization"),
                ("device_types", "type"),
                ("locations", "location"),
            ):
                if data.get(list_field):
                    initial[job_field] = [data[list_field]]
            if data.get("status"):
                initial["status"] = data["status"].lower()
        chosen = matching.count()
    else:
        ids = [parse_id(value) for value in request.POST.getlist("device")]
        serials = list(
            visible.devices(access)
            .filter(pk__in=[i for i in ids if i is not None])
            .order_by("serial_number")
            .values_list("serial_number", flat=True)
        )
        if not serials:
            messages.error(request, "Select at least one device first.")
            return redirect(reverse("dashboard:devices") + "?" + request.POST.get("query", ""))
        initial["serial_numbers"] = "\n".join(serials)
        chosen = len(serials)
    messages.info(request, f"{chosen} device{'s' if chosen != 1 else ''} chosen: pick the job.")
    context = _table_context(request, access)
    context.update(
        form=_form(request, None, initial=initial),
        preview=None,
        posted=[],
        can_create=True,
        open_form=True,
    )
    return render(request, "dashboard/jobs.html", context)


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    """Jobs you can see (live), and the form that creates one."""
    access = access_for(request)
    context = _table_context(request, access)
    if request.GET.get("fragment"):
        return render(request, "dashboard/fragments/job_table.html", context)

    status = 200
    preview = None
    form = _form(request, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            spec = bulk_spec.parse(form.body(), access=access)
        except bulk_spec.SpecError as exc:
            _spec_errors(form, exc)
            status = 403 if isinstance(exc, bulk_spec.Forbidden) else 422
        else:
            if form.asks_first and not form.cleaned_data["confirmed"]:
                preview = spec
            else:
                job = bulk.create_job(spec, user=request.user)
                messages.success(
                    request,
                    f"Job {job.pk} created: {job.operation_type} on {job.total_devices} devices.",
                )
                return redirect("dashboard:job", pk=job.pk)
    context.update(
        form=form,
        preview=preview,
        posted=list(request.POST.lists()) if preview else [],
        can_create=access.has_role_anywhere(Role.OPERATOR),
    )
    return render(request, "dashboard/jobs.html", context, status=status)


def _job_context(request: HttpRequest, job: BulkJob) -> dict:
    access = access_for(request)
    failed = job.targets.filter(state=TargetState.FAILED).select_related("operation")
    return {
        "job": job,
        "progress": progress(job),
        "estimate": estimated_completion(job),
        "live": _is_live(job),
        "poll": POLL_ACTIVE if _is_live(job) else 0,
        "causes": sorted(job.error_summary.items(), key=lambda kv: (-kv[1], kv[0])),
        "failed": list(failed.order_by("id")[:FAILED_PREVIEW]),
        "can_cancel": job.status not in FINAL_JOB_STATES and bulk.may_cancel(access, job),
        "can_retry": job.failed_devices > 0 and bulk.may_cancel(access, job),
        "organizations": [o.name for o in job.organizations.all()],
        # A `set` job's secrets were written; the page does not read them back.
        "params": redact_output(job.params or {}),
    }


@login_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    return render(request, "dashboard/job_detail.html", _job_context(request, job))


@login_required
def job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """Live fragment: progress bar, counters, errors by cause, failed devices, buttons."""
    job = _job(request, pk)
    return render(request, "dashboard/fragments/job_progress.html", _job_context(request, job))


@login_required
def job_devices(request: HttpRequest, pk: int) -> HttpResponse:
    """The job's devices by outcome (default: the failed ones), optionally one cause."""
    job = _job(request, pk)
    state = request.GET.get("state") or TargetState.FAILED
    if state not in TargetState.values and state != "all":
        state = TargetState.FAILED
    targets = job.targets.select_related("operation").order_by("id")
    if state != "all":
        targets = targets.filter(state=state)
    cause = request.GET.get("cause") or ""
    if cause:
        targets = targets.filter(cause=cause)
    page = Paginator(targets, TARGETS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboard/job_devices.html",
        {
            "job": job,
            "page": page,
            "state": state,
            "cause": cause,
            "states": ["all", *TargetState.values],
        },
    )


@login_required
@require_POST
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    if not bulk.may_cancel(access_for(request), job):
        raise PermissionDenied("Cancelling needs the operator role in the job's organizations.")
    try:
        job = bulk.cancel_job(job.pk, user=request.user)
    except bulk.JobFinished as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Job {job.pk} cancelled: {job.skipped_devices} devices skipped (running "
            "operations included: what was not yet sent to them never will be).",
        )
    return redirect("dashboard:job", pk=job.pk)


@login_required
@require_POST
def job_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """A new job with the same operation and options on this job's failed devices."""
    job = _job(request, pk)
    failed = list(
        job.targets.filter(state=TargetState.FAILED, device__isnull=False)
        .order_by("id")
        .values_list("device_id", flat=True)
    )
    if not failed:
        messages.error(request, f"Job {job.pk} has no failed devices left to retry.")
        return redirect("dashboard:job", pk=job.pk)
    if not request.POST.get("confirmed"):
        return render(
            request,
            "dashboard/confirm.html",
            {
                "question": f"Run {job.operation_type} again on the {len(failed)} devices "
                f"that failed in job {job.pk}, as a new job?",
                "action": reverse("dashboard:job_retry", args=[job.pk]),
                "fields": [],
                "back": reverse("dashboard:job", args=[job.pk]),
                "back_label": f"No, back to job {job.pk}",
            },
        )
    try:
        spec = bulk_spec.parse(retry_body(job, failed), access=access_for(request))
    except bulk_spec.Forbidden as exc:
        raise PermissionDenied(str(exc.errors)) from None
    except bulk_spec.SpecError as exc:
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
        messages.error(request, f"Not retried: {problems}")
        return redirect("dashboard:job", pk=job.pk)
    retry = bulk.create_job(spec, user=request.user)
    messages.success(
        request, f"Job {retry.pk} retries the {retry.total_devices} failed devices of job {job.pk}."
    )
    return redirect("dashboard:job", pk=retry.pk)
