"""The XML the ACS puts on the wire, checked against TR-069's schema without the codec.

Round trips through `soap.parse` only prove that parsing undoes serializing, and the
simulator shares the codec, so a symmetric bug would pass both. These tests read what
`rpc.build_request` + `soap.serialize` produce with plain lxml and XPath, and hold it to
the cwmp-1-x schema (Annex A of TR-069 and its XSD): the envelope's namespaces, the
`cwmp:ID` header with mustUnderstand, each RPC's arguments as unqualified elements in
the schema's sequence order, SOAP-encoded arrays with their `arrayType` and length, and
lexical forms of the XSD types (unsignedInt, boolean, int).
"""

from __future__ import annotations

import re

import pytest
from lxml import etree

from linesman.cwmp import rpc, soap
from linesman.inventory.models import Device

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_ENC = "http://schemas.xmlsoap.org/soap/encoding/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CWMP_1_0 = "urn:dslforum-org:cwmp-1-0"
CWMP_1_2 = "urn:dslforum-org:cwmp-1-2"
NS = {"env": SOAP_ENV, "enc": SOAP_ENC, "xsi": XSI, "cwmp": CWMP_1_0}

UNSIGNED_INT = re.compile(r"^[0-9]+$")
INT = re.compile(r"^-?[0-9]+$")
BOOLEAN = {"true", "false", "1", "0"}


def _device() -> Device:
    # Unsaved: build_request reads only the data model root and, for secrets, the
    # connection-request password.
    return Device(serial_number="W1", name="w1", data_model_root="Device.")


def _wire(method: str, args: dict, cwmp_id: str = "42", cwmp_ns: str = CWMP_1_0):
    message = rpc.build_request(_device(), method, args)
    xml = soap.serialize(soap.Envelope(message, cwmp_id=cwmp_id, cwmp_ns=cwmp_ns))
    root = etree.fromstring(xml)
    return root


def _rpc(root, method: str, cwmp_ns: str = CWMP_1_0):
    body = root.find(f"{{{SOAP_ENV}}}Body")
    assert body is not None
    children = list(body)
    assert len(children) == 1, [c.tag for c in children]
    assert children[0].tag == f"{{{cwmp_ns}}}{method}"
    return children[0]


def _arguments(element) -> list[str]:
    """The argument element names in document order; they must be unqualified."""
    names = []
    for child in element:
        assert etree.QName(child).namespace is None, f"{child.tag} must be unqualified"
        names.append(child.tag)
    return names


def _array(element, item_type: str, count: int) -> list:
    assert element.get(f"{{{SOAP_ENC}}}arrayType") is not None, element.tag
    prefix, _, rest = element.get(f"{{{SOAP_ENC}}}arrayType").partition(":")
    # The prefix must be bound in scope to the namespace the type belongs to.
    expected_ns = {"cwmp": None, "xsd": "http://www.w3.org/2001/XMLSchema"}
    bound = element.nsmap.get(prefix)
    assert bound is not None, f"prefix {prefix!r} of arrayType is not declared"
    name = item_type.partition(":")[2]
    if item_type.startswith("xsd:"):
        assert bound == expected_ns["xsd"]
    else:
        assert bound.startswith("urn:dslforum-org:cwmp-")
    assert rest == f"{name}[{count}]"
    items = list(element)
    assert len(items) == count
    return items


def test_envelope_namespaces_and_id_header() -> None:
    root = _wire("Reboot", {"command_key": "op_1"}, cwmp_id="id-7")
    assert root.tag == f"{{{SOAP_ENV}}}Envelope"
    header = root.find(f"{{{SOAP_ENV}}}Header")
    assert header is not None and list(root).index(header) == 0
    ident = header.find(f"{{{CWMP_1_0}}}ID")
    assert ident is not None and ident.text == "id-7"
    assert ident.get(f"{{{SOAP_ENV}}}mustUnderstand") == "1"


def test_the_session_namespace_is_the_one_the_device_used() -> None:
    root = _wire("FactoryReset", {}, cwmp_ns=CWMP_1_2)
    method = _rpc(root, "FactoryReset", CWMP_1_2)
    assert _arguments(method) == []
    assert root.find(f"{{{SOAP_ENV}}}Header/{{{CWMP_1_2}}}ID") is not None


def test_download_arguments_in_schema_order_with_their_types() -> None:
    args = {
        "command_key": "op_fw",
        "file_type": "1 Firmware Upgrade Image",
        "url": "http://acs.example.net/firmware/a.bin?sig=x&exp=1",
        "username": "",
        "password": "",
        "file_size": 123456,
        "target_file_name": "",
        "delay_seconds": 0,
        "success_url": "",
        "failure_url": "",
    }
    element = _rpc(_wire("Download", args), "Download")
    # cwmp:Download's xs:sequence; every element is required (minOccurs 1).
    assert _arguments(element) == [
        "CommandKey",
        "FileType",
        "URL",
        "Username",
        "Password",
        "FileSize",
        "TargetFileName",
        "DelaySeconds",
        "SuccessURL",
        "FailureURL",
    ]
    text = {child.tag: child.text or "" for child in element}
    assert text["CommandKey"] == "op_fw"
    assert text["FileType"] == "1 Firmware Upgrade Image"
    assert text["URL"] == "http://acs.example.net/firmware/a.bin?sig=x&exp=1"  # & escaped
    assert text["FileSize"] == "123456" and UNSIGNED_INT.match(text["DelaySeconds"])
    assert len(text["URL"]) <= 256 and len(text["CommandKey"]) <= 32


def test_set_parameter_values_is_an_encoded_array_with_typed_values() -> None:
    args = {
        "parameters": [
            {
                "name": "Device.ManagementServer.PeriodicInformInterval",
                "value": "300",
                "type": "xsd:unsignedInt",
            },
            {"name": "Device.WiFi.SSID.1.SSID", "value": "a <b> & c", "type": "xsd:string"},
            {
                "name": "Device.ManagementServer.PeriodicInformEnable",
                "value": "true",
                "type": "xsd:boolean",
            },
        ],
        "parameter_key": "op_5",
    }
    element = _rpc(_wire("SetParameterValues", args), "SetParameterValues")
    assert _arguments(element) == ["ParameterList", "ParameterKey"]
    structs = _array(element[0], "cwmp:ParameterValueStruct", 3)
    got = []
    for struct in structs:
        assert struct.tag == "ParameterValueStruct"
        assert [c.tag for c in struct] == ["Name", "Value"]
        value = struct[1]
        xsi_type = value.get(f"{{{XSI}}}type")
        prefix = xsi_type.partition(":")[0]
        assert value.nsmap.get(prefix) == "http://www.w3.org/2001/XMLSchema"
        got.append((struct[0].text, value.text, xsi_type.partition(":")[2]))
    assert got == [
        ("Device.ManagementServer.PeriodicInformInterval", "300", "unsignedInt"),
        ("Device.WiFi.SSID.1.SSID", "a <b> & c", "string"),
        ("Device.ManagementServer.PeriodicInformEnable", "true", "boolean"),
    ]
    assert element[1].text == "op_5"


def test_get_parameter_values_names_are_a_string_array() -> None:
    names = ["Device.DeviceInfo.UpTime", "Device.WiFi."]
    element = _rpc(_wire("GetParameterValues", {"names": names}), "GetParameterValues")
    assert _arguments(element) == ["ParameterNames"]
    items = _array(element[0], "xsd:string", 2)
    assert [(i.tag, i.text) for i in items] == [("string", n) for n in names]


def test_get_parameter_names_path_and_next_level() -> None:
    element = _rpc(
        _wire("GetParameterNames", {"path": "Device.WiFi.", "next_level": True}),
        "GetParameterNames",
    )
    assert _arguments(element) == ["ParameterPath", "NextLevel"]
    assert element[0].text == "Device.WiFi."
    assert element[1].text in BOOLEAN and element[1].text in ("true", "1")
    # No path asks for the whole tree from the device's root.
    whole = _rpc(_wire("GetParameterNames", {"path": None}), "GetParameterNames")
    assert whole[0].text == "Device." and whole[1].text in ("false", "0")


def test_set_parameter_attributes_structs_in_schema_order() -> None:
    args = {
        "parameters": [
            {
                "name": "Device.DeviceInfo.SoftwareVersion",
                "notification_change": True,
                "notification": 2,
                "access_list_change": True,
                "access_list": ["Subscriber"],
            },
            {
                "name": "Device.WiFi.SSID.1.SSID",
                "notification_change": False,
                "notification": 0,
                "access_list_change": False,
                "access_list": [],
            },
        ]
    }
    element = _rpc(_wire("SetParameterAttributes", args), "SetParameterAttributes")
    assert _arguments(element) == ["ParameterList"]
    structs = _array(element[0], "cwmp:SetParameterAttributesStruct", 2)
    first, second = structs
    assert [c.tag for c in first] == [
        "Name",
        "NotificationChange",
        "Notification",
        "AccessListChange",
        "AccessList",
    ]
    assert first[0].text == "Device.DeviceInfo.SoftwareVersion"
    assert first[1].text in ("true", "1") and first[3].text in ("true", "1")
    assert INT.match(first[2].text) and int(first[2].text) == 2
    entries = _array(first[4], "xsd:string", 1)
    assert [(e.tag, e.text) for e in entries] == [("string", "Subscriber")]
    assert second[1].text in ("false", "0") and int(second[2].text) == 0
    assert _array(second[4], "xsd:string", 0) == []


def test_get_parameter_attributes_names() -> None:
    element = _rpc(
        _wire("GetParameterAttributes", {"names": ["Device.WiFi.SSID.1.SSID"]}),
        "GetParameterAttributes",
    )
    assert _arguments(element) == ["ParameterNames"]
    assert [i.text for i in _array(element[0], "xsd:string", 1)] == ["Device.WiFi.SSID.1.SSID"]


@pytest.mark.parametrize("method", ["AddObject", "DeleteObject"])
def test_object_rpcs_name_then_key(method: str) -> None:
    element = _rpc(
        _wire(method, {"object_name": "Device.WiFi.SSID.3.", "parameter_key": "op_9"}), method
    )
    assert _arguments(element) == ["ObjectName", "ParameterKey"]
    assert element[0].text == "Device.WiFi.SSID.3." and element[1].text == "op_9"


def test_reboot_and_schedule_inform() -> None:
    reboot = _rpc(_wire("Reboot", {"command_key": "op_r"}), "Reboot")
    assert _arguments(reboot) == ["CommandKey"] and reboot[0].text == "op_r"
    schedule = _rpc(
        _wire("ScheduleInform", {"delay_seconds": 30, "command_key": "k"}), "ScheduleInform"
    )
    assert _arguments(schedule) == ["DelaySeconds", "CommandKey"]
    assert schedule[0].text == "30" and schedule[1].text == "k"


def test_get_rpc_methods_and_factory_reset_have_no_arguments() -> None:
    for method in ("GetRPCMethods", "FactoryReset"):
        assert _arguments(_rpc(_wire(method, {}), method)) == []


def test_acs_answers_to_cpe_requests() -> None:
    def answer(message):
        return etree.fromstring(soap.serialize(soap.Envelope(message, cwmp_id="1")))

    inform = _rpc(answer(soap.InformResponse(1)), "InformResponse")
    assert _arguments(inform) == ["MaxEnvelopes"] and inform[0].text == "1"
    transfer = _rpc(answer(soap.TransferCompleteResponse()), "TransferCompleteResponse")
    assert _arguments(transfer) == []
    methods = _rpc(
        answer(soap.GetRPCMethodsResponse(["Inform", "TransferComplete"])),
        "GetRPCMethodsResponse",
    )
    assert _arguments(methods) == ["MethodList"]
    items = _array(methods[0], "xsd:string", 2)
    assert [i.text for i in items] == ["Inform", "TransferComplete"]


def test_a_fault_the_acs_sends_is_a_soap_fault_with_cwmp_detail() -> None:
    root = etree.fromstring(
        soap.serialize(soap.Envelope(soap.Fault(8000, "Method not supported"), cwmp_id="3"))
    )
    fault = root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None
    assert [c.tag for c in fault][:2] == ["faultcode", "faultstring"]
    assert fault.findtext("faultcode").endswith("Client") or fault.findtext("faultcode").endswith(
        "Server"
    )
    assert fault.findtext("faultstring") == "CWMP fault"
    detail = fault.find(f"detail/{{{CWMP_1_0}}}Fault")
    assert detail is not None
    assert [c.tag for c in detail] == ["FaultCode", "FaultString"]
    assert detail.findtext("FaultCode") == "8000"
    assert detail.findtext("FaultString") == "Method not supported"
