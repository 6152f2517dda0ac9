"""A stored value XML 1.0 cannot carry fails its RPC and operation, never the session.

Such values are refused by the API now, but rows written before that (or by a path that
skipped the check) are still in the database; the ACS must not answer 500 on them.
"""

from __future__ import annotations

import pytest

from linesman.cwmp import soap
from linesman.cwmp.models import DeviceTask, TaskState
from linesman.inventory.models import Setting
from linesman.operations import services as operations
from linesman.operations.models import OperationState
from tests.conftest import make_device
from tests.cwmp.acs_client import ScriptedCpe
from tests.cwmp.test_acs_session import default_answer

pytestmark = pytest.mark.django_db

BAD = "ab\x01cd"


@pytest.fixture
def device(org_a, device_type):
    from linesman.core import crypto

    return make_device(
        org_a, device_type, "CPE0001", username="cpe", password_encrypted=crypto.encrypt("pw")
    )


def run_session(cpe: ScriptedCpe, events=("1 BOOT",)):
    """Inform, then the empty POST, answering every RPC; every reply must be 200 or 204."""
    response = cpe.inform("CPE0001", events=events)
    assert response.status_code == 200
    received = []
    response = cpe.post(None)
    while response.status_code == 200:
        body = cpe.parse(response).body
        received.append(body)
        response = cpe.post(default_answer(body))
    assert response.status_code == 204, response.content
    return received


def test_bad_value_in_a_set_operation_fails_it_with_a_reason(device, admin_a):
    op = operations.start_operation(
        device=device,
        kind="set",
        user=admin_a.user,
        params={
            "variables": [
                {"variable_name": "Device.WiFi.SSID.1.SSID", "value": BAD, "type": "xsd:string"}
            ]
        },
    )
    cpe = ScriptedCpe("cpe", "pw")
    rpcs = run_session(cpe)
    for rpc in rpcs:
        if isinstance(rpc, soap.SetParameterValues):
            assert all(p.value != BAD for p in rpc.parameters)
    op.refresh_from_db()
    assert op.state == OperationState.FAILED
    assert "Device.WiFi.SSID.1.SSID" in op.error and "U+0001" in op.error
    task = DeviceTask.objects.get(operation=op)
    assert task.state == TaskState.FAILED and task.attempts == 0


def test_bad_template_and_setting_do_not_break_bootstrap(device, device_type):
    device_type.settings_template = {"Device.Time.NTPServer1": BAD}
    device_type.save()
    Setting.objects.create(
        device=device, variable_name="Device.WiFi.SSID.1.SSID", value="x\x02y", pending=True
    )
    cpe = ScriptedCpe("cpe", "pw")
    rpcs = run_session(cpe, events=("0 BOOTSTRAP",))
    sent = {
        p.name: p.value
        for r in rpcs
        if isinstance(r, soap.SetParameterValues)
        for p in r.parameters
    }
    # The management server's own parameters still reach the device.
    assert "Device.ManagementServer.ConnectionRequestUsername" in sent
    assert "Device.Time.NTPServer1" not in sent
    failed = DeviceTask.objects.filter(device=device, state=TaskState.FAILED)
    assert failed.exists()
    assert any("U+0001" in t.fault_string or "U+0002" in t.fault_string for t in failed)

    # The next session of the device works too (it used to answer 500 every time).
    run_session(ScriptedCpe("cpe", "pw"))


def test_reconf_with_a_bad_stored_setting_fails_with_a_reason(device, admin_a):
    run_session(ScriptedCpe("cpe", "pw"), events=("0 BOOTSTRAP",))  # provisioned first
    Setting.objects.create(
        device=device, variable_name="Device.WiFi.SSID.1.SSID", value=BAD, pending=True
    )
    op = operations.start_operation(device=device, kind="reconf", user=admin_a.user)
    run_session(ScriptedCpe("cpe", "pw"), events=("6 CONNECTION REQUEST",))
    op.refresh_from_db()
    assert op.state == OperationState.FAILED
    assert "Device.WiFi.SSID.1.SSID" in op.error and "U+0001" in op.error
