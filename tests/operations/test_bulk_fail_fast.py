"""Bulk jobs with "fail unreachable devices fast": devices that never contacted the ACS, or
that have no connection request URL, fail at once with a cause naming why."""

from __future__ import annotations

import pytest
from django.utils import timezone

from linesman.cwmp.models import DeviceTask, TaskState
from linesman.inventory.models import DeviceStatus
from linesman.operations.bulk.models import BulkJob
from linesman.operations.models import ACTIVE_STATES, Operation
from tests.bulk.conftest import URL, noc, seed_orgs, types  # noqa: F401 (fixtures)
from tests.conftest import make_device

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mixed(seed_orgs, types):  # noqa: F811
    """Never seen, seen without a URL, and seen with a URL that answers nothing."""
    org, router = seed_orgs[0], types["router"]
    seen = {"status": DeviceStatus.UP, "last_connection": timezone.now(), "is_active": True}
    return {
        "never": make_device(org, router, "NEVER1"),
        "nourl": make_device(org, router, "NOURL1", **seen),
        "dead": make_device(
            org, router, "DEAD1", connection_request_url="http://127.0.0.1:9/gone", **seen
        ),
    }


def create(actor, serials, **options) -> BulkJob:
    response = actor.client.post(
        URL,
        {
            "operation_type": "reboot",
            "target_organizations": [101],
            "serial_numbers": serials,
            "options": options,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return BulkJob.objects.get(pk=int(response.json()["id"]))


def test_fail_fast_names_never_connected_and_unreachable(noc, mixed):  # noqa: F811
    job = create(noc, ["NEVER1", "NOURL1", "DEAD1"], validate_connectivity=True)
    job.refresh_from_db()
    assert job.failed_devices == 3 and job.running_devices == 0
    assert job.error_summary.get("never_connected") == 1
    assert job.error_summary.get("unreachable") == 1
    assert job.status == "failed"
    causes = {t.serial_number: (t.cause, t.error) for t in job.targets.all()}
    assert causes["NEVER1"] == ("never_connected", "The device has never contacted the ACS.")
    assert causes["NOURL1"][0] == "unreachable"
    assert "no connection request URL" in causes["NOURL1"][1]
    # Nothing stays queued for them.
    assert not DeviceTask.objects.filter(state=TaskState.QUEUED).exists()


def test_without_fail_fast_they_wait_for_their_next_contact(noc, mixed):  # noqa: F811
    job = create(noc, ["NEVER1", "NOURL1"])
    job.refresh_from_db()
    assert job.running_devices == 2 and job.failed_devices == 0
    assert Operation.objects.filter(bulk_job_id=job.pk, state__in=ACTIVE_STATES).count() == 2


def test_a_device_fault_is_counted_by_code_and_message(noc, seed_orgs, types):  # noqa: F811
    from linesman.core import crypto
    from linesman.cwmp import soap
    from tests.cwmp.acs_client import ScriptedCpe

    device = make_device(
        seed_orgs[0],
        types["router"],
        "CPE0001",
        username="cpe",
        password_encrypted=crypto.encrypt("pw"),
        last_connection=timezone.now(),
        is_active=True,
    )
    job = create(noc, ["CPE0001"])
    cpe = ScriptedCpe("cpe", "pw")
    cpe.inform("CPE0001", events=("6 CONNECTION REQUEST",))
    response = cpe.post(None)
    while response.status_code == 200:
        request = cpe.parse(response).body
        if isinstance(request, soap.Reboot):
            response = cpe.post(soap.Fault(9001, "Request denied"))
        else:  # provisioning of a device seen for the first time in this test
            response = cpe.post(soap.SetParameterValuesResponse(0))
    job.refresh_from_db()
    assert job.error_summary == {"device_faults: 9001 Request denied": 1}
    target = job.targets.get()
    assert target.cause == "device_faults"
    assert target.error == "Reboot: fault 9001 Request denied"
    history = noc.client.get(f"/api/v1/inventory_device/{device.pk}/operations/").json()
    assert history["results"][0]["error"] == "Reboot: fault 9001 Request denied"
