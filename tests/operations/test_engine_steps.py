"""The operation engine step by step, as a device sees it: what each kind of operation sends,
what the answers change (the operation's state and output, stored settings and values),
and what ends it. Driven by a scripted CPE through the full Django stack."""

from __future__ import annotations

import pytest

from linesman.cwmp import soap
from linesman.cwmp.parameters import get_values, merge_values
from linesman.inventory.models import Setting
from linesman.operations import services as operations
from linesman.operations.models import Operation, OperationState
from tests.operations.cpe import drop_session_at, methods, reloaded, session, values_read

pytestmark = pytest.mark.django_db


def start(device, kind: str, **params) -> Operation:
    return operations.start_operation(device=device, kind=kind, params=params)


# --- get -------------------------------------------------------------------------------


def test_get_of_full_names_reads_their_values_in_one_request(device):
    names = ["Device.DeviceInfo.UpTime", "Device.WiFi.SSID.1.SSID"]
    op = start(device, "get", variables=[{"variable_name": n} for n in names])
    received = session()
    assert methods(received) == ["GetParameterValues"]
    assert received[0].names == names
    op = reloaded(op)
    assert op.state == OperationState.COMPLETED and op.result == "success"
    assert op.output["values"] == {n: "v" for n in names}


def test_get_of_partial_paths_learns_the_names_first_then_reads_only_the_leaves(device):
    op = start(
        device,
        "get",
        variables=[{"variable_name": "Device.WiFi."}, {"variable_name": "Device.Hosts."}],
    )

    def answer(request):
        if isinstance(request, soap.GetParameterNames):
            return soap.GetParameterNamesResponse(
                [
                    soap.ParameterInfo(request.path + "1.", True),
                    soap.ParameterInfo(request.path + "1.Name", True),
                ]
            )
        return None

    received = session(answer=answer)
    assert methods(received) == [
        "GetParameterNames",
        "GetParameterNames",
        "GetParameterValues",
        "GetParameterValues",
    ]
    assert [(r.path, r.next_level) for r in received[:2]] == [
        ("Device.WiFi.", False),
        ("Device.Hosts.", False),
    ]
    # Objects (names ending in ".") are not read, only parameters.
    assert [r.names for r in received[2:]] == [["Device.WiFi.1.Name"], ["Device.Hosts.1.Name"]]
    op = reloaded(op)
    assert op.state == OperationState.COMPLETED
    assert op.output["values"] == {"Device.WiFi.1.Name": "v", "Device.Hosts.1.Name": "v"}
    stored = get_values(device.pk)
    assert stored["Device.WiFi.1.Name"][0] == "v" and stored["Device.WiFi.1.Name"][2] is True


def test_a_get_of_more_than_a_hundred_leaves_is_read_in_chunks_of_a_hundred(device):
    """A partial path is read like the whole tree: names first, then values 100 at a time."""
    op = start(device, "get", variables=[{"variable_name": "Device.Big."}])
    leaves = [f"Device.Big.P{i:03d}" for i in range(220)]
    reads = values_read(leaves)
    assert [len(r) for r in reads] == [100, 100, 20]
    assert [n for r in reads for n in r] == leaves
    assert len(reloaded(op).output["values"]) == 220


# --- set ---------------------------------------------------------------------------------


def test_set_sends_typed_values_with_the_operation_id_as_parameter_key(device):
    op = start(
        device,
        "set",
        variables=[
            {"variable_name": "Device.WiFi.SSID.1.SSID", "value": "guest"},
            {
                "variable_name": "Device.ManagementServer.PeriodicInformInterval",
                "value": 600,
                "type": "xsd:unsignedInt",
            },
        ],
    )
    received = session()
    assert methods(received) == ["SetParameterValues"]
    assert received[0].parameter_key == op.operation_id
    assert [(p.name, p.value, p.type) for p in received[0].parameters] == [
        ("Device.WiFi.SSID.1.SSID", "guest", "xsd:string"),
        ("Device.ManagementServer.PeriodicInformInterval", "600", "xsd:unsignedInt"),
    ]
    op = reloaded(op)
    assert op.state == OperationState.COMPLETED
    assert "reboot_required" not in op.output
    assert get_values(device.pk)["Device.WiFi.SSID.1.SSID"][0] == "guest"


def test_a_set_the_device_applies_only_after_a_reboot_says_so(device):
    op = start(device, "set", variables=[{"variable_name": "Device.X.Y", "value": "1"}])

    def answer(request):
        if isinstance(request, soap.SetParameterValues):
            return soap.SetParameterValuesResponse(1)
        return None

    session(answer=answer)
    op = reloaded(op)
    assert op.state == OperationState.COMPLETED
    assert op.output["reboot_required"] is True


def test_a_set_of_more_than_fifty_values_goes_in_chunks_of_fifty(device):
    variables = [{"variable_name": f"Device.X.P{i:03d}", "value": str(i)} for i in range(51)]
    op = start(device, "set", variables=variables)
    received = session()
    assert [len(r.parameters) for r in received] == [50, 1]
    assert all(r.parameter_key == op.operation_id for r in received)
    assert received[1].parameters[0].name == "Device.X.P050"
    assert reloaded(op).state == OperationState.COMPLETED


# --- objects -----------------------------------------------------------------------------


def test_add_object_sends_each_object_and_records_the_instance_numbers(device):
    op = start(
        device,
        "add.obj",
        variables=[
            {"variable_name": "Device.NAT.PortMapping."},
            {"variable_name": "Device.Hosts.Host."},
        ],
    )
    numbers = iter([7, 8])

    def answer(request):
        if isinstance(request, soap.AddObject):
            return soap.AddObjectResponse(next(numbers), 0)
        return None

    received = session(answer=answer)
    assert methods(received) == ["AddObject", "AddObject"]
    assert [(r.object_name, r.parameter_key) for r in received] == [
        ("Device.NAT.PortMapping.", op.operation_id),
        ("Device.Hosts.Host.", op.operation_id),
    ]
    op = reloaded(op)
    assert op.state == OperationState.COMPLETED
    objects = op.output["objects"]
    assert [o["object_name"] for o in objects] == ["Device.NAT.PortMapping.", "Device.Hosts.Host."]
    assert [o["instance_number"] for o in objects] == [7, 8]


def test_delete_object_forgets_what_was_stored_under_the_object(device):
    merge_values(
        device.pk,
        [
            {"name": "Device.NAT.PortMapping.3.Enable", "value": "1"},
            {"name": "Device.NAT.PortMapping.4.Enable", "value": "1"},
        ],
    )
    op = start(device, "del.obj", variables=[{"variable_name": "Device.NAT.PortMapping.3."}])
    received = session()
    assert methods(received) == ["DeleteObject"]
    assert received[0].object_name == "Device.NAT.PortMapping.3."
    assert received[0].parameter_key == op.operation_id
    op = reloaded(op)
    assert op.state == OperationState.COMPLETED
    assert [o["object_name"] for o in op.output["objects"]] == ["Device.NAT.PortMapping.3."]
    stored = get_values(device.pk)
    assert "Device.NAT.PortMapping.3.Enable" not in stored
    assert "Device.NAT.PortMapping.4.Enable" in stored


def test_add_object_keeps_stored_values(device):
    merge_values(device.pk, [{"name": "Device.NAT.PortMapping.3.Enable", "value": "1"}])
    start(device, "add.obj", variables=[{"variable_name": "Device.NAT.PortMapping.3."}])
    session()
    assert "Device.NAT.PortMapping.3.Enable" in get_values(device.pk)


# --- status probe ------------------------------------------------------------------------


def test_a_status_probe_sends_nothing_and_completes_at_the_next_inform(device):
    op = start(device, "status")
    assert reloaded(op).phase == "awaiting_inform"
    assert session(events=("2 PERIODIC",)) == []
    op = reloaded(op)
    assert op.state == OperationState.COMPLETED and op.phase == ""


# --- factory resets ----------------------------------------------------------------------


def _settings(device) -> None:
    Setting.objects.create(device=device, variable_name="Device.WiFi.SSID.1.SSID", value="mine")
    merge_values(device.pk, [{"name": "Device.WiFi.SSID.1.SSID", "value": "mine"}])


def test_factory_reset_wipes_the_stored_settings_and_values(device):
    _settings(device)
    op = start(device, "factory")
    assert methods(session()) == ["FactoryReset"]
    op = reloaded(op)
    assert op.phase == "awaiting_bootstrap" and op.state == OperationState.IN_PROGRESS
    assert not Setting.objects.filter(device=device).exists()
    assert get_values(device.pk) == {}
    received = session(events=("0 BOOTSTRAP", "1 BOOT"))
    # The bootstrap re-provisions the type's template only: the wiped setting is not sent.
    sent = [
        p.name for r in received if isinstance(r, soap.SetParameterValues) for p in r.parameters
    ]
    assert "Device.WiFi.SSID.1.SSID" not in sent
    assert reloaded(op).state == OperationState.COMPLETED


def test_device_factory_reset_keeps_the_settings_and_applies_them_again(device):
    _settings(device)
    op = start(device, "device_factory")
    assert methods(session()) == ["FactoryReset"]
    assert Setting.objects.filter(device=device).count() == 1
    assert get_values(device.pk)["Device.WiFi.SSID.1.SSID"][0] == "mine"
    assert reloaded(op).phase == "awaiting_bootstrap"
    # A session without a bootstrap does not end the wait.
    session(events=("2 PERIODIC",))
    assert reloaded(op).state == OperationState.IN_PROGRESS
    received = session(events=("0 BOOTSTRAP", "1 BOOT"))
    sent = {
        p.name: p.value
        for r in received
        if isinstance(r, soap.SetParameterValues)
        for p in r.parameters
    }
    assert sent["Device.WiFi.SSID.1.SSID"] == "mine"
    assert reloaded(op).state == OperationState.COMPLETED


def test_factory_reset_whose_answer_was_lost_still_wipes_the_settings(device):
    _settings(device)
    op = start(device, "factory")
    drop_session_at("FactoryReset")
    assert Setting.objects.filter(device=device).count() == 1  # not answered: nothing yet
    received = session(events=("0 BOOTSTRAP", "1 BOOT"))
    assert "FactoryReset" not in methods(received)
    assert not Setting.objects.filter(device=device).exists()
    assert reloaded(op).state == OperationState.COMPLETED


def test_factory_reset_whose_answer_was_lost_forgets_the_stored_values_too(device):
    """As when its answer arrives: the device's old values are gone with the reset, so the
    device page does not show them as its current values."""
    _settings(device)
    start(device, "factory")
    drop_session_at("FactoryReset")
    session(events=("0 BOOTSTRAP", "1 BOOT"))
    assert "Device.WiFi.SSID.1.SSID" not in get_values(device.pk)
