"""A firmware upgrade ends on the version the device reports: at once when TransferComplete
comes with the new version, failed when the device reports another version, with the fault
and its meaning when the transfer failed, untouched by another operation's TransferComplete."""

from __future__ import annotations

import pytest

from linesman.cwmp import soap
from linesman.operations.models import Operation
from tests.api.test_firmware_truth import (  # noqa: F401 (fixtures)
    _media,
    device,
    session,
    start_upgrade,
    transfer_session,
    upload,
)

pytestmark = pytest.mark.django_db


def test_the_download_carries_the_operation_id_and_the_image(admin_a, device, device_type):  # noqa: F811
    image = upload(admin_a, device_type, "2.0.0").json()
    op_id = start_upgrade(admin_a, device, image["id"])
    received = session()
    downloads = [r for r in received if isinstance(r, soap.Download)]
    assert len(downloads) == 1
    assert downloads[0].command_key == op_id
    assert downloads[0].url.endswith("/2.0.0.bin")
    op = Operation.objects.get(operation_id=op_id)
    assert op.state == "in_progress" and op.phase == "awaiting_transfer"


def test_transfer_complete_with_the_new_version_completes_at_once(admin_a, device, device_type):  # noqa: F811
    image = upload(admin_a, device_type, "2.0.0").json()
    op_id = start_upgrade(admin_a, device, image["id"])
    session()
    transfer_session(op_id, software="2.0.0")
    op = Operation.objects.get(operation_id=op_id)
    assert op.state == "completed" and op.phase == "" and op.error == ""


def test_a_device_that_reports_a_third_version_fails_the_upgrade(admin_a, device, device_type):  # noqa: F811
    image = upload(admin_a, device_type, "2.0.0").json()
    op_id = start_upgrade(admin_a, device, image["id"])
    session()
    transfer_session(op_id, software="1.5.0")
    op = Operation.objects.get(operation_id=op_id)
    assert op.state == "in_progress" and op.phase == "awaiting_version"  # may not have rebooted
    session(events=("2 PERIODIC",), software="1.5.0")
    op = Operation.objects.get(operation_id=op_id)
    assert op.state == "failed" and op.error_cause == "firmware_not_applied"
    assert op.error == (
        "TransferComplete succeeded but the device reports version '1.5.0', not '2.0.0'."
    )


def test_the_new_version_at_the_next_inform_completes_the_upgrade(admin_a, device, device_type):  # noqa: F811
    image = upload(admin_a, device_type, "2.0.0").json()
    op_id = start_upgrade(admin_a, device, image["id"])
    session()
    transfer_session(op_id, software="1.0.0")  # before its reboot into the new image
    session(events=("1 BOOT",), software="2.0.0")
    assert Operation.objects.get(operation_id=op_id).state == "completed"


def test_a_transfer_fault_is_recorded_with_its_meaning(admin_a, device, device_type):  # noqa: F811
    image = upload(admin_a, device_type, "2.0.0").json()
    op_id = start_upgrade(admin_a, device, image["id"])
    session()
    transfer_session(op_id, software="1.0.0", fault=9010, fault_string="server unreachable")
    op = Operation.objects.get(operation_id=op_id)
    assert op.state == "failed" and op.error_cause == "device_faults"
    assert op.error == "TransferComplete fault 9010 File transfer failure: server unreachable"
    assert op.output["fault"] == {
        "code": 9010,
        "string": "server unreachable",
        "meaning": "File transfer failure",
    }


def test_a_transfer_complete_of_another_command_key_is_ignored(admin_a, device, device_type):  # noqa: F811
    image = upload(admin_a, device_type, "2.0.0").json()
    op_id = start_upgrade(admin_a, device, image["id"])
    session()
    transfer_session("op_not_this_one", software="2.0.0", fault=9010, fault_string="x")
    op = Operation.objects.get(operation_id=op_id)
    # Not this upgrade's transfer: it still waits for its own.
    assert op.state == "in_progress" and op.phase == "awaiting_transfer"


def test_the_end_of_an_upgrade_is_the_devices_last_change(admin_a, device, device_type):  # noqa: F811
    image = upload(admin_a, device_type, "2.0.0").json()
    op_id = start_upgrade(admin_a, device, image["id"])
    session()
    transfer_session(op_id, software="2.0.0")
    op = Operation.objects.get(operation_id=op_id)
    assert op.state == "completed"
    device.refresh_from_db()
    assert device.last_change == op.completed_at
