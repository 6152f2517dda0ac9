"""Parameter attributes in bulk jobs (`set.attr`, `get.attr`), and what `/metrics` shows
after a bulk job."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from linesman.cwmp.models import DeviceTask
from linesman.inventory.models import DeviceStatus
from linesman.operations import engine
from linesman.operations.models import (
    ACTIVE_STATES,
    BulkJob,
    DesiredAttribute,
    Operation,
    OperationState,
)
from tests.bulk.conftest import URL, noc, seed_orgs, types  # noqa: F401 (fixtures)
from tests.conftest import make_device

# Jobs start their targets after commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

SSID = "Device.WiFi.SSID.1.SSID"


@pytest.fixture
def fleet(seed_orgs, types):  # noqa: F811
    now = timezone.now()
    up = {"status": DeviceStatus.UP, "last_connection": now, "is_active": True}
    return [make_device(seed_orgs[0], types["router"], f"BA{i:03d}", **up) for i in range(3)]


def _create(actor, **body):
    body.setdefault("target_organizations", [101])
    return actor.client.post(URL, body, format="json")


def test_a_set_attr_job_sends_the_attributes_and_stores_them_as_desired(noc, fleet):  # noqa: F811
    response = _create(
        noc,
        operation="set.attr",
        variables=[{"variable_name": SSID, "notification": "active", "access_list": []}],
    )
    assert response.status_code == 201, response.json()
    job = BulkJob.objects.get(pk=int(response.json()["id"]))
    ops = Operation.objects.filter(bulk_job_id=job.pk, state__in=ACTIVE_STATES)
    assert sorted(o.device.serial_number for o in ops) == ["BA000", "BA001", "BA002"]
    tasks = DeviceTask.objects.filter(operation__bulk_job_id=job.pk)
    assert {t.method for t in tasks} == {"SetParameterAttributes"}
    assert tasks[0].args["parameters"] == [
        {
            "name": SSID,
            "notification_change": True,
            "notification": 2,
            "access_list_change": True,
            "access_list": [],
        }
    ]
    assert sorted(
        DesiredAttribute.objects.values_list("device__serial_number", "notification")
    ) == [("BA000", 2), ("BA001", 2), ("BA002", 2)]


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ([{"variable_name": SSID, "notification": "loud"}], "variables[0].notification"),
        ([{"variable_name": SSID}], "variables[0].notification"),
        ([{"variable_name": "Device.WiFi.", "notification": 2}], "variables[0].variable_name"),
        (
            [{"variable_name": SSID, "notification": 2, "access_list": "x"}],
            "variables[0].access_list",
        ),  # noqa: E501
    ],
)
def test_bad_set_attr_variables_are_refused_naming_the_field(noc, fleet, variables, field):  # noqa: F811
    response = _create(noc, operation="set.attr", variables=variables)
    assert response.status_code == 422, response.json()  # as every invalid bulk job
    assert field in str(response.json())
    assert not BulkJob.objects.exists() and not DesiredAttribute.objects.exists()


def _value(text: str, name: str, labels: str) -> float:
    """A sample's value by name and labels (in any order), 0 when absent."""
    wanted = dict(re.findall(r'(\w+)="([^"]*)"', labels))
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == wanted:
                return sample.value
    return 0.0


def test_metrics_show_a_bulk_job_and_its_operations(noc, fleet):  # noqa: F811
    before = Client().get("/metrics").content.decode()
    response = _create(noc, operation="get.attr", variables=[{"variable_name": SSID}])
    assert response.status_code == 201, response.json()
    job_id = int(response.json()["id"])
    for op in Operation.objects.filter(bulk_job_id=job_id, state__in=ACTIVE_STATES):
        engine.finish(op, OperationState.COMPLETED)
    job = BulkJob.objects.get(pk=job_id)
    assert job.status == "completed"

    text = Client().get("/metrics").content.decode()
    job_labels = f'job="{job_id}",operation="get.attr",status="completed"'
    assert _value(text, "linesman_bulk_job_devices", job_labels + ',state="total"') == 3
    assert _value(text, "linesman_bulk_job_devices", job_labels + ',state="succeeded"') == 3
    assert _value(text, "linesman_bulk_job_devices", job_labels + ',state="failed"') == 0
    ops = 'kind="get.attr",state="completed"'
    assert (
        _value(text, "linesman_operations_total", ops)
        == _value(before, "linesman_operations_total", ops) + 3
    )
    done = 'status="completed"'
    assert (
        _value(text, "linesman_bulk_jobs_finished_total", done)
        == _value(before, "linesman_bulk_jobs_finished_total", done) + 1
    )
