"""CWMP (TR-069) SOAP codec: parse and serialize CWMP envelopes, and decode HTTP bodies.

Shared by the ACS (which parses what devices send and serializes RPCs to them) and by the CPE
simulator (the reverse), so it is symmetric: every message type can be both parsed and
serialized, and ``parse(serialize(env)) == env`` for any envelope whose strings have no leading
or trailing whitespace.

Parsing is liberal because real CPEs are sloppy: any namespace prefixes, no XML declaration,
no Header, elements found by local name rather than position, ``arrayType`` counts ignored,
surrounding whitespace trimmed. It is also defensive because the ACS endpoint faces the
internet: size and depth limits, no DTDs or entities at all, and every failure surfaces as
:class:`SoapParseError` and nothing else.

Serializing is conservative because some CPEs string-match their input: fixed prefixes
(``soap-env``, ``soap-enc``, ``xsd``, ``xsi``, ``cwmp``), an XML declaration, ``xsi:type`` on
every value and ``soap-enc:arrayType`` on every array.

Pure Python + lxml; no Django imports, so the simulator can use it standalone.
"""

from __future__ import annotations

import operator
import re
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from lxml import etree

from linesman.core.textcheck import XML_INVALID
from linesman.cwmp.faults import soap_faultcode

__all__ = [
    "EVENT_CODES",
    "MESSAGE_TYPES",
    "NS_CWMP",
    "UNKNOWN_TIME",
    "AddObject",
    "AddObjectResponse",
    "AutonomousTransferComplete",
    "AutonomousTransferCompleteResponse",
    "DeleteObject",
    "DeleteObjectResponse",
    "DeviceId",
    "Download",
    "DownloadResponse",
    "Envelope",
    "EventStruct",
    "FactoryReset",
    "FactoryResetResponse",
    "Fault",
    "GetParameterAttributes",
    "GetParameterAttributesResponse",
    "GetParameterNames",
    "GetParameterNamesResponse",
    "GetParameterValues",
    "GetParameterValuesResponse",
    "GetRPCMethods",
    "GetRPCMethodsResponse",
    "Inform",
    "InformResponse",
    "Message",
    "ParameterAttribute",
    "ParameterInfo",
    "ParameterValue",
    "Reboot",
    "RebootResponse",
    "ScheduleInform",
    "ScheduleInformResponse",
    "SetParameterAttribute",
    "SetParameterAttributes",
    "SetParameterAttributesResponse",
    "SetParameterValueFault",
    "SetParameterValues",
    "SetParameterValuesResponse",
    "SoapParseError",
    "TransferComplete",
    "TransferCompleteResponse",
    "UnknownMethodError",
    "decode_body",
    "parse",
    "serialize",
]

NS_CWMP: dict[str, str] = {
    "1.0": "urn:dslforum-org:cwmp-1-0",
    "1.1": "urn:dslforum-org:cwmp-1-1",
    "1.2": "urn:dslforum-org:cwmp-1-2",
    "1.3": "urn:dslforum-org:cwmp-1-3",
}
_CWMP_NAMESPACES = frozenset(NS_CWMP.values())

NS_SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS_SOAP_ENC = "http://schemas.xmlsoap.org/soap/encoding/"
NS_XSD = "http://www.w3.org/2001/XMLSchema"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"

# TR-069's value for "time not known"; callers should use it rather than "" for dateTime fields.
UNKNOWN_TIME = "0001-01-01T00:00:00Z"

DEFAULT_MAX_BYTES = 4 * 1024 * 1024


class SoapParseError(ValueError):
    """Malformed, hostile or unsupported CWMP/SOAP input; the message says what is wrong."""


class UnknownMethodError(SoapParseError):
    """A well-formed envelope whose body method this codec does not know.

    Carries what an ACS needs to answer with fault 8000 (method not supported) instead of
    dropping the session: the method name, the cwmp:ID and the cwmp namespace.
    """

    def __init__(self, method: str, cwmp_id: str | None, cwmp_ns: str) -> None:
        super().__init__(f"unknown CWMP method {method!r}")
        self.method = method
        self.cwmp_id = cwmp_id
        self.cwmp_ns = cwmp_ns


# --------------------------------------------------------------------------------------------
# Value objects
# --------------------------------------------------------------------------------------------

EVENT_CODES: tuple[str, ...] = (
    "0 BOOTSTRAP",
    "1 BOOT",
    "2 PERIODIC",
    "3 SCHEDULED",
    "4 VALUE CHANGE",
    "5 KICKED",
    "6 CONNECTION REQUEST",
    "7 TRANSFER COMPLETE",
    "8 DIAGNOSTICS COMPLETE",
    "9 REQUEST DOWNLOAD",
    "10 AUTONOMOUS TRANSFER COMPLETE",
    "11 DU STATE CHANGE COMPLETE",
    "12 AUTONOMOUS DU STATE CHANGE COMPLETE",
    "13 WAKEUP",
    "M Reboot",
    "M ScheduleInform",
    "M Download",
    "M ScheduleDownload",
    "M Upload",
    "M ChangeDUState",
)
# Upper-cased, whitespace-collapsed form -> canonical form.
_EVENT_CANONICAL = {code.upper(): code for code in EVENT_CODES}
_EVENT_CODE_SET = frozenset(EVENT_CODES)


def _normalise_event_code(code: str) -> str:
    if code in _EVENT_CODE_SET:
        return code
    key = " ".join(code.split()).upper()
    # Vendor ("X ...") and unknown codes are kept exactly as sent.
    return _EVENT_CANONICAL.get(key, code)


_XML_WS = " \t\r\n"


def _normalise_type(type_: str) -> str:
    type_ = type_.strip(_XML_WS)
    if not type_:
        return "xsd:string"
    return "xsd:" + type_[type_.rfind(":") + 1 :]


@dataclass(slots=True)
class ParameterValue:
    """One ParameterValueStruct; ``type`` is always ``xsd:<localname>``."""

    name: str
    value: str
    type: str = "xsd:string"

    def __post_init__(self) -> None:
        type_ = self.type
        # Inline fast path: this runs for every parameter of every Inform.
        if type_[:4] != "xsd:" or ":" in type_[4:] or type_ != type_.strip(_XML_WS):
            self.type = _normalise_type(type_)


@dataclass(slots=True)
class EventStruct:
    """One Inform event; ``code`` is normalised to its canonical spelling when it is standard."""

    code: str
    command_key: str = ""

    def __post_init__(self) -> None:
        self.code = _normalise_event_code(self.code)


@dataclass(slots=True)
class DeviceId:
    manufacturer: str
    oui: str
    product_class: str
    serial_number: str


@dataclass(slots=True)
class ParameterInfo:
    name: str
    writable: bool


@dataclass(slots=True)
class ParameterAttribute:
    name: str
    notification: int
    access_list: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SetParameterAttribute:
    name: str
    notification_change: bool
    notification: int
    access_list_change: bool
    access_list: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SetParameterValueFault:
    name: str
    code: int
    string: str


# --------------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------------


class Message:
    """Base class of every CWMP message; ``METHOD`` is the CWMP element name."""

    __slots__ = ()
    METHOD: ClassVar[str] = ""


@dataclass(slots=True)
class Inform(Message):
    METHOD: ClassVar[str] = "Inform"
    device_id: DeviceId
    events: list[EventStruct]
    max_envelopes: int = 1
    current_time: str = ""
    retry_count: int = 0
    parameters: list[ParameterValue] = field(default_factory=list)


@dataclass(slots=True)
class InformResponse(Message):
    METHOD: ClassVar[str] = "InformResponse"
    max_envelopes: int = 1


@dataclass(slots=True)
class TransferComplete(Message):
    METHOD: ClassVar[str] = "TransferComplete"
    command_key: str
    fault_code: int = 0
    fault_string: str = ""
    start_time: str = ""
    complete_time: str = ""


@dataclass(slots=True)
class TransferCompleteResponse(Message):
    METHOD: ClassVar[str] = "TransferCompleteResponse"


@dataclass(slots=True)
class AutonomousTransferComplete(Message):
    METHOD: ClassVar[str] = "AutonomousTransferComplete"
    announce_url: str
    transfer_url: str
    is_download: bool
    file_type: str
    file_size: int
    target_file_name: str
    fault_code: int = 0
    fault_string: str = ""
    start_time: str = ""
    complete_time: str = ""


@dataclass(slots=True)
class AutonomousTransferCompleteResponse(Message):
    METHOD: ClassVar[str] = "AutonomousTransferCompleteResponse"


@dataclass(slots=True)
class GetRPCMethods(Message):
    METHOD: ClassVar[str] = "GetRPCMethods"


@dataclass(slots=True)
class GetRPCMethodsResponse(Message):
    METHOD: ClassVar[str] = "GetRPCMethodsResponse"
    methods: list[str]


@dataclass(slots=True)
class GetParameterNames(Message):
    METHOD: ClassVar[str] = "GetParameterNames"
    path: str
    next_level: bool


@dataclass(slots=True)
class GetParameterNamesResponse(Message):
    METHOD: ClassVar[str] = "GetParameterNamesResponse"
    parameters: list[ParameterInfo]


@dataclass(slots=True)
class GetParameterValues(Message):
    METHOD: ClassVar[str] = "GetParameterValues"
    names: list[str]


@dataclass(slots=True)
class GetParameterValuesResponse(Message):
    METHOD: ClassVar[str] = "GetParameterValuesResponse"
    parameters: list[ParameterValue]


@dataclass(slots=True)
class SetParameterValues(Message):
    METHOD: ClassVar[str] = "SetParameterValues"
    parameters: list[ParameterValue]
    parameter_key: str = ""


@dataclass(slots=True)
class SetParameterValuesResponse(Message):
    METHOD: ClassVar[str] = "SetParameterValuesResponse"
    status: int = 0


@dataclass(slots=True)
class GetParameterAttributes(Message):
    METHOD: ClassVar[str] = "GetParameterAttributes"
    names: list[str]


@dataclass(slots=True)
class GetParameterAttributesResponse(Message):
    METHOD: ClassVar[str] = "GetParameterAttributesResponse"
    parameters: list[ParameterAttribute]


@dataclass(slots=True)
class SetParameterAttributes(Message):
    METHOD: ClassVar[str] = "SetParameterAttributes"
    parameters: list[SetParameterAttribute]


@dataclass(slots=True)
class SetParameterAttributesResponse(Message):
    METHOD: ClassVar[str] = "SetParameterAttributesResponse"


@dataclass(slots=True)
class AddObject(Message):
    METHOD: ClassVar[str] = "AddObject"
    object_name: str
    parameter_key: str = ""


@dataclass(slots=True)
class AddObjectResponse(Message):
    METHOD: ClassVar[str] = "AddObjectResponse"
    instance_number: int
    status: int = 0


@dataclass(slots=True)
class DeleteObject(Message):
    METHOD: ClassVar[str] = "DeleteObject"
    object_name: str
    parameter_key: str = ""


@dataclass(slots=True)
class DeleteObjectResponse(Message):
    METHOD: ClassVar[str] = "DeleteObjectResponse"
    status: int = 0


@dataclass(slots=True)
class Reboot(Message):
    METHOD: ClassVar[str] = "Reboot"
    command_key: str = ""


@dataclass(slots=True)
class RebootResponse(Message):
    METHOD: ClassVar[str] = "RebootResponse"


@dataclass(slots=True)
class FactoryReset(Message):
    METHOD: ClassVar[str] = "FactoryReset"


@dataclass(slots=True)
class FactoryResetResponse(Message):
    METHOD: ClassVar[str] = "FactoryResetResponse"


@dataclass(slots=True)
class Download(Message):
    METHOD: ClassVar[str] = "Download"
    command_key: str
    file_type: str
    url: str
    username: str = ""
    password: str = ""
    file_size: int = 0
    target_file_name: str = ""
    delay_seconds: int = 0
    success_url: str = ""
    failure_url: str = ""


@dataclass(slots=True)
class DownloadResponse(Message):
    METHOD: ClassVar[str] = "DownloadResponse"
    status: int = 0
    start_time: str = ""
    complete_time: str = ""


@dataclass(slots=True)
class ScheduleInform(Message):
    METHOD: ClassVar[str] = "ScheduleInform"
    delay_seconds: int
    command_key: str = ""


@dataclass(slots=True)
class ScheduleInformResponse(Message):
    METHOD: ClassVar[str] = "ScheduleInformResponse"


@dataclass(slots=True)
class Fault(Message):
    """A SOAP 1.1 Fault whose detail holds a cwmp:Fault (code 0 when the sender gave none)."""

    METHOD: ClassVar[str] = "Fault"
    fault_code: int
    fault_string: str
    set_parameter_value_faults: list[SetParameterValueFault] = field(default_factory=list)


MESSAGE_TYPES: dict[str, type[Message]] = {
    cls.METHOD: cls
    for cls in (
        Inform,
        InformResponse,
        TransferComplete,
        TransferCompleteResponse,
        AutonomousTransferComplete,
        AutonomousTransferCompleteResponse,
        GetRPCMethods,
        GetRPCMethodsResponse,
        GetParameterNames,
        GetParameterNamesResponse,
        GetParameterValues,
        GetParameterValuesResponse,
        SetParameterValues,
        SetParameterValuesResponse,
        GetParameterAttributes,
        GetParameterAttributesResponse,
        SetParameterAttributes,
        SetParameterAttributesResponse,
        AddObject,
        AddObjectResponse,
        DeleteObject,
        DeleteObjectResponse,
        Reboot,
        RebootResponse,
        FactoryReset,
        FactoryResetResponse,
        Download,
        DownloadResponse,
        ScheduleInform,
        ScheduleInformResponse,
        Fault,
    )
}


@dataclass(slots=True)
class Envelope:
    """A CWMP SOAP envelope: header fields plus one message (None = empty HTTP body)."""

    body: Message | None
    cwmp_id: str | None = None
    cwmp_ns: str = NS_CWMP["1.0"]
    hold_requests: bool | None = None
    supported_cwmp_versions: str | None = None
    use_cwmp_version: str | None = None


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------

_ENVELOPE_TAG = f"{{{NS_SOAP_ENV}}}Envelope"
_XSI_TYPE = f"{{{NS_XSI}}}type"

# Any markup declaration other than a comment or CDATA section (DOCTYPE, ENTITY, ELEMENT...).
# Checked on the raw bytes: every encoding we let the parser use is ASCII-compatible, so the
# declaration cannot hide behind an encoding trick.
_DECLARATION_RE = re.compile(rb"<!(?!--|\[CDATA\[)")
_XML_DECL_ENCODING_RE = re.compile(
    rb"\A(?:\xef\xbb\xbf)?<\?xml[^>]{0,200}?\bencoding\s*=\s*[\"']([A-Za-z0-9._:-]{1,40})[\"']"
)
# Single-byte encodings a sloppy CPE may declare; everything else is read as UTF-8.
_LEGACY_ENCODINGS = {
    b"iso-8859-1": "iso-8859-1",
    b"iso8859-1": "iso-8859-1",
    b"latin1": "iso-8859-1",
    b"latin-1": "iso-8859-1",
    b"iso-8859-15": "iso-8859-15",
    b"windows-1252": "windows-1252",
    b"cp1252": "windows-1252",
}
_XML_WS_BYTES = b" \t\r\n"
_BLANK_RE = re.compile(rb"[ \t\r\n]*\Z")
_INT_RE = re.compile(r"[+-]?[0-9]{1,20}")
_BOOLS = {"0": False, "1": True, "false": False, "true": True}

_LIBXML2_MAX_DEPTH = 256

_local = threading.local()


def _parser(encoding: str) -> etree.XMLParser:
    # lxml parsers serialise concurrent use behind a lock, so keep one per thread.
    parsers = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    parser = parsers.get(encoding)
    if parser is None:
        parser = parsers[encoding] = etree.XMLParser(
            encoding=encoding,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_pis=True,
            remove_comments=True,
            collect_ids=False,
            recover=False,
        )
    return parser


def _too_deep(root: etree._Element, max_depth: int) -> bool:
    if max_depth >= _LIBXML2_MAX_DEPTH:
        # Without huge_tree libxml2 itself refuses anything deeper than this while parsing.
        return False
    checks = getattr(_local, "depth_checks", None)
    if checks is None:
        checks = _local.depth_checks = {}
    check = checks.get(max_depth)
    if check is None:
        # Evaluated in C: true when any element sits deeper than max_depth (root = depth 1).
        check = checks[max_depth] = etree.XPath("boolean(" + "/*" * (max_depth + 1) + ")")
    return bool(check(root))


def _split(tag: str) -> tuple[str, str]:
    if tag[:1] == "{":
        end = tag.find("}")
        return tag[1:end], tag[end + 1 :]
    return "", tag


def _local_name(tag: str) -> str:
    return tag[tag.find("}") + 1 :]


def _kids(el: etree._Element) -> dict[str, etree._Element]:
    """Map local name -> first child element of that name (unknown children are ignored)."""
    found: dict[str, etree._Element] = {}
    for child in el:
        tag = child.tag
        if tag.__class__ is str:
            local = tag[tag.find("}") + 1 :]
            if local not in found:
                found[local] = child
    return found


def _elements(el: etree._Element | None) -> list[etree._Element]:
    if el is None:
        return []
    return [child for child in el if child.tag.__class__ is str]


def _text(el: etree._Element | None) -> str:
    if el is None:
        return ""
    text = el.text
    if len(el):
        # Mixed content (a value split by a stray child element): keep all of its text.
        text = "".join(el.itertext())
    return text.strip(_XML_WS) if text else ""


def _str(kids: dict[str, etree._Element], name: str) -> str:
    return _text(kids.get(name))


_REQUIRED: Any = object()


def _to_int(text: str, what: str) -> int:
    if _INT_RE.fullmatch(text) is None:
        raise SoapParseError(f"{what}: expected an integer, got {text[:40]!r}")
    return int(text)


def _int(kids: dict[str, etree._Element], name: str, default: Any = _REQUIRED) -> int:
    text = _text(kids.get(name))
    if not text:
        # An empty element is treated like a missing one: sloppy CPEs send <X/> for "unset".
        if default is _REQUIRED:
            raise SoapParseError(f"missing required integer element {name}")
        return default
    return _to_int(text, name)


def _to_bool(text: str, what: str) -> bool:
    value = _BOOLS.get(text.lower())
    if value is None:
        raise SoapParseError(f"{what}: expected a boolean, got {text[:40]!r}")
    return value


def _bool(kids: dict[str, etree._Element], name: str, default: Any = _REQUIRED) -> bool:
    text = _text(kids.get(name))
    if not text:
        if default is _REQUIRED:
            raise SoapParseError(f"missing required boolean element {name}")
        return default
    return _to_bool(text, name)


def _strings(el: etree._Element | None) -> list[str]:
    return [_text(child) for child in _elements(el)]


def _value_type(value_el: etree._Element) -> str:
    type_ = value_el.get(_XSI_TYPE)
    if type_ is None:
        # Some CPEs bind xsi to an old or wrong namespace, or leave it unprefixed.
        for key, val in value_el.attrib.items():
            if key == "type" or key.endswith("}type"):
                type_ = val
                break
        else:
            return "xsd:string"
    type_ = type_.strip(_XML_WS)
    if not type_:
        return "xsd:string"
    return "xsd:" + type_[type_.rfind(":") + 1 :]


def _parameter_values(el: etree._Element | None) -> list[ParameterValue]:
    result: list[ParameterValue] = []
    if el is None:
        return result
    for struct in el:
        if struct.tag.__class__ is not str:
            continue
        name = value = ""
        type_ = "xsd:string"
        for child in struct:
            tag = child.tag
            if tag.__class__ is not str:
                continue
            local = tag[tag.find("}") + 1 :]
            if local == "Value":
                text = child.text
                if len(child):
                    text = "".join(child.itertext())
                value = text.strip(_XML_WS) if text else ""
                type_ = _value_type(child)
            elif local == "Name":
                text = child.text
                if len(child):
                    text = "".join(child.itertext())
                name = text.strip(_XML_WS) if text else ""
        result.append(ParameterValue(name, value, type_))
    return result


def _parse_inform(el: etree._Element) -> Inform:
    kids = _kids(el)
    device = kids.get("DeviceId")
    if device is None:
        raise SoapParseError("missing DeviceId")
    dk = _kids(device)
    device_id = DeviceId(
        _str(dk, "Manufacturer"),
        _str(dk, "OUI"),
        _str(dk, "ProductClass"),
        _str(dk, "SerialNumber"),
    )
    events = []
    for struct in _elements(kids.get("Event")):
        sk = _kids(struct)
        events.append(EventStruct(_str(sk, "EventCode"), _str(sk, "CommandKey")))
    return Inform(
        device_id=device_id,
        events=events,
        max_envelopes=_int(kids, "MaxEnvelopes", 1),
        current_time=_str(kids, "CurrentTime"),
        retry_count=_int(kids, "RetryCount", 0),
        parameters=_parameter_values(kids.get("ParameterList")),
    )


def _fault_struct(kids: dict[str, etree._Element]) -> tuple[int, str]:
    fault = kids.get("FaultStruct")
    if fault is None:
        return 0, ""
    fk = _kids(fault)
    return _int(fk, "FaultCode", 0), _str(fk, "FaultString")


def _parse_transfer_complete(el: etree._Element) -> TransferComplete:
    kids = _kids(el)
    code, string = _fault_struct(kids)
    return TransferComplete(
        command_key=_str(kids, "CommandKey"),
        fault_code=code,
        fault_string=string,
        start_time=_str(kids, "StartTime"),
        complete_time=_str(kids, "CompleteTime"),
    )


def _parse_autonomous_transfer_complete(el: etree._Element) -> AutonomousTransferComplete:
    kids = _kids(el)
    code, string = _fault_struct(kids)
    return AutonomousTransferComplete(
        announce_url=_str(kids, "AnnounceURL"),
        transfer_url=_str(kids, "TransferURL"),
        is_download=_bool(kids, "IsDownload"),
        file_type=_str(kids, "FileType"),
        file_size=_int(kids, "FileSize", 0),
        target_file_name=_str(kids, "TargetFileName"),
        fault_code=code,
        fault_string=string,
        start_time=_str(kids, "StartTime"),
        complete_time=_str(kids, "CompleteTime"),
    )


def _parse_get_parameter_names_response(el: etree._Element) -> GetParameterNamesResponse:
    params = []
    for struct in _elements(_kids(el).get("ParameterList")):
        sk = _kids(struct)
        params.append(ParameterInfo(_str(sk, "Name"), _bool(sk, "Writable", False)))
    return GetParameterNamesResponse(params)


def _parse_get_parameter_attributes_response(
    el: etree._Element,
) -> GetParameterAttributesResponse:
    params = []
    for struct in _elements(_kids(el).get("ParameterList")):
        sk = _kids(struct)
        params.append(
            ParameterAttribute(
                _str(sk, "Name"), _int(sk, "Notification", 0), _strings(sk.get("AccessList"))
            )
        )
    return GetParameterAttributesResponse(params)


def _parse_set_parameter_attributes(el: etree._Element) -> SetParameterAttributes:
    params = []
    for struct in _elements(_kids(el).get("ParameterList")):
        sk = _kids(struct)
        params.append(
            SetParameterAttribute(
                name=_str(sk, "Name"),
                notification_change=_bool(sk, "NotificationChange", False),
                notification=_int(sk, "Notification", 0),
                access_list_change=_bool(sk, "AccessListChange", False),
                access_list=_strings(sk.get("AccessList")),
            )
        )
    return SetParameterAttributes(params)


def _parse_download(el: etree._Element) -> Download:
    kids = _kids(el)
    return Download(
        command_key=_str(kids, "CommandKey"),
        file_type=_str(kids, "FileType"),
        url=_str(kids, "URL"),
        username=_str(kids, "Username"),
        password=_str(kids, "Password"),
        file_size=_int(kids, "FileSize", 0),
        target_file_name=_str(kids, "TargetFileName"),
        delay_seconds=_int(kids, "DelaySeconds", 0),
        success_url=_str(kids, "SuccessURL"),
        failure_url=_str(kids, "FailureURL"),
    )


def _parse_cwmp_fault(el: etree._Element, soap_string: str = "") -> Fault:
    """Parse a cwmp:Fault element (the detail of a SOAP Fault)."""
    code = 0
    string = None
    spv_faults = []
    for child in el:
        tag = child.tag
        if tag.__class__ is not str:
            continue
        local = tag[tag.find("}") + 1 :]
        if local == "FaultCode":
            text = _text(child)
            code = _to_int(text, "FaultCode") if text else 0
        elif local == "FaultString":
            string = _text(child)
        elif local == "SetParameterValuesFault":
            sk = _kids(child)
            spv_faults.append(
                SetParameterValueFault(
                    _str(sk, "ParameterName"), _int(sk, "FaultCode", 0), _str(sk, "FaultString")
                )
            )
    return Fault(code, soap_string if string is None else string, spv_faults)


def _empty(cls: type[Message]) -> Callable[[etree._Element], Message]:
    def parse_empty(el: etree._Element) -> Message:
        return cls()

    return parse_empty


_PARSERS: dict[str, Callable[[etree._Element], Message]] = {
    "Inform": _parse_inform,
    "InformResponse": lambda el: InformResponse(_int(_kids(el), "MaxEnvelopes", 1)),
    "TransferComplete": _parse_transfer_complete,
    "TransferCompleteResponse": _empty(TransferCompleteResponse),
    "AutonomousTransferComplete": _parse_autonomous_transfer_complete,
    "AutonomousTransferCompleteResponse": _empty(AutonomousTransferCompleteResponse),
    "GetRPCMethods": _empty(GetRPCMethods),
    "GetRPCMethodsResponse": lambda el: GetRPCMethodsResponse(
        _strings(_kids(el).get("MethodList"))
    ),
    "GetParameterNames": lambda el: GetParameterNames(
        _str(k := _kids(el), "ParameterPath"), _bool(k, "NextLevel")
    ),
    "GetParameterNamesResponse": _parse_get_parameter_names_response,
    "GetParameterValues": lambda el: GetParameterValues(_strings(_kids(el).get("ParameterNames"))),
    "GetParameterValuesResponse": lambda el: GetParameterValuesResponse(
        _parameter_values(_kids(el).get("ParameterList"))
    ),
    "SetParameterValues": lambda el: SetParameterValues(
        _parameter_values((k := _kids(el)).get("ParameterList")), _str(k, "ParameterKey")
    ),
    "SetParameterValuesResponse": lambda el: SetParameterValuesResponse(
        _int(_kids(el), "Status", 0)
    ),
    "GetParameterAttributes": lambda el: GetParameterAttributes(
        _strings(_kids(el).get("ParameterNames"))
    ),
    "GetParameterAttributesResponse": _parse_get_parameter_attributes_response,
    "SetParameterAttributes": _parse_set_parameter_attributes,
    "SetParameterAttributesResponse": _empty(SetParameterAttributesResponse),
    "AddObject": lambda el: AddObject(_str(k := _kids(el), "ObjectName"), _str(k, "ParameterKey")),
    "AddObjectResponse": lambda el: AddObjectResponse(
        _int(k := _kids(el), "InstanceNumber"), _int(k, "Status", 0)
    ),
    "DeleteObject": lambda el: DeleteObject(
        _str(k := _kids(el), "ObjectName"), _str(k, "ParameterKey")
    ),
    "DeleteObjectResponse": lambda el: DeleteObjectResponse(_int(_kids(el), "Status", 0)),
    "Reboot": lambda el: Reboot(_str(_kids(el), "CommandKey")),
    "RebootResponse": _empty(RebootResponse),
    "FactoryReset": _empty(FactoryReset),
    "FactoryResetResponse": _empty(FactoryResetResponse),
    "Download": _parse_download,
    "DownloadResponse": lambda el: DownloadResponse(
        _int(k := _kids(el), "Status", 0), _str(k, "StartTime"), _str(k, "CompleteTime")
    ),
    "ScheduleInform": lambda el: ScheduleInform(
        _int(k := _kids(el), "DelaySeconds"), _str(k, "CommandKey")
    ),
    "ScheduleInformResponse": _empty(ScheduleInformResponse),
    # Not valid CWMP, but a cwmp:Fault sent bare in the Body is unambiguous enough to accept.
    "Fault": _parse_cwmp_fault,
}


def _check_cwmp_ns(ns: str, where: str) -> None:
    if ns not in _CWMP_NAMESPACES:
        raise SoapParseError(f"unknown namespace {ns[:80]!r} on {where}")


def _parse_soap_fault(el: etree._Element, header_ns: str | None) -> tuple[Fault, str]:
    kids = _kids(el)
    soap_string = _str(kids, "faultstring")
    detail = kids.get("detail")
    if detail is None:
        # SOAP 1.1 says unqualified, but some stacks qualify it with the envelope prefix.
        detail = kids.get("Detail")
    for child in _elements(detail):
        ns, local = _split(child.tag)
        if local != "Fault":
            continue
        if ns:
            _check_cwmp_ns(ns, "cwmp:Fault")
        return _parse_cwmp_fault(child, soap_string), ns or header_ns or NS_CWMP["1.0"]
    return Fault(0, soap_string), header_ns or NS_CWMP["1.0"]


def _parse_header(header: etree._Element, env: Envelope) -> str | None:
    """Fill the header fields of ``env``; return the cwmp namespace the header used, if any."""
    header_ns = None
    for child in header:
        tag = child.tag
        if tag.__class__ is not str:
            continue
        ns, local = _split(tag)
        if local == "ID":
            # Echoed back verbatim by the ACS, so it is not trimmed.
            env.cwmp_id = child.text or ""
        elif local == "HoldRequests":
            text = _text(child)
            if text:
                env.hold_requests = _to_bool(text, "HoldRequests")
        elif local == "SupportedCWMPVersions":
            env.supported_cwmp_versions = _text(child)
        elif local == "UseCWMPVersion":
            env.use_cwmp_version = _text(child)
        else:
            continue
        if header_ns is None and ns in _CWMP_NAMESPACES:
            header_ns = ns
    return header_ns


def _body_parts(
    data: Any, max_bytes: int, max_depth: int
) -> tuple[etree._Element | None, etree._Element] | None:
    """The checks every message passes, then its Header (or None) and its Body's method
    element; None for an empty body."""
    from_str = isinstance(data, str)
    if from_str:
        data = data.encode("utf-8")
    elif isinstance(data, (bytearray, memoryview)):
        if len(data) > max_bytes:
            raise SoapParseError(f"message larger than {max_bytes} bytes")
        data = bytes(data)
    elif not isinstance(data, bytes):
        raise SoapParseError(f"expected bytes, got {type(data).__name__}")
    if len(data) > max_bytes:
        raise SoapParseError(f"message larger than {max_bytes} bytes")
    if _BLANK_RE.match(data) is not None:
        return None
    if b"<!" in data and _DECLARATION_RE.search(data) is not None:
        raise SoapParseError("DOCTYPE, ENTITY and other markup declarations are not allowed")
    if data[:1] in _XML_WS_BYTES:
        # libxml2 rejects an XML declaration that is not at the very start.
        data = data.lstrip(_XML_WS_BYTES)

    encoding = "utf-8"
    # A str was encoded as UTF-8 above, whatever its declaration says.
    if not from_str and (data.startswith(b"<?xml") or data.startswith(b"\xef\xbb\xbf<?xml")):
        match = _XML_DECL_ENCODING_RE.match(data)
        if match is not None:
            encoding = _LEGACY_ENCODINGS.get(match.group(1).lower(), "utf-8")

    try:
        root = etree.fromstring(data, _parser(encoding))
    except etree.XMLSyntaxError as exc:
        raise SoapParseError(f"not well-formed XML: {exc}") from None
    if root.getroottree().docinfo.internalDTD is not None:
        raise SoapParseError("DOCTYPE declarations are not allowed")
    if _too_deep(root, max_depth):
        raise SoapParseError(f"XML nested deeper than {max_depth} levels")
    if root.tag != _ENVELOPE_TAG:
        raise SoapParseError(f"root element {str(root.tag)[:80]!r} is not a SOAP 1.1 Envelope")

    header = body = None
    for child in root:
        tag = child.tag
        if tag.__class__ is not str:
            continue
        local = _local_name(tag)
        if local == "Body":
            if body is None:
                body = child
        elif local == "Header" and header is None:
            header = child
    if body is None:
        raise SoapParseError("SOAP Envelope has no Body")
    method = next((c for c in body if c.tag.__class__ is str), None)
    if method is None:
        raise SoapParseError("SOAP Body has no method element")
    return header, method


def _parse(data: Any, max_bytes: int, max_depth: int) -> Envelope | None:
    parts = _body_parts(data, max_bytes, max_depth)
    if parts is None:
        return None
    header, method = parts
    env = Envelope(body=None)
    header_ns = _parse_header(header, env) if header is not None else None
    ns, local = _split(method.tag)

    if ns == NS_SOAP_ENV:
        if local != "Fault":
            raise SoapParseError(f"unexpected SOAP element {local[:80]!r} in Body")
        env.body, env.cwmp_ns = _parse_soap_fault(method, header_ns)
        return env

    if ns:
        _check_cwmp_ns(ns, f"method {local[:80]!r}")
    # A method without any namespace is a sloppy CPE; fall back to the header's namespace.
    env.cwmp_ns = ns or header_ns or NS_CWMP["1.0"]
    parse_method = _PARSERS.get(local)
    if parse_method is None:
        raise UnknownMethodError(local[:80], env.cwmp_id, env.cwmp_ns)
    try:
        env.body = parse_method(method)
    except SoapParseError as exc:
        raise SoapParseError(f"{local}: {exc}") from None
    return env


def is_inform(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = 64) -> bool:
    """Whether `data` is a well-formed SOAP envelope whose Body holds a CWMP Inform; the
    Inform's content is not read (that is most of what `parse` costs), so a malformed
    Inform is one here and fails only in `parse`."""
    try:
        parts = _body_parts(data, max_bytes, max_depth)
        if parts is None:
            return False
        ns, local = _split(parts[1].tag)
        if local != "Inform":
            return False
        if ns:
            _check_cwmp_ns(ns, "method 'Inform'")
        return True
    except Exception:  # anything `parse` would refuse is not an Inform
        return False


def parse(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = 64
) -> Envelope | None:
    """Parse a CWMP SOAP message; return None for an empty or whitespace-only body.

    Raises SoapParseError (and nothing else) for malformed, hostile or unsupported input.
    """
    try:
        return _parse(data, max_bytes, max_depth)
    except SoapParseError:
        raise
    except Exception as exc:  # the contract: SoapParseError and nothing else
        raise SoapParseError(f"malformed CWMP message ({type(exc).__name__}: {exc})") from exc


# --------------------------------------------------------------------------------------------
# Serializing
# --------------------------------------------------------------------------------------------

# Characters that need escaping, plus every character XML 1.0 cannot carry at all.
_SPECIAL_RE = re.compile('[&<>"\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]')
#: The API refuses the same characters where values come in (one rule: core.textcheck).
_INVALID_RE = XML_INVALID


def _esc(text: str) -> str:
    """Escape for both element text and double-quoted attribute values."""
    if _SPECIAL_RE.search(text) is None:
        return text
    bad = _INVALID_RE.search(text)
    if bad is not None:
        raise ValueError(f"character {bad.group()!r} cannot be represented in XML 1.0")
    # \r is escaped so that it survives the parser's line-end normalisation.
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\r", "&#13;")
    )


def _int_text(value: int) -> str:
    return str(operator.index(value))


def _bool_text(value: bool) -> str:
    return "1" if value else "0"


def _strings_xml(tag: str, values: list[str]) -> str:
    items = "".join(["<string>" + _esc(v) + "</string>" for v in values])
    return f'<{tag} soap-enc:arrayType="xsd:string[{len(values)}]">{items}</{tag}>'


def _parameter_values_xml(params: list[ParameterValue]) -> str:
    items = "".join(
        [
            "<ParameterValueStruct><Name>"
            + _esc(p.name)
            + '</Name><Value xsi:type="'
            + _esc(p.type)
            + '">'
            + _esc(p.value)
            + "</Value></ParameterValueStruct>"
            for p in params
        ]
    )
    return (
        f'<ParameterList soap-enc:arrayType="cwmp:ParameterValueStruct[{len(params)}]">'
        f"{items}</ParameterList>"
    )


def _fields_xml(method: str, fields: list[tuple[str, str]]) -> str:
    inner = "".join([f"<{name}>{text}</{name}>" for name, text in fields])
    return f"<cwmp:{method}>{inner}</cwmp:{method}>"


def _ser_empty(msg: Message) -> str:
    return f"<cwmp:{msg.METHOD}></cwmp:{msg.METHOD}>"


def _ser_inform(msg: Inform) -> str:
    d = msg.device_id
    events = "".join(
        [
            "<EventStruct><EventCode>"
            + _esc(e.code)
            + "</EventCode><CommandKey>"
            + _esc(e.command_key)
            + "</CommandKey></EventStruct>"
            for e in msg.events
        ]
    )
    return (
        "<cwmp:Inform><DeviceId>"
        f"<Manufacturer>{_esc(d.manufacturer)}</Manufacturer>"
        f"<OUI>{_esc(d.oui)}</OUI>"
        f"<ProductClass>{_esc(d.product_class)}</ProductClass>"
        f"<SerialNumber>{_esc(d.serial_number)}</SerialNumber>"
        "</DeviceId>"
        f'<Event soap-enc:arrayType="cwmp:EventStruct[{len(msg.events)}]">{events}</Event>'
        f"<MaxEnvelopes>{_int_text(msg.max_envelopes)}</MaxEnvelopes>"
        f"<CurrentTime>{_esc(msg.current_time)}</CurrentTime>"
        f"<RetryCount>{_int_text(msg.retry_count)}</RetryCount>"
        f"{_parameter_values_xml(msg.parameters)}</cwmp:Inform>"
    )


def _fault_struct_xml(code: int, string: str) -> str:
    return (
        f"<FaultStruct><FaultCode>{_int_text(code)}</FaultCode>"
        f"<FaultString>{_esc(string)}</FaultString></FaultStruct>"
    )


def _ser_transfer_complete(msg: TransferComplete) -> str:
    return (
        "<cwmp:TransferComplete>"
        f"<CommandKey>{_esc(msg.command_key)}</CommandKey>"
        f"{_fault_struct_xml(msg.fault_code, msg.fault_string)}"
        f"<StartTime>{_esc(msg.start_time)}</StartTime>"
        f"<CompleteTime>{_esc(msg.complete_time)}</CompleteTime>"
        "</cwmp:TransferComplete>"
    )


def _ser_autonomous_transfer_complete(msg: AutonomousTransferComplete) -> str:
    return (
        "<cwmp:AutonomousTransferComplete>"
        f"<AnnounceURL>{_esc(msg.announce_url)}</AnnounceURL>"
        f"<TransferURL>{_esc(msg.transfer_url)}</TransferURL>"
        f"<IsDownload>{_bool_text(msg.is_download)}</IsDownload>"
        f"<FileType>{_esc(msg.file_type)}</FileType>"
        f"<FileSize>{_int_text(msg.file_size)}</FileSize>"
        f"<TargetFileName>{_esc(msg.target_file_name)}</TargetFileName>"
        f"{_fault_struct_xml(msg.fault_code, msg.fault_string)}"
        f"<StartTime>{_esc(msg.start_time)}</StartTime>"
        f"<CompleteTime>{_esc(msg.complete_time)}</CompleteTime>"
        "</cwmp:AutonomousTransferComplete>"
    )


def _ser_get_parameter_names_response(msg: GetParameterNamesResponse) -> str:
    items = "".join(
        [
            "<ParameterInfoStruct><Name>"
            + _esc(p.name)
            + "</Name><Writable>"
            + _bool_text(p.writable)
            + "</Writable></ParameterInfoStruct>"
            for p in msg.parameters
        ]
    )
    return (
        "<cwmp:GetParameterNamesResponse>"
        f'<ParameterList soap-enc:arrayType="cwmp:ParameterInfoStruct[{len(msg.parameters)}]">'
        f"{items}</ParameterList></cwmp:GetParameterNamesResponse>"
    )


def _ser_get_parameter_attributes_response(msg: GetParameterAttributesResponse) -> str:
    items = "".join(
        [
            "<ParameterAttributeStruct><Name>"
            + _esc(p.name)
            + "</Name><Notification>"
            + _int_text(p.notification)
            + "</Notification>"
            + _strings_xml("AccessList", p.access_list)
            + "</ParameterAttributeStruct>"
            for p in msg.parameters
        ]
    )
    count = len(msg.parameters)
    return (
        "<cwmp:GetParameterAttributesResponse>"
        f'<ParameterList soap-enc:arrayType="cwmp:ParameterAttributeStruct[{count}]">'
        f"{items}</ParameterList></cwmp:GetParameterAttributesResponse>"
    )


def _ser_set_parameter_attributes(msg: SetParameterAttributes) -> str:
    items = "".join(
        [
            "<SetParameterAttributesStruct><Name>"
            + _esc(p.name)
            + "</Name><NotificationChange>"
            + _bool_text(p.notification_change)
            + "</NotificationChange><Notification>"
            + _int_text(p.notification)
            + "</Notification><AccessListChange>"
            + _bool_text(p.access_list_change)
            + "</AccessListChange>"
            + _strings_xml("AccessList", p.access_list)
            + "</SetParameterAttributesStruct>"
            for p in msg.parameters
        ]
    )
    count = len(msg.parameters)
    return (
        "<cwmp:SetParameterAttributes>"
        f'<ParameterList soap-enc:arrayType="cwmp:SetParameterAttributesStruct[{count}]">'
        f"{items}</ParameterList></cwmp:SetParameterAttributes>"
    )


def _ser_download(msg: Download) -> str:
    return _fields_xml(
        "Download",
        [
            ("CommandKey", _esc(msg.command_key)),
            ("FileType", _esc(msg.file_type)),
            ("URL", _esc(msg.url)),
            ("Username", _esc(msg.username)),
            ("Password", _esc(msg.password)),
            ("FileSize", _int_text(msg.file_size)),
            ("TargetFileName", _esc(msg.target_file_name)),
            ("DelaySeconds", _int_text(msg.delay_seconds)),
            ("SuccessURL", _esc(msg.success_url)),
            ("FailureURL", _esc(msg.failure_url)),
        ],
    )


def _ser_fault(msg: Fault) -> str:
    spv = "".join(
        [
            "<SetParameterValuesFault><ParameterName>"
            + _esc(f.name)
            + "</ParameterName><FaultCode>"
            + _int_text(f.code)
            + "</FaultCode><FaultString>"
            + _esc(f.string)
            + "</FaultString></SetParameterValuesFault>"
            for f in msg.set_parameter_value_faults
        ]
    )
    return (
        f"<soap-env:Fault><faultcode>{soap_faultcode(msg.fault_code)}</faultcode>"
        "<faultstring>CWMP fault</faultstring><detail><cwmp:Fault>"
        f"<FaultCode>{_int_text(msg.fault_code)}</FaultCode>"
        f"<FaultString>{_esc(msg.fault_string)}</FaultString>"
        f"{spv}</cwmp:Fault></detail></soap-env:Fault>"
    )


_SERIALIZERS: dict[type[Message], Callable[[Any], str]] = {
    Inform: _ser_inform,
    InformResponse: lambda m: _fields_xml(
        "InformResponse", [("MaxEnvelopes", _int_text(m.max_envelopes))]
    ),
    TransferComplete: _ser_transfer_complete,
    TransferCompleteResponse: _ser_empty,
    AutonomousTransferComplete: _ser_autonomous_transfer_complete,
    AutonomousTransferCompleteResponse: _ser_empty,
    GetRPCMethods: _ser_empty,
    GetRPCMethodsResponse: lambda m: (
        f"<cwmp:GetRPCMethodsResponse>{_strings_xml('MethodList', m.methods)}"
        "</cwmp:GetRPCMethodsResponse>"
    ),
    GetParameterNames: lambda m: _fields_xml(
        "GetParameterNames",
        [("ParameterPath", _esc(m.path)), ("NextLevel", _bool_text(m.next_level))],
    ),
    GetParameterNamesResponse: _ser_get_parameter_names_response,
    GetParameterValues: lambda m: (
        f"<cwmp:GetParameterValues>{_strings_xml('ParameterNames', m.names)}"
        "</cwmp:GetParameterValues>"
    ),
    GetParameterValuesResponse: lambda m: (
        f"<cwmp:GetParameterValuesResponse>{_parameter_values_xml(m.parameters)}"
        "</cwmp:GetParameterValuesResponse>"
    ),
    SetParameterValues: lambda m: (
        f"<cwmp:SetParameterValues>{_parameter_values_xml(m.parameters)}"
        f"<ParameterKey>{_esc(m.parameter_key)}</ParameterKey></cwmp:SetParameterValues>"
    ),
    SetParameterValuesResponse: lambda m: _fields_xml(
        "SetParameterValuesResponse", [("Status", _int_text(m.status))]
    ),
    GetParameterAttributes: lambda m: (
        f"<cwmp:GetParameterAttributes>{_strings_xml('ParameterNames', m.names)}"
        "</cwmp:GetParameterAttributes>"
    ),
    GetParameterAttributesResponse: _ser_get_parameter_attributes_response,
    SetParameterAttributes: _ser_set_parameter_attributes,
    SetParameterAttributesResponse: _ser_empty,
    AddObject: lambda m: _fields_xml(
        "AddObject",
        [("ObjectName", _esc(m.object_name)), ("ParameterKey", _esc(m.parameter_key))],
    ),
    AddObjectResponse: lambda m: _fields_xml(
        "AddObjectResponse",
        [("InstanceNumber", _int_text(m.instance_number)), ("Status", _int_text(m.status))],
    ),
    DeleteObject: lambda m: _fields_xml(
        "DeleteObject",
        [("ObjectName", _esc(m.object_name)), ("ParameterKey", _esc(m.parameter_key))],
    ),
    DeleteObjectResponse: lambda m: _fields_xml(
        "DeleteObjectResponse", [("Status", _int_text(m.status))]
    ),
    Reboot: lambda m: _fields_xml("Reboot", [("CommandKey", _esc(m.command_key))]),
    RebootResponse: _ser_empty,
    FactoryReset: _ser_empty,
    FactoryResetResponse: _ser_empty,
    Download: _ser_download,
    DownloadResponse: lambda m: _fields_xml(
        "DownloadResponse",
        [
            ("Status", _int_text(m.status)),
            ("StartTime", _esc(m.start_time)),
            ("CompleteTime", _esc(m.complete_time)),
        ],
    ),
    ScheduleInform: lambda m: _fields_xml(
        "ScheduleInform",
        [("DelaySeconds", _int_text(m.delay_seconds)), ("CommandKey", _esc(m.command_key))],
    ),
    ScheduleInformResponse: _ser_empty,
    Fault: _ser_fault,
}

# The envelope start is fixed per cwmp namespace, so it is built once.
_ENVELOPE_OPEN = {
    ns: (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<soap-env:Envelope xmlns:soap-env="{NS_SOAP_ENV}" xmlns:soap-enc="{NS_SOAP_ENC}" '
        f'xmlns:xsd="{NS_XSD}" xmlns:xsi="{NS_XSI}" xmlns:cwmp="{ns}">'
    )
    for ns in _CWMP_NAMESPACES
}
_ENVELOPE_CLOSE = "</soap-env:Body></soap-env:Envelope>"


def serialize(envelope: Envelope) -> bytes:
    """Serialize an envelope to UTF-8 bytes; ``Envelope(body=None)`` gives ``b""``.

    Raises ValueError for an unknown cwmp namespace or a string XML 1.0 cannot carry, and
    TypeError for a body that is not a known message or a non-integer in an integer field.
    """
    body = envelope.body
    if body is None:
        return b""
    opening = _ENVELOPE_OPEN.get(envelope.cwmp_ns)
    if opening is None:
        raise ValueError(f"unknown cwmp namespace {envelope.cwmp_ns!r}")
    serializer = _SERIALIZERS.get(type(body))
    if serializer is None:
        raise TypeError(f"cannot serialize {type(body).__name__} as a CWMP message")

    header = []
    if envelope.cwmp_id is not None:
        header.append(f'<cwmp:ID soap-env:mustUnderstand="1">{_esc(envelope.cwmp_id)}</cwmp:ID>')
    if envelope.hold_requests is not None:
        header.append(
            '<cwmp:HoldRequests soap-env:mustUnderstand="1">'
            f"{_bool_text(envelope.hold_requests)}</cwmp:HoldRequests>"
        )
    if envelope.supported_cwmp_versions is not None:
        header.append(
            '<cwmp:SupportedCWMPVersions soap-env:mustUnderstand="0">'
            f"{_esc(envelope.supported_cwmp_versions)}</cwmp:SupportedCWMPVersions>"
        )
    if envelope.use_cwmp_version is not None:
        header.append(
            '<cwmp:UseCWMPVersion soap-env:mustUnderstand="1">'
            f"{_esc(envelope.use_cwmp_version)}</cwmp:UseCWMPVersion>"
        )
    header_xml = f"<soap-env:Header>{''.join(header)}</soap-env:Header>" if header else ""
    return (f"{opening}{header_xml}<soap-env:Body>{serializer(body)}{_ENVELOPE_CLOSE}").encode()


# --------------------------------------------------------------------------------------------
# HTTP body decoding
# --------------------------------------------------------------------------------------------

_GZIP_MAGIC = b"\x1f\x8b"
_INFLATE_STEP = 256 * 1024


def _inflate(data: bytes, wbits: int, max_bytes: int, multi_member: bool) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        inflater = zlib.decompressobj(wbits)
        pending = data
        while True:
            # max_length (always >= 1 here; 0 would mean "unlimited") caps every step, so a
            # bomb never expands past the limit in memory; small steps keep zlib's growing
            # output buffer from briefly doubling a large chunk.
            step = min(max_bytes + 1 - total, _INFLATE_STEP)
            chunk = inflater.decompress(pending, step)
            total += len(chunk)
            if total > max_bytes:
                raise SoapParseError(f"decompressed body larger than {max_bytes} bytes")
            chunks.append(chunk)
            pending = inflater.unconsumed_tail
            # Input used up and nothing came out: zlib has no buffered output left either.
            if inflater.eof or (not pending and not chunk):
                break
        if not inflater.eof:
            raise SoapParseError("truncated compressed body")
        data = inflater.unused_data
        # Concatenated gzip members are legal; anything else trailing is ignored.
        if not (multi_member and data.startswith(_GZIP_MAGIC)):
            return b"".join(chunks)


def _decode_one(data: bytes, coding: str, max_bytes: int) -> bytes:
    if coding in ("", "identity"):
        if len(data) > max_bytes:
            raise SoapParseError(f"body larger than {max_bytes} bytes")
        return data
    if coding not in ("gzip", "x-gzip", "deflate"):
        raise SoapParseError(f"unsupported Content-Encoding {coding[:40]!r}")
    if not data:
        # An empty POST (end of session) sometimes still carries the client's usual header.
        return data
    if coding != "deflate":
        return _inflate(data, 16 + zlib.MAX_WBITS, max_bytes, multi_member=True)
    # HTTP "deflate" means zlib-wrapped, but many clients send raw deflate; the zlib header
    # is self-identifying (CMF/FLG checksum), so try that first.
    if len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0:
        try:
            return _inflate(data, zlib.MAX_WBITS, max_bytes, multi_member=False)
        except zlib.error:
            pass
    return _inflate(data, -zlib.MAX_WBITS, max_bytes, multi_member=False)


def decode_body(
    raw: bytes, content_encoding: str | None, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> bytes:
    """Undo an HTTP Content-Encoding (gzip, deflate - zlib or raw - or identity).

    Decompression streams and stops as soon as the output passes ``max_bytes``, raising
    SoapParseError, so a compression bomb never allocates much more than the cap.
    """
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        # bytes(n) of an int would allocate n bytes: refuse anything that is not a buffer.
        raise SoapParseError(f"expected bytes, got {type(raw).__name__}")
    try:
        data = bytes(raw)
        # Codings are listed in the order they were applied, so undo them in reverse.
        codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
        for coding in reversed(codings):
            data = _decode_one(data, coding, max_bytes)
        return data
    except SoapParseError:
        raise
    except Exception as exc:  # zlib.error and friends must not leak
        raise SoapParseError(f"cannot decode body ({type(exc).__name__}: {exc})") from exc
