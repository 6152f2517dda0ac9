"""Diagnostics as operations: input checks, the CWMP state machine, results, events.

The engine is driven the way the ACS session drives it (a task answered, an Inform with its
events); the full exchange with a simulated device is in tests/e2e/test_diagnostics_e2e.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from linesman.core import events
from linesman.cwmp.models import DeviceTask, TaskState
from linesman.inventory.models import Setting
from linesman.operations import engine
from linesman.operations.models import Operation
from tests.conftest import make_device

pytestmark = pytest.mark.django_db

DIAGS = "/api/v1/inventory_device_diags/"
PING = "Device.IP.Diagnostics.IPPing."


def post(actor, body):
    return actor.client.post(DIAGS, body, format="json")


def answer(task: DeviceTask, response: dict) -> None:
    """What the ACS session does: send the task, then take the device's answer."""
    engine.on_task_sent(task)
    task.state = TaskState.DONE
    task.response = response
    task.finished_at = timezone.now()
    task.save(update_fields=["state", "response", "finished_at"])
    engine.on_task_response(task, response)


def read_back(device, reported: dict[str, str], prefix: str = PING) -> None:
    """The device answers the result read: names of the object, then their values (each
    GetParameterValues carries at most engine.CHUNK names)."""
    (gpn,) = queued(device)
    assert gpn.method == "GetParameterNames" and gpn.args["path"] == prefix
    answer(gpn, {"parameters": [{"name": prefix + k, "writable": False} for k in reported]})
    while tasks := queued(device):
        gpv = tasks[0]
        assert gpv.method == "GetParameterValues"
        values = [{"name": n, "value": reported[n[len(prefix) :]]} for n in gpv.args["names"]]
        answer(gpv, {"parameters": values})


def queued(device) -> list[DeviceTask]:
    return list(DeviceTask.objects.filter(device=device, state=TaskState.QUEUED).order_by("id"))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"operation": "ipping"}, "host"),
        (
            {"operation": "ipping", "parameters": {"host": "x", "number_of_repetitions": 0}},
            "number_of_repetitions",
        ),  # noqa: E501
        ({"operation": "ipping", "parameters": {"host": "x", "timeout": "soon"}}, "timeout"),
        ({"operation": "ipping", "parameters": {"host": "x", "colour": "red"}}, "colour"),
        ({"operation": "ipping", "parameters": {"host": " x"}}, "host"),
        ({"operation": "ipping", "parameters": "host=x"}, "parameters"),
        ({"operation": "download", "parameters": {"download_url": "ftp://x/y"}}, "download_url"),
        ({"operation": "udpecho", "parameters": {"host": "x"}}, "port"),
        ({"operation": "teleport"}, "operation"),
        ({}, "operation"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(admin_a, device_a, body, field):
    response = post(admin_a, {"device": device_a.pk, **body})
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not Operation.objects.exists()


def test_missing_or_malformed_device_is_a_400_unknown_a_404(admin_a, device_a):
    assert "device" in post(admin_a, {"operation": "ipping"}).json()
    assert post(admin_a, {"device": "abc", "operation": "ipping"}).status_code == 400
    for odd in ("²", "99999999999999999999999", True, -1):  # digits to str.isdigit() alone
        response = post(admin_a, {"device": odd, "operation": "ipping"})
        assert response.status_code == 400 and "device" in response.json(), odd
    assert admin_a.client.get(DIAGS, {"id": "²"}).json()["count"] == 0
    assert post(admin_a, {"device": 999999, "operation": "ipping"}).status_code == 404
    assert admin_a.client.get("/api/v1/inventory_device_ipping/abc/").status_code == 404
    bad = admin_a.client.get(DIAGS, {"update_status": "maybe"})
    assert bad.status_code == 400 and "update_status" in bad.json()


def test_one_diagnostic_per_device_at_a_time(admin_a, device_a):
    first = post(
        admin_a, {"device": device_a.pk, "operation": "ipping", "parameters": {"host": "a"}}
    )
    assert first.status_code == 201
    second = post(
        admin_a, {"device": device_a.pk, "operation": "traceroute", "parameters": {"host": "b"}}
    )  # noqa: E501
    assert second.status_code == 409
    assert first.json()["operation_id"] in second.json()["detail"]


def test_a_tr098_device_gets_tr098_paths_and_no_tr181_only_diagnostics(admin_a, org_a, device_type):
    device = make_device(org_a, device_type, "IGD1", data_model_root="InternetGatewayDevice.")
    body = post(
        admin_a,
        {
            "device": device.pk,
            "operation": "traceroute",
            "parameters": {"host": "h", "max_hop_count": 5},
        },  # noqa: E501
    ).json()
    assert body["object"] == "InternetGatewayDevice.TraceRouteDiagnostics."
    (task,) = queued(device)
    sent = {p["name"]: p["value"] for p in task.args["parameters"]}
    assert sent == {
        "InternetGatewayDevice.TraceRouteDiagnostics.Host": "h",
        "InternetGatewayDevice.TraceRouteDiagnostics.MaxHopCount": "5",
        "InternetGatewayDevice.TraceRouteDiagnostics.DiagnosticsState": "Requested",
    }
    Operation.objects.all().delete()
    wifi = post(admin_a, {"device": device.pk, "operation": "wifi_neighbor"})
    assert wifi.status_code == 422 and "InternetGatewayDevice." in wifi.json()["detail"]


def test_a_ping_runs_as_a_cwmp_exchange_and_its_results_are_the_devices(
    admin_a, device_a, django_capture_on_commit_callbacks
):
    heard: list[events.Event] = []
    events.subscribe(heard.append, ("diagnostic.finished",))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            created = post(
                admin_a,
                {"device": device_a.pk, "operation": "ipping", "parameters": {"host": "10.0.0.9"}},
            ).json()
            (spv,) = queued(device_a)
            assert spv.method == "SetParameterValues"
            assert {
                "name": PING + "DiagnosticsState",
                "value": "Requested",
                "type": "xsd:string",
            } in spv.args["parameters"]  # noqa: E501
            answer(spv, {"status": 0})
            op = Operation.objects.get(pk=created["id"])
            assert op.phase == engine.AWAIT_DIAGNOSTIC and op.state == "in_progress"
            engine.on_inform(device_a, [("2 PERIODIC", "")])  # not the diagnostic's end
            assert queued(device_a) == []
            engine.on_inform(device_a, [("8 DIAGNOSTICS COMPLETE", "")])
            reported = {
                "DiagnosticsState": "Complete",
                "Host": "10.0.0.9",
                "SuccessCount": "3",
                "FailureCount": "1",
                "MinimumResponseTime": "7",
                "AverageResponseTime": "9",
                "MaximumResponseTime": "14",
            }
            read_back(device_a, reported)
    finally:
        events.unsubscribe(heard.append)
    listed = admin_a.client.get(DIAGS, {"id": created["operation_id"]}).json()["results"]
    assert [d["status"] for d in listed] == ["completed"]
    assert listed[0]["results"] == {
        "host": "10.0.0.9",
        "sent": 4,
        "received": 3,
        "loss_percent": 25.0,
        "rtt_min_ms": 7,
        "rtt_avg_ms": 9,
        "rtt_max_ms": 14,
        "reachable": True,
    }
    ping = admin_a.client.get(f"/api/v1/inventory_device_ipping/{device_a.pk}/").json()
    assert (ping["reachable"], ping["rtt_avg_ms"], ping["loss_percent"]) == (True, 9, 25.0)
    assert [e.data["operation_id"] for e in heard] == [created["operation_id"]]
    assert heard[0].data["kind"] == "ipping" and heard[0].data["results"]["SuccessCount"] == "3"
    assert not Setting.objects.filter(device=device_a).exists()  # never desired configuration


def test_a_device_error_state_fails_the_diagnostic_with_its_reason(admin_a, device_a):
    created = post(
        admin_a, {"device": device_a.pk, "operation": "ipping", "parameters": {"host": "nx.test"}}
    ).json()
    answer(queued(device_a)[0], {"status": 0})
    engine.on_inform(device_a, [("8 DIAGNOSTICS COMPLETE", "")])
    read_back(device_a, {"DiagnosticsState": "Error_CannotResolveHostName", "Host": "nx.test"})
    body = admin_a.client.get(DIAGS, {"id": created["id"]}).json()["results"][0]
    assert body["status"] == "failed"
    assert body["device_state"] == "Error_CannotResolveHostName"
    assert "Error_CannotResolveHostName" in body["error"]


def test_results_bigger_than_one_read_are_merged_before_they_are_judged(admin_a, device_a):
    wifi = "Device.WiFi.NeighboringWiFiDiagnostic."
    created = post(admin_a, {"device": device_a.pk, "operation": "wifi_neighbor"}).json()
    answer(queued(device_a)[0], {"status": 0})
    engine.on_inform(device_a, [("8 DIAGNOSTICS COMPLETE", "")])
    reported = {}
    for n in range(1, 31):
        reported |= {f"Result.{n}.SSID": f"net-{n}", f"Result.{n}.Channel": str(n % 13 + 1)}
    # 62 names: two reads, the state in the second one (the device's order).
    reported |= {"ResultNumberOfEntries": "30", "DiagnosticsState": "Complete"}
    read_back(device_a, reported, prefix=wifi)
    body = admin_a.client.get(DIAGS, {"id": created["id"]}).json()["results"][0]
    assert body["status"] == "completed"
    ssids = [n["ssid"] for n in body["results"]["neighbours"]]
    assert ssids == [f"net-{n}" for n in range(1, 31)]


def test_a_diagnostic_that_never_completes_times_out_saying_what_it_waited_for(admin_a, device_a):
    created = post(
        admin_a, {"device": device_a.pk, "operation": "ipping", "parameters": {"host": "h"}}
    ).json()
    answer(queued(device_a)[0], {"status": 0})
    Operation.objects.filter(pk=created["id"]).update(
        deadline=timezone.now() - timedelta(seconds=1)
    )
    engine.expire(created["id"])
    op = Operation.objects.get(pk=created["id"])
    assert op.state == "timed_out" and "8 DIAGNOSTICS COMPLETE" in op.error


def test_a_diagnostic_can_be_cancelled(admin_a, device_a):
    created = post(
        admin_a, {"device": device_a.pk, "operation": "nslookup", "parameters": {"host_name": "h"}}
    ).json()
    response = admin_a.client.post(f"/api/v1/operations/{created['operation_id']}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert queued(device_a) == []
    again = post(admin_a, {"device": device_a.pk, "operation": "wifi_neighbor"})
    assert again.status_code == 201  # the device is free again


def test_speed_test_file_server_sends_and_counts_bytes(client):
    response = client.get("/diagnostics/speedtest/70000")
    assert response.status_code == 200
    assert len(b"".join(response.streaming_content)) == 70000
    assert client.get("/diagnostics/speedtest/200000000").status_code == 404
    put = client.put(
        "/diagnostics/speedtest/", b"x" * 1234, content_type="application/octet-stream"
    )
    assert put.status_code == 200 and put.json() == {"received": 1234}


def test_ping_results_are_the_last_ping_the_device_reported(admin_a, device_a):
    first = post(
        admin_a, {"device": device_a.pk, "operation": "ipping", "parameters": {"host": "h1"}}
    ).json()
    answer(queued(device_a)[0], {"status": 0})
    engine.on_inform(device_a, [("8 DIAGNOSTICS COMPLETE", "")])
    read_back(
        device_a,
        {
            "DiagnosticsState": "Complete",
            "Host": "h1",
            "SuccessCount": "0",
            "FailureCount": "4",
        },
    )
    second = post(
        admin_a, {"device": device_a.pk, "operation": "ipping", "parameters": {"host": "h2"}}
    ).json()
    admin_a.client.post(f"/api/v1/operations/{second['operation_id']}/cancel/")
    body = admin_a.client.get(f"/api/v1/inventory_device_ipping/{device_a.pk}/").json()
    assert body["last_ping"]["id"] == first["id"] and body["running"] is None
    assert (body["host"], body["reachable"], body["loss_percent"]) == ("h1", False, 100.0)
    assert body["rtt_avg_ms"] is None  # nothing came back: no round trip to report


def test_the_openapi_schema_documents_the_endpoints_and_the_run_parameter():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for twin in ("", "_name", "_serial"):
        assert set(paths[f"/api/v1/inventory_device{twin}_diags/"]) >= {"get", "post"}
    assert "/api/v1/inventory_device_name_ipping/{name}/" in paths
    assert "/api/v1/inventory_device_serial_ipping/{serial_number}/" in paths
    ipping = paths["/api/v1/inventory_device_ipping/{id}/"]["get"]
    names = {p["name"] for p in ipping["parameters"]}
    assert {"run", "host", "number_of_repetitions"} <= names
    assert {"200", "202", "403", "404", "409"} <= set(ipping["responses"])
    for twin, key in (("", "device"), ("_name", "name"), ("_serial", "serial_number")):
        get = paths[f"/api/v1/inventory_device{twin}_diags/"]["get"]
        assert {"id", "update_status", "limit", key} <= {p["name"] for p in get["parameters"]}
        page = get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        page_schema = SchemaGenerator().get_schema(request=None, public=True)["components"]
        props = page_schema["schemas"][page.rsplit("/", 1)[-1]]["properties"]
        assert {"count", "next", "previous", "results"} <= set(props)
