"""How a simulated device answers each RPC, faults included, and what it records."""

from __future__ import annotations

import time

import pytest

from linesman.cwmp import soap
from linesman.simulator.device import SUPPORTED_METHODS, SimulatedDevice
from linesman.simulator.fleet import shared_tree
from linesman.simulator.identity import Profile

MS = "Device.ManagementServer."


def make(flavour: str = "tr181", serial: str = "SIM000001", **kw: object) -> SimulatedDevice:
    profile = Profile(flavour, "http://127.0.0.1:1/acs", interval=300)
    device = SimulatedDevice(serial, int(serial[-6:]), profile, shared_tree(flavour), **kw)  # type: ignore[arg-type]
    device.boot()
    return device


def ask(device: SimulatedDevice, request: soap.Message) -> soap.Message:
    """Send a request and return the answer after a trip through the real codec."""
    answer = device.handle(request)
    env = soap.parse(soap.serialize(soap.Envelope(answer, cwmp_id="1")))
    assert env is not None and env.body is not None
    return env.body


def fault_code(message: soap.Message) -> int:
    assert isinstance(message, soap.Fault), message
    return message.fault_code


def pv(name: str, value: str, kind: str = "xsd:string") -> soap.ParameterValue:
    return soap.ParameterValue(name, value, kind)


# ------------------------------------------------------------------------- reads


def test_get_parameter_names() -> None:
    d = make()
    top = ask(d, soap.GetParameterNames("Device.", True))
    assert isinstance(top, soap.GetParameterNamesResponse)
    names = {p.name: p.writable for p in top.parameters}
    assert names["Device.WiFi."] is False and "Device.WiFi.SSID." not in names
    table = ask(d, soap.GetParameterNames("Device.NAT.PortMapping.", True))
    assert [p.name for p in table.parameters] == ["Device.NAT.PortMapping.1."]
    assert table.parameters[0].writable is True
    assert fault_code(ask(d, soap.GetParameterNames("Device.Bogus.", False))) == 9005
    assert fault_code(ask(d, soap.GetParameterNames("Device.DeviceInfo.UpTime", True))) == 9003


def test_get_parameter_values_full_and_partial() -> None:
    d = make()
    answer = ask(
        d,
        soap.GetParameterValues(
            ["Device.DeviceInfo.UpTime", "Device.ManagementServer.", "Device.Time.NTPServer1"]
        ),
    )
    values = {p.name: (p.value, p.type) for p in answer.parameters}
    assert values["Device.DeviceInfo.UpTime"][1] == "xsd:unsignedInt"
    assert values[MS + "PeriodicInformInterval"] == ("300", "xsd:unsignedInt")
    assert values[MS + "Password"] == ("", "xsd:string")
    assert values[MS + "ConnectionRequestPassword"] == ("", "xsd:string")
    assert values[MS + "Username"] == ("SIM000001", "xsd:string")
    assert values["Device.Time.NTPServer1"] == ("pool.ntp.org", "xsd:string")
    assert fault_code(ask(d, soap.GetParameterValues(["Device.DeviceInfo.Nope"]))) == 9005
    assert fault_code(ask(d, soap.GetParameterValues(["Device.Time"]))) == 9005


def test_uptime_and_connection_request_url_are_live() -> None:
    d = make()
    d.connreq_url = "http://127.0.0.1:4567/SIM000001"
    d.boot_at -= 100
    assert int(d.get("Device.DeviceInfo.UpTime")) >= 100
    assert d.get(MS + "ConnectionRequestURL") == "http://127.0.0.1:4567/SIM000001"


# ------------------------------------------------------------------------- writes


def test_set_parameter_values_applies_all_and_sets_parameter_key() -> None:
    d = make()
    answer = ask(
        d,
        soap.SetParameterValues(
            [
                pv(MS + "PeriodicInformInterval", "60", "xsd:unsignedInt"),
                pv("Device.WiFi.SSID.1.SSID", "home"),
                pv(MS + "ConnectionRequestPassword", "new-secret"),
            ],
            "key-1",
        ),
    )
    assert answer == soap.SetParameterValuesResponse(0)
    assert d.periodic_settings() == (True, 60)
    assert d.get("Device.WiFi.SSID.1.SSID") == "home"
    assert d.connreq_credentials() == ("SIM000001", "new-secret")
    assert d.get(MS + "ParameterKey") == "key-1"
    read = ask(d, soap.GetParameterValues([MS + "ConnectionRequestPassword"]))
    assert read.parameters[0].value == ""


def test_set_parameter_values_is_all_or_nothing_with_fault_details() -> None:
    d = make()
    answer = ask(
        d,
        soap.SetParameterValues(
            [
                pv("Device.WiFi.SSID.1.SSID", "would-be-set"),
                pv(MS + "PeriodicInformInterval", "often"),
                pv("Device.DeviceInfo.SerialNumber", "X"),
                pv("Device.DeviceInfo.NoSuchThing", "1"),
                pv("Device.NAT.PortMapping.1.Protocol", "ICMP"),
            ],
            "key-2",
        ),
    )
    assert fault_code(answer) == 9003
    details = {f.name: f.code for f in answer.set_parameter_value_faults}
    assert details == {
        MS + "PeriodicInformInterval": 9007,
        "Device.DeviceInfo.SerialNumber": 9008,
        "Device.DeviceInfo.NoSuchThing": 9005,
        "Device.NAT.PortMapping.1.Protocol": 9007,
    }
    assert d.get("Device.WiFi.SSID.1.SSID") == "Linesman-0001"
    assert d.get(MS + "ParameterKey") == ""


def test_set_parameter_values_duplicate_name_is_invalid_arguments() -> None:
    d = make()
    name = "Device.WiFi.SSID.1.SSID"
    answer = ask(d, soap.SetParameterValues([pv(name, "a"), pv(name, "b")], "k"))
    assert fault_code(answer) == 9003
    assert d.get(name) == "Linesman-0001"


def test_changing_the_acs_url_means_bootstrap_again() -> None:
    d = make()
    d.bootstrapped = True
    ask(d, soap.SetParameterValues([pv(MS + "URL", "http://127.0.0.1:2/other")], "k"))
    assert d.bootstrapped is False and d.acs_url() == "http://127.0.0.1:2/other"


def test_attributes_rpcs() -> None:
    d = make()
    answer = ask(
        d,
        soap.SetParameterAttributes(
            [
                soap.SetParameterAttribute("Device.DeviceInfo.ProvisioningCode", True, 2, False),
                soap.SetParameterAttribute("Device.Time.", True, 1, True, ["Subscriber"]),
            ]
        ),
    )
    assert isinstance(answer, soap.SetParameterAttributesResponse)
    got = ask(
        d, soap.GetParameterAttributes(["Device.DeviceInfo.ProvisioningCode", "Device.Time."])
    )
    attrs = {a.name: (a.notification, a.access_list) for a in got.parameters}
    assert attrs["Device.DeviceInfo.ProvisioningCode"] == (2, [])
    assert attrs["Device.Time.NTPServer1"] == (1, ["Subscriber"])
    assert attrs["Device.Time.CurrentLocalTime"] == (1, ["Subscriber"])
    rejected = ask(
        d,
        soap.SetParameterAttributes(
            [soap.SetParameterAttribute("Device.DeviceInfo.UpTime", True, 2, False)]
        ),
    )
    assert fault_code(rejected) == 9009
    bad = ask(
        d,
        soap.SetParameterAttributes(
            [soap.SetParameterAttribute("Device.Time.Enable", True, 7, False)]
        ),
    )
    assert fault_code(bad) == 9003
    unknown = ask(d, soap.GetParameterAttributes(["Device.Nope"]))
    assert fault_code(unknown) == 9005


def test_add_and_delete_object() -> None:
    d = make("tr098")
    wan = "InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANIPConnection.1."
    added = ask(d, soap.AddObject(wan + "PortMapping.", "add-key"))
    assert added == soap.AddObjectResponse(1, 0)
    assert d.get("InternetGatewayDevice.ManagementServer.ParameterKey") == "add-key"
    values = ask(d, soap.GetParameterValues([wan + "PortMapping.1."]))
    assert {p.name.rsplit(".", 1)[1] for p in values.parameters} >= {
        "PortMappingEnabled",
        "ExternalPort",
        "InternalClient",
        "PortMappingProtocol",
    }
    assert ask(d, soap.AddObject(wan + "PortMapping.", "")) == soap.AddObjectResponse(2, 0)
    assert ask(d, soap.DeleteObject(wan + "PortMapping.1.", "del")) == soap.DeleteObjectResponse(0)
    assert fault_code(ask(d, soap.DeleteObject(wan + "PortMapping.1.", "del"))) == 9005
    assert fault_code(ask(d, soap.AddObject(wan + "Nope.", ""))) == 9005
    assert fault_code(ask(d, soap.AddObject("InternetGatewayDevice.DeviceInfo.", ""))) == 9005
    assert d.get(wan + "PortMappingNumberOfEntries") == "1"


# ------------------------------------------------------------------------- other RPCs


def test_get_rpc_methods_and_unknown_methods() -> None:
    d = make()
    assert ask(d, soap.GetRPCMethods()).methods == list(SUPPORTED_METHODS)
    assert fault_code(ask(d, soap.InformResponse(1))) == 9000  # not something a CPE answers
    assert fault_code(d.handle_unknown("X_VENDOR_Frobnicate")) == 9000
    assert d.journal[-1].method == "X_VENDOR_Frobnicate"


def test_fail_methods_answer_9000() -> None:
    d = make()
    d.fail_methods = frozenset({"GetParameterValues"})
    assert fault_code(ask(d, soap.GetParameterValues(["Device.DeviceInfo.UpTime"]))) == 9000
    assert isinstance(ask(d, soap.GetRPCMethods()), soap.GetRPCMethodsResponse)


def test_reboot_factory_reset_schedule_inform_are_recorded_for_after_the_session() -> None:
    d = make()
    assert isinstance(ask(d, soap.Reboot("rk")), soap.RebootResponse)
    assert d.has_pending_work() and d.take_reboot() == "rk" and d.take_reboot() is None
    assert isinstance(ask(d, soap.FactoryReset()), soap.FactoryResetResponse)
    assert d.take_factory_reset() and not d.take_factory_reset()
    assert isinstance(ask(d, soap.ScheduleInform(30, "sk")), soap.ScheduleInformResponse)
    assert d.take_due_scheduled(time.monotonic()) == []
    assert d.take_due_scheduled(time.monotonic() + 31) == ["sk"]
    assert fault_code(ask(d, soap.ScheduleInform(0, "zero"))) == 9003


def test_download_is_accepted_as_pending_or_refused() -> None:
    d = make()
    ok = ask(d, soap.Download("dk", "1 Firmware Upgrade Image", "http://127.0.0.1:1/fw.bin"))
    assert isinstance(ok, soap.DownloadResponse) and ok.status == 1
    assert len(d.take_due_downloads(time.monotonic())) == 1
    ftp = ask(d, soap.Download("dk", "1 Firmware Upgrade Image", "ftp://127.0.0.1/fw.bin"))
    assert fault_code(ftp) == 9013
    odd = ask(d, soap.Download("dk", "9 Nonsense", "http://127.0.0.1:1/x"))
    assert fault_code(odd) == 9003
    for _ in range(3):
        ask(
            d,
            soap.Download(
                "dk", "3 Vendor Configuration File", "http://127.0.0.1:1/c", delay_seconds=60
            ),
        )
    full = ask(d, soap.Download("dk", "3 Vendor Configuration File", "http://127.0.0.1:1/c"))
    assert fault_code(full) == 9004


def test_factory_reset_restores_defaults() -> None:
    d = make()
    ask(
        d,
        soap.SetParameterValues(
            [pv(MS + "PeriodicInformInterval", "5"), pv(MS + "ConnectionRequestUsername", "x")], "k"
        ),
    )
    ask(d, soap.AddObject("Device.NAT.PortMapping.", ""))
    d.bootstrapped = True
    d.factory_reset()
    assert d.periodic_settings() == (True, 300)
    assert d.connreq_credentials() == ("SIM000001", "SIM000001-secret")
    assert d.model.instances("Device.NAT.PortMapping.") == [1]
    assert d.counters.factory_resets == 1 and not d.bootstrapped
    d.boot()
    assert [code for code, _k in d.events] == ["0 BOOTSTRAP", "1 BOOT"]


def test_diagnostics_complete_after_the_session() -> None:
    d = make()
    ping = "Device.IP.Diagnostics.IPPing."
    ask(
        d,
        soap.SetParameterValues(
            [pv(ping + "Host", "127.0.0.1"), pv(ping + "DiagnosticsState", "Requested")], "k"
        ),
    )
    assert d.has_pending_work()
    assert d.take_diagnostics() == [ping]
    assert not d.has_pending_work() and d.take_diagnostics() == []


# ------------------------------------------------------------------------- journal, informs


def test_journal_records_key_arguments_and_is_bounded() -> None:
    d = make(journal_size=3)
    ask(d, soap.SetParameterValues([pv("Device.WiFi.SSID.1.SSID", "x")], "jk"))
    assert d.journal[0].method == "SetParameterValues"
    assert d.journal[0].args == {
        "parameters": {"Device.WiFi.SSID.1.SSID": "x"},
        "parameter_key": "jk",
    }
    assert abs(d.journal[0].at - time.time()) < 5
    for _ in range(5):
        ask(d, soap.GetRPCMethods())
    assert len(d.journal) == 3 and d.counters.rpcs == 6
    assert [e.method for e in d.received("GetRPCMethods")] == ["GetRPCMethods"] * 3
    dl = make()
    ask(dl, soap.Download("k", "1 Firmware Upgrade Image", "http://h/f", "user", "pass"))
    assert "pass" not in repr(dl.journal[0].args.values())


@pytest.mark.parametrize("flavour", ["tr181", "tr098"])
def test_inform_carries_forced_parameters_and_events(flavour: str) -> None:
    d = make(flavour)
    inform = d.build_inform(retry_count=2)
    assert inform.device_id.serial_number == "SIM000001"
    assert inform.device_id.oui == "024C53"
    assert [e.code for e in inform.events] == ["0 BOOTSTRAP", "1 BOOT"]
    assert inform.retry_count == 2
    names = [p.name for p in inform.parameters]
    assert names == list(shared_tree(flavour).inform_params)
    assert any(n.endswith("SoftwareVersion") for n in names)
    assert soap.parse(soap.serialize(soap.Envelope(inform, cwmp_id="i"))).body == inform
    d.inform_acknowledged(inform)
    assert d.events == [] and d.bootstrapped and d.sent_event("1 BOOT")


def test_value_change_notifications() -> None:
    d = make()
    d.inform_acknowledged(d.build_inform())
    woke = []
    d.wake = lambda: woke.append(True)
    passive, active = "Device.WiFi.SSID.1.SSID", "Device.DeviceInfo.ProvisioningCode"
    d.model.set_attributes(passive, 1, None)
    d.model.set_attributes(active, 2, None)
    d.set_local(passive, "renamed")
    assert not d.has_events() and not woke  # passive: waits for the next inform
    d.set_local(active, "PC-9")
    assert d.has_events() and woke == [True]
    inform = d.build_inform()
    assert [e.code for e in inform.events] == ["4 VALUE CHANGE"]
    sent = {p.name: p.value for p in inform.parameters}
    assert sent[passive] == "renamed" and sent[active] == "PC-9"
    d.inform_acknowledged(inform)
    assert [p.name for p in d.build_inform().parameters] == list(d.model.tree.inform_params)
