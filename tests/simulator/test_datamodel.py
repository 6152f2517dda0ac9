"""The data model engine and the two gateway trees: shape, copy-on-write, tables, validation."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from linesman.simulator.datamodel import (
    BOOL,
    DATETIME,
    INT,
    UINT,
    DataModel,
    ModelFault,
    O,
    P,
    Param,
    T,
    check_value,
    compile_tree,
    schema_key,
)
from linesman.simulator.fleet import shared_tree
from linesman.simulator.identity import Identity, Profile


def model(flavour: str = "tr181", serial: str = "SIM000007", index: int = 7) -> DataModel:
    profile = Profile(flavour, "http://127.0.0.1:7547/acs", interval=300)
    return DataModel(shared_tree(flavour), Identity(serial, index, profile), lambda k, p: k)


@pytest.mark.parametrize(
    "flavour,root", [("tr181", "Device."), ("tr098", "InternetGatewayDevice.")]
)
def test_trees_are_realistic_and_every_default_resolves(flavour: str, root: str) -> None:
    m = model(flavour)
    params = m.params_under("")
    assert len(params) >= 300
    assert all(p.startswith(root) for p in params)
    for path in params:
        m.get(path)  # every {placeholder} has a value for this identity
    for name in (
        "Manufacturer",
        "ManufacturerOUI",
        "ProductClass",
        "SerialNumber",
        "HardwareVersion",
        "SoftwareVersion",
        "UpTime",
    ):
        assert m.exists(f"{root}DeviceInfo.{name}")
    for name in (
        "URL",
        "Username",
        "Password",
        "PeriodicInformEnable",
        "PeriodicInformInterval",
        "ConnectionRequestURL",
        "ConnectionRequestUsername",
        "ConnectionRequestPassword",
        "ParameterKey",
    ):
        assert m.exists(f"{root}ManagementServer.{name}")
    for path in shared_tree(flavour).inform_params:
        assert m.exists(path)
    assert m.get(f"{root}DeviceInfo.SerialNumber") == "SIM000007"
    assert m.get(f"{root}ManagementServer.PeriodicInformInterval") == "300"


def test_flavour_specific_objects() -> None:
    m181, m098 = model("tr181"), model("tr098")
    assert m181.instances("Device.WiFi.Radio.") == [1, 2]
    assert m181.instances("Device.Hosts.Host.") == [1, 2, 3, 4, 5]
    assert m181.get("Device.Hosts.HostNumberOfEntries") == "5"
    assert m181.get("Device.IP.Interface.1.IPv4Address.1.IPAddress") == "100.64.0.9"
    assert m181.get("Device.Time.NTPServer1") == "pool.ntp.org"
    lan = "InternetGatewayDevice.LANDevice.1."
    assert m098.instances(lan + "WLANConfiguration.") == [1, 2]
    assert m098.get(lan + "WLANConfiguration.2.SSID") == "Linesman-0007-5G"
    assert m098.instances(lan + "WLANConfiguration.1.WEPKey.") == [1, 2, 3, 4]
    assert m098.get(lan + "LANWLANConfigurationNumberOfEntries") == "2"
    assert m098.get(lan + "WLANConfiguration.1.TotalAssociations") == "2"
    assert re.fullmatch(r"([0-9A-F]{2}:){5}[0-9A-F]{2}", m098.get(lan + "Hosts.Host.1.MACAddress"))


def test_devices_share_the_tree_and_keep_only_their_changes() -> None:
    a, b = model(serial="SIM000001", index=1), model(serial="SIM000002", index=2)
    assert a.tree is b.tree
    assert a.override_count() == 0
    assert a.get("Device.DeviceInfo.SerialNumber") == "SIM000001"
    assert b.get("Device.DeviceInfo.SerialNumber") == "SIM000002"
    a.set("Device.WiFi.SSID.1.SSID", "mine")
    assert a.get("Device.WiFi.SSID.1.SSID") == "mine"
    assert b.get("Device.WiFi.SSID.1.SSID") == "Linesman-0002"
    assert a.override_count() == 1 and b.override_count() == 0
    a.reset()
    assert a.get("Device.WiFi.SSID.1.SSID") == "Linesman-0001"


def test_secrets_read_back_empty() -> None:
    m = model()
    assert m.read("Device.ManagementServer.Password") == ("", "xsd:string")
    assert m.get("Device.ManagementServer.Password") == "SIM000007-secret"
    assert m.read("Device.WiFi.AccessPoint.1.Security.KeyPassphrase")[0] == ""


def test_names_semantics() -> None:
    m = model()
    assert m.names("", True) == [("Device.", False)]
    top = dict(m.names("Device.", True))
    assert "Device.DeviceInfo." in top and "Device.RootDataModelVersion" in top
    assert not any(n.count(".") > 1 and not n.endswith(".") for n in top)
    assert not any(n.rstrip(".").count(".") > 1 for n in top)
    full = m.names("Device.NAT.PortMapping.", False)
    assert full[0] == ("Device.NAT.PortMapping.", True)
    assert ("Device.NAT.PortMapping.1.", True) in full
    assert ("Device.NAT.PortMapping.1.ExternalPort", True) in full
    assert m.names("Device.DeviceInfo.UpTime", False) == [("Device.DeviceInfo.UpTime", False)]
    with pytest.raises(ModelFault) as exc:
        m.names("Device.DeviceInfo.UpTime", True)
    assert exc.value.code == 9003
    for bad in ("Device.Nope.", "Device.DeviceInfo", "Device.DeviceInfo.UpTime.", "Foo"):
        with pytest.raises(ModelFault) as exc:
            m.names(bad, False)
        assert exc.value.code == 9005


def test_params_under() -> None:
    m = model()
    assert m.params_under("Device.DeviceInfo.UpTime") == ["Device.DeviceInfo.UpTime"]
    time_params = m.params_under("Device.Time.")
    assert "Device.Time.NTPServer1" in time_params
    assert all(not p.endswith(".") for p in time_params)
    assert m.params_under("Device.ManagementServer.ManageableDevice.") == []
    for bad in ("Device.Time", "Device.Time.NTPServer1.", "Device.X."):
        with pytest.raises(ModelFault):
            m.params_under(bad)


def test_add_and_delete_rows_with_nested_tables() -> None:
    m = model()
    assert m.add_object("Device.IP.Interface.") == 3
    assert m.get("Device.IP.Interface.3.MaxMTUSize") == "1500"
    assert m.get("Device.IP.InterfaceNumberOfEntries") == "3"
    assert m.instances("Device.IP.Interface.3.IPv4Address.") == []
    assert m.add_object("Device.IP.Interface.3.IPv4Address.") == 1
    m.set("Device.IP.Interface.3.IPv4Address.1.IPAddress", "10.0.0.1")
    assert m.get("Device.IP.Interface.3.IPv4AddressNumberOfEntries") == "1"
    m.delete_object("Device.IP.Interface.3.")
    assert not m.exists("Device.IP.Interface.3.IPv4Address.1.IPAddress")
    assert m.instances("Device.IP.Interface.") == [1, 2]
    m.delete_object("Device.IP.Interface.1.")
    assert not m.exists("Device.IP.Interface.1.Enable")
    assert m.instances("Device.IP.Interface.") == [2]
    assert m.add_object("Device.IP.Interface.") == 4  # numbers are not reused


def test_deleted_factory_row_number_is_not_reused() -> None:
    m = model()
    m.delete_object("Device.NAT.PortMapping.1.")
    assert m.instances("Device.NAT.PortMapping.") == []
    assert m.add_object("Device.NAT.PortMapping.") == 2


def test_table_faults() -> None:
    m = model()
    cases = [
        (m.add_object, "Device.Hosts.Host.", 9005),  # read-only table
        (m.add_object, "Device.DeviceInfo.", 9005),  # not a table
        (m.add_object, "Device.Nope.", 9005),
        (m.delete_object, "Device.NAT.PortMapping.9.", 9005),
        (m.delete_object, "Device.Hosts.Host.1.", 9005),
        (m.delete_object, "Device.NAT.PortMapping.", 9005),
    ]
    for fn, path, code in cases:
        with pytest.raises(ModelFault) as exc:
            fn(path)
        assert exc.value.code == code, path
    for _ in range(4):
        m.add_object("Device.WiFi.SSID.")  # 4 factory rows, 8 at most
    with pytest.raises(ModelFault) as exc:
        m.add_object("Device.WiFi.SSID.")
    assert exc.value.code == 9004


def test_added_row_in_tr098_gets_fixed_sub_rows() -> None:
    m = model("tr098")
    lan = "InternetGatewayDevice.LANDevice.1.WLANConfiguration."
    with pytest.raises(ModelFault):
        m.add_object(lan)  # WLANConfiguration is fixed
    wan = "InternetGatewayDevice.WANDevice.1.WANConnectionDevice."
    number = m.add_object(wan)
    assert number == 2
    assert m.instances(f"{wan}2.WANIPConnection.") == []
    assert m.get("InternetGatewayDevice.WANDevice.1.WANConnectionNumberOfEntries") == "2"


def test_attributes() -> None:
    m = model()
    path = "Device.DeviceInfo.ProvisioningCode"
    assert m.get_attributes(path) == (0, ())
    m.set_attributes(path, 2, None)
    m.set_attributes(path, None, ["Subscriber"])
    assert m.get_attributes(path) == (2, ("Subscriber",))
    assert list(m.notifying()) == [(path, 2)]
    m.reset()
    assert m.get_attributes(path) == (0, ())


@pytest.mark.parametrize(
    "param,value,ok",
    [
        (Param(UINT), "42", True),
        (Param(UINT), "-1", False),
        (Param(UINT), "4294967296", False),
        (Param(UINT), "abc", False),
        (Param(UINT, min=1), "0", False),
        (Param(INT), "-5", True),
        (Param(BOOL), "true", True),
        (Param(BOOL), "0", True),
        (Param(BOOL), "yes", False),
        (Param(DATETIME), "2024-05-01T10:00:00Z", True),
        (Param(DATETIME), "yesterday", False),
        (Param(enum=("TCP", "UDP")), "UDP", True),
        (Param(enum=("TCP", "UDP")), "ICMP", False),
        (Param(max_len=3), "abcd", False),
        (Param("xsd:base64"), "aGVsbG8=", True),
        (Param("xsd:base64"), "***", False),
    ],
)
def test_check_value(param: Param, value: str, ok: bool) -> None:
    assert (check_value(param, value) is None) is ok


def test_compile_rejects_bad_declarations() -> None:
    with pytest.raises(ValueError):
        compile_tree("x", O("Root", T("Tab", [P("A")], [{"B": "1"}])))
    with pytest.raises(ValueError):
        compile_tree("x", O("Root", P("A")), ["Root.Missing"])
    tree = compile_tree("x", O("Root", T("Tab", [P("A", "a")], 2, w=True)))
    assert "Root.TabNumberOfEntries" in tree.nodes
    assert tree.templates["Root.Tab.{i}."]["A"].default == "a"


def test_schema_key_and_identity() -> None:
    assert schema_key("Device.IP.Interface.3.IPv4Address.12.") == (
        "Device.IP.Interface.{i}.IPv4Address.{i}."
    )
    ident = Identity("SIM000300", 300, Profile("tr181", "http://acs", username="u-{index}"))
    assert ident["acs_username"] == "u-300"
    assert ident["mac0"] != Identity("SIM000301", 301, ident.profile)["mac0"]
    assert ident["wan_ip"].startswith("100.")
    with pytest.raises(KeyError):
        ident["nope"]


_NODE_DIGEST = (
    "import hashlib, sys; from linesman.simulator import tr098, tr181; "
    "print(hashlib.sha256(repr([list(m.build().nodes) for m in (tr181, tr098)])"
    ".encode()).hexdigest())"
)


def test_both_tree_builders_are_deterministic_across_processes() -> None:
    # The fleet shares one compiled tree per flavour and devices index into it, so the
    # order must not depend on anything that varies between runs, such as str hashing.
    digests = {
        subprocess.run(
            [sys.executable, "-c", _NODE_DIGEST],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2", "3")
    }
    assert len(digests) == 1 and len(next(iter(digests))) == 64
