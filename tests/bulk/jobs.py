"""Helpers of the bulk runner tests: create a job through the API, see and end its running
operations as the session engine would, point devices at a connection-request listener,
and hold the runner's progress tasks as a busy worker does."""

from __future__ import annotations

from linesman.inventory.models import Device
from linesman.operations import engine
from linesman.operations.bulk.models import BulkJob
from linesman.operations.models import ACTIVE_STATES, Operation, OperationState
from tests.bulk.conftest import URL


def create(actor, **body) -> BulkJob:
    body.setdefault("target_organizations", [101, 102])
    response = actor.client.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    return BulkJob.objects.get(pk=int(response.json()["id"]))


def active_ops(job) -> list[Operation]:
    return list(Operation.objects.filter(bulk_job_id=job.pk, state__in=ACTIVE_STATES))


def finish_all(job, state=OperationState.COMPLETED, cause="", seen=None) -> None:
    """Complete the job's running operations wave after wave, checking the bound."""
    for _ in range(100):
        ops = active_ops(job)
        if not ops:
            return
        if seen is not None:
            seen.append(len(ops))
        for op in ops:
            engine.finish(op, state, cause=cause, error=cause)
    raise AssertionError("the job never drained")


def point_urls(devices, cr_server: str, dead: int, refusing: int) -> None:
    """The first `dead` devices get a URL nobody listens on, the next `refusing` one the
    listener answers 401, the rest one it answers 200."""
    for i, device in enumerate(devices):
        if i < dead:
            url = "http://127.0.0.1:9/gone"  # nothing listens: connection refused
        elif i < dead + refusing:
            url = f"{cr_server}/auth/{device.pk}"
        else:
            url = f"{cr_server}/ok/{device.pk}"
        Device.objects.filter(pk=device.pk).update(connection_request_url=url)


class HeldProgress:
    """The real queue, except that `record_progress` tasks are held, as a busy worker
    holds them, until the test runs them."""

    def __init__(self, real):
        self.real = real
        self.held: list[int] = []

    def __getattr__(self, name):
        return getattr(self.real, name)

    def record_progress(self, job_id: int) -> None:
        self.held.append(job_id)
