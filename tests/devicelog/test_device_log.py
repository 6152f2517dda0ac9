"""The device log: what a device's sessions, RPCs, operations and status changes leave in
`inventory_device_log/`, who may read it, its filters, retention and batched writing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linesman.core import crypto
from linesman.cwmp import soap
from linesman.devicelog import services
from linesman.devicelog.models import DeviceLogEntry
from linesman.operations import engine
from linesman.operations import services as operations
from linesman.operations.models import OperationState
from tests.conftest import make_device
from tests.cwmp.acs_client import ScriptedCpe
from tests.cwmp.test_acs_session import default_answer, finish_session

pytestmark = pytest.mark.usefixtures("no_static_finders")

URL = "/api/v1/inventory_device_log/"
SECRET = "hunter2-wifi-key"


@pytest.fixture
def cpe_device(org_a, device_type):
    return make_device(
        org_a, device_type, "LOG0001", username="cpe", password_encrypted=crypto.encrypt("pw")
    )


def _session(cpe, callbacks, events=("1 BOOT",), answer=None, **kwargs):
    with callbacks(execute=True):
        assert cpe.inform("LOG0001", events=events, **kwargs).status_code == 200
        finish_session(cpe, answer)


def _rows(actor, query=""):
    response = actor.client.get(URL + query)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_boot_session_leaves_its_timeline(
    cpe_device, viewer_a, django_capture_on_commit_callbacks
):
    cpe = ScriptedCpe("cpe", "pw")
    _session(cpe, django_capture_on_commit_callbacks, events=("0 BOOTSTRAP", "1 BOOT"))

    body = _rows(viewer_a, f"?device={cpe_device.pk}")
    entries = body["results"]
    by_action = {}
    for e in entries:
        by_action.setdefault(e["action"], []).append(e)
    inform = by_action["inform"][0]
    assert inform["status"] == "ok"
    assert inform["data"]["events"] == [["0 BOOTSTRAP", ""], ["1 BOOT", ""]]
    assert inform["device"] == cpe_device.pk
    assert inform["serial_number"] == "LOG0001"
    assert inform["device_name"] == cpe_device.name
    assert [(e["status"], e["message"]) for e in by_action["status"]] == [("up", "up (inform)")]
    # the bootstrap provisioning's SetParameterValues, answered
    assert ("ok", "SetParameterValues") in [(e["status"], e["message"]) for e in by_action["rpc"]]
    # newest first
    times = [e["datetime"] for e in entries]
    assert times == sorted(times, reverse=True)
    # the detail of one row
    detail = viewer_a.client.get(f"{URL}{inform['id']}/")
    assert detail.status_code == 200 and detail.json() == inform


def test_rpc_faults_keep_their_code_and_operations_their_ends(
    cpe_device, admin_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        op = operations.start_operation(
            device=cpe_device, kind="reboot", user=admin_a.user, connection_request=False
        )

    def refuse(request):
        if isinstance(request, soap.Reboot):
            return soap.Fault(9001, "Request denied")
        return default_answer(request)

    cpe = ScriptedCpe("cpe", "pw")
    _session(
        cpe, django_capture_on_commit_callbacks, events=("6 CONNECTION REQUEST",), answer=refuse
    )

    faults = _rows(admin_a, f"?device={cpe_device.pk}&action=rpc&status=fault")["results"]
    assert [(f["code"], f["operation_id"]) for f in faults] == [(9001, op.operation_id)]
    assert faults[0]["message"].startswith("Reboot: ")
    ops = _rows(admin_a, f"?device={cpe_device.pk}&action=operation")["results"]
    assert ops[-1]["status"] == "started" and ops[-1]["operation_id"] == op.operation_id
    op.refresh_from_db()
    if op.state in (OperationState.INITIATED, OperationState.DISPATCHED):
        with django_capture_on_commit_callbacks(execute=True):
            engine.finish(op, OperationState.CANCELLED, error="by test", cause="cancelled")
        op.refresh_from_db()
    ended = _rows(admin_a, f"?device={cpe_device.pk}&action=operation&status={op.state}")
    assert [e["operation_id"] for e in ended["results"]] == [op.operation_id]


def test_secrets_never_appear(cpe_device, viewer_a, django_capture_on_commit_callbacks):
    path = "Device.WiFi.AccessPoint.1.Security.KeyPassphrase"
    cpe = ScriptedCpe("cpe", "pw")
    _session(
        cpe,
        django_capture_on_commit_callbacks,
        events=("4 VALUE CHANGE",),
        params={path: SECRET, "Device.WiFi.SSID.1.SSID": "home"},
    )
    response = viewer_a.client.get(URL + "?action=value_change")
    assert SECRET.encode() not in response.content
    (change,) = response.json()["results"]
    assert change["data"]["values"][path] == "********"
    assert change["data"]["values"]["Device.WiFi.SSID.1.SSID"] == "home"
    assert not DeviceLogEntry.objects.filter(data__icontains=SECRET).exists()


def _entry(device, age: timedelta = timedelta(0), action="inform", status="ok"):
    return DeviceLogEntry.objects.create(
        device=device, time=timezone.now() - age, action=action, status=status
    )


def test_every_role_of_the_organization_reads_others_do_not(
    device_a, device_b, viewer_a, operator_a, admin_a, admin_b, superuser, anonymous
):
    a, b = _entry(device_a), _entry(device_b)
    for actor in (viewer_a, operator_a, admin_a):
        assert [e["id"] for e in _rows(actor)["results"]] == [a.pk]
        assert actor.client.get(f"{URL}{a.pk}/").status_code == 200
        response = actor.client.get(f"{URL}{b.pk}/")
        assert response.status_code == 404 and isinstance(response.json()["detail"], str)
    assert [e["id"] for e in _rows(admin_b)["results"]] == [b.pk]
    assert admin_b.client.get(f"{URL}{a.pk}/").status_code == 404
    assert sorted(e["id"] for e in _rows(superuser)["results"]) == sorted([a.pk, b.pk])
    assert anonymous.client.get(URL).status_code == 401
    # read-only
    assert admin_a.client.delete(f"{URL}{a.pk}/").status_code == 405
    assert admin_a.client.post(URL, {}, format="json").status_code == 405
    assert viewer_a.client.get(f"{URL}abc/").status_code == 404


def test_filters(org_a, device_type, device_a, viewer_a):
    other = make_device(org_a, device_type, "LOG0002", name="other-router")
    old = _entry(device_a, timedelta(days=3))
    new = _entry(device_a, timedelta(hours=1), action="status", status="down")
    theirs = _entry(other, timedelta(hours=2))

    def ids(query):
        return [e["id"] for e in _rows(viewer_a, query)["results"]]

    assert ids(f"?device={device_a.pk}") == [new.pk, old.pk]
    assert ids("?device__name=other-router") == [theirs.pk]
    assert ids(f"?device__serial_number={device_a.serial_number}") == [new.pk, old.pk]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    until = (timezone.now() - timedelta(minutes=90)).isoformat()
    assert ids(f"?datetime__gte={since}".replace("+", "%2B")) == [new.pk, theirs.pk]
    assert ids(f"?datetime__lte={until}".replace("+", "%2B")) == [theirs.pk, old.pk]
    assert ids("?action=status&status=down") == [new.pk]
    assert ids("?limit=1&offset=1") == [theirs.pk]
    for bad in ("?status=sideways", "?action=dance", "?datetime__gte=yesterday", "?device=x"):
        response = viewer_a.client.get(URL + bad)
        assert response.status_code == 400, bad
        assert bad[1:].split("=")[0] in response.json()


def test_retention_deletes_old_rows_by_profile_or_default(
    org_a, device_type, device_a, settings, monkeypatch
):
    from linesman.connprofiles.models import ConnectionProfile
    from linesman.housekeeping import sweep_once
    from linesman.inventory.models import DeviceType

    settings.LINESMAN_DEVICE_LOG_RETENTION_DAYS = 7
    short = ConnectionProfile.objects.create(name="short", log_retention_days=1)
    short_type = DeviceType.objects.create(
        short_name="short_type", name="Short", connection_profile=short
    )
    kept_a = _entry(device_a, timedelta(days=6))
    gone_a = _entry(device_a, timedelta(days=8))
    short_device = make_device(org_a, short_type, "LOG0003")
    kept_s = _entry(short_device, timedelta(hours=20))
    gone_s = _entry(short_device, timedelta(days=2))
    monkeypatch.setattr(services, "_last_purge", 0.0)

    result = sweep_once()

    assert result["device_log_rows"] == 2
    remaining = set(DeviceLogEntry.objects.values_list("pk", flat=True))
    assert remaining == {kept_a.pk, kept_s.pk}
    assert gone_a.pk not in remaining and gone_s.pk not in remaining


def test_rows_are_batched_per_process_and_written_together(device_a, device_b):
    buffer = services.Buffer(interval=3600)
    now = timezone.now()
    for i in range(5):
        buffer.add(services.Row(device_a.pk, now, "inform", "ok", None, f"n{i}", "", {}))
    buffer.add(services.Row(device_b.pk, now, "status", "up", None, "", "", {}))
    assert DeviceLogEntry.objects.count() == 0 and buffer.pending() == 6
    device_b.delete()  # its rows are dropped, the others still written
    assert buffer.flush() == 5
    assert sorted(DeviceLogEntry.objects.values_list("message", flat=True)) == [
        f"n{i}" for i in range(5)
    ]
    assert buffer.pending() == 0


def test_a_large_batch_is_written_whole_with_each_row_as_given(device_a, device_b):
    """More rows than one statement carries on PostgreSQL (500): every row lands once,
    each with its own values, whatever the statement boundaries."""
    now = timezone.now()
    rows = [
        services.Row(
            (device_a, device_b)[i % 2].pk,
            now - timedelta(seconds=i),
            "inform",
            "ok",
            i,
            f"m{i}",
            "",
            {"i": i},
        )
        for i in range(1201)
    ]
    assert services.write(rows) == 1201
    stored = DeviceLogEntry.objects.values_list("device_id", "code", "message", "data")
    assert sorted(stored, key=lambda row: row[1]) == [
        ((device_a, device_b)[i % 2].pk, i, f"m{i}", {"i": i}) for i in range(1201)
    ]


def test_a_profile_with_log_level_off_logs_nothing(org_a, django_capture_on_commit_callbacks):
    from linesman.connprofiles.models import ConnectionProfile
    from linesman.core import events
    from linesman.inventory.models import DeviceType

    quiet = ConnectionProfile.objects.create(name="quiet", log_level="off")
    quiet_type = DeviceType.objects.create(short_name="q", name="Q", connection_profile=quiet)
    device = make_device(org_a, quiet_type, "LOG0004")
    with django_capture_on_commit_callbacks(execute=True):
        events.announce("device.down", device_id=device.pk, previous="up", reason="silent")
    assert DeviceLogEntry.objects.count() == 0


def test_operation_results_are_redacted_and_bounded(device_a, django_capture_on_commit_callbacks):
    from linesman.core import events

    small = {"values": {"Device.Users.User.1.Password": SECRET, "Device.X": "1"}}
    big = {"values": {f"Device.P.{i}.Name": "v" * 50 for i in range(200)}}
    with django_capture_on_commit_callbacks(execute=True):
        for op_id, result in (("op-small", small), ("op-big", big)):
            events.announce(
                "operation.finished",
                device_id=device_a.pk,
                operation_id=op_id,
                kind="get",
                state="completed",
                result=result,
                error="",
                cause=None,
            )
    rows = {r.operation_id: r for r in DeviceLogEntry.objects.all()}
    assert rows["op-small"].data["result"]["values"] == {
        "Device.Users.User.1.Password": "********",
        "Device.X": "1",
    }
    assert rows["op-small"].status == "completed"
    assert set(rows["op-big"].data["result"]) == {"omitted"}


def test_retention_keeps_sweeping_while_rows_are_left_behind(device_a, monkeypatch):
    monkeypatch.setattr(services, "DELETE_PER_SWEEP", 2)
    monkeypatch.setattr(services, "DELETE_CHUNK", 1)
    monkeypatch.setattr(services, "_last_purge", 0.0)
    monkeypatch.setattr(services, "_backlog", False)
    for _ in range(5):
        _entry(device_a, timedelta(days=30))
    fresh = _entry(device_a)
    now = timezone.now()
    assert services.purge_if_due(now) == 2
    assert services.purge_if_due(now) == 2  # a backlog: no waiting for RETENTION_EVERY
    assert services.purge_if_due(now) == 1
    assert services.purge_if_due(now) == 0  # caught up: the next pass waits
    assert list(DeviceLogEntry.objects.values_list("pk", flat=True)) == [fresh.pk]


def test_connection_requests_are_logged_with_their_method_and_outcome(
    cpe_device, viewer_a, django_capture_on_commit_callbacks
):
    import socket

    from linesman.cwmp import connreq

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    cpe_device.connection_request_url = f"http://127.0.0.1:{port}/cr"
    cpe_device.save()
    with django_capture_on_commit_callbacks(execute=True):
        outcome = connreq.send(cpe_device)
    assert not outcome.ok
    rows = _rows(viewer_a, f"?device={cpe_device.pk}&action=connection_request")["results"]
    assert [(r["status"], r["message"], r["data"]) for r in rows] == [
        (
            "failed",
            "by http: connection_refused",
            {"method": "http", "outcome": "connection_refused"},
        )
    ]


def test_text_with_tabs_newlines_backslashes_and_quotes_is_stored_as_given(device_a):
    """Rows travel in PostgreSQL's COPY text format, where these characters are syntax."""
    odd = "tab\there\nnew line \\N back\\slash 'single' \"double\" \\. é 🚀"
    row = services.Row(device_a.pk, timezone.now(), "inform", "ok", None, odd, odd[:60], {odd: odd})
    assert services.write([row]) == 1
    stored = DeviceLogEntry.objects.get()
    assert (stored.message, stored.operation_id, stored.data) == (odd, odd[:60], {odd: odd})
