"""Platform events (core/events.py): announced by the layer that saw them, heard after
commit, never breaking what announced them."""

from __future__ import annotations

import pytest

from linesman.core import crypto, events
from linesman.operations import engine
from linesman.operations import services as operations
from linesman.operations.models import OperationState
from tests.conftest import make_device
from tests.cwmp.acs_client import ScriptedCpe
from tests.cwmp.test_acs_session import finish_session


@pytest.fixture
def heard():
    got: list[events.Event] = []
    events.subscribe(got.append)
    yield got
    events.unsubscribe(got.append)


def _names(heard) -> list[str]:
    return [e.name for e in heard]


def test_nothing_is_heard_from_a_rolled_back_change(heard, db):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        events.announce("device.up", device_id=1)
        raise RuntimeError("rolled back")
    assert heard == []


def test_a_failing_subscriber_breaks_neither_others_nor_the_announcer(
    heard, db, django_capture_on_commit_callbacks
):
    def broken(event):
        raise ValueError("subscriber bug")

    events.subscribe(broken)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            events.announce("device.down", device_id=7, organization_id=3, reason="silent")
    finally:
        events.unsubscribe(broken)
    assert [(e.name, e.device_id, e.organization_id, e.data) for e in heard] == [
        ("device.down", 7, 3, {"reason": "silent"})
    ]


def test_a_device_session_is_announced_with_its_events(
    heard, org_a, device_type, django_capture_on_commit_callbacks
):
    device = make_device(
        org_a, device_type, "EV1", username="cpe", password_encrypted=crypto.encrypt("pw")
    )
    from linesman.inventory import services as inventory

    with django_capture_on_commit_callbacks(execute=True):
        inventory.create_device(
            user=None,
            data={
                "organization_id": org_a.pk,
                "type": device_type,
                "serial_number": "EV2",
                "name": "ev2",
            },
        )
    assert ("device.registered", "EV2") in [(e.name, e.data.get("serial_number")) for e in heard]
    heard.clear()
    cpe = ScriptedCpe("cpe", "pw")
    with django_capture_on_commit_callbacks(execute=True):
        assert cpe.inform("EV1", events=("0 BOOTSTRAP", "1 BOOT")).status_code == 200
        finish_session(cpe)
    names = _names(heard)
    assert {"session.inform", "device.bootstrapped", "device.booted", "device.up"} <= set(names)
    inform = next(e for e in heard if e.name == "session.inform")
    assert inform.device_id == device.pk and inform.organization_id == org_a.pk
    assert inform.data["events"] == [["0 BOOTSTRAP", ""], ["1 BOOT", ""]]
    assert "rpc.answered" in names  # the bootstrap provisioning's SetParameterValues


def test_operations_announce_their_start_and_end(
    heard, org_a, device_type, admin_a, django_capture_on_commit_callbacks
):
    device = make_device(org_a, device_type, "EV3")
    with django_capture_on_commit_callbacks(execute=True):
        op = operations.start_operation(
            device=device, kind="reboot", user=admin_a.user, connection_request=False
        )
    with django_capture_on_commit_callbacks(execute=True):
        engine.finish(op, OperationState.CANCELLED, error="by test", cause="cancelled")
    started, finished = (e for e in heard if e.name.startswith("operation."))
    assert (started.name, started.data["operation_id"], started.data["kind"]) == (
        "operation.started",
        op.operation_id,
        "reboot",
    )
    assert finished.name == "operation.finished"
    assert (finished.data["state"], finished.data["cause"]) == ("cancelled", "cancelled")
    assert finished.device_id == device.pk and finished.organization_id == org_a.pk
