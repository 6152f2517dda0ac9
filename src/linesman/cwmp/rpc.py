"""Between stored DeviceTask rows and codec messages: build requests, flatten responses."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from linesman.cwmp import soap
from linesman.inventory import firmware
from linesman.inventory.models import Device

#: Stands in a stored task for a secret that is read from the device row at send time,
#: so no clear secret is ever stored in a task's arguments.
SECRET_REF = "$connection_request_password"


def _values(device: Device, parameters: list[dict[str, Any]]) -> list[soap.ParameterValue]:
    out = []
    for p in parameters:
        value = p.get("value", "")
        if value == SECRET_REF:
            value = device.connection_request_password
        out.append(soap.ParameterValue(p["name"], str(value), p.get("type") or "xsd:string"))
    return out


def build_request(device: Device, method: str, args: dict[str, Any]) -> soap.Message:
    """The codec message for a queued task."""
    root = device.data_model_root or "Device."
    if method == "GetParameterNames":
        return soap.GetParameterNames(args.get("path") or root, bool(args.get("next_level")))
    if method == "GetParameterValues":
        return soap.GetParameterValues(list(args.get("names") or [root]))
    if method == "SetParameterValues":
        return soap.SetParameterValues(
            _values(device, args.get("parameters", [])), args.get("parameter_key", "")
        )
    if method == "GetParameterAttributes":
        return soap.GetParameterAttributes(list(args.get("names") or [root]))
    if method == "SetParameterAttributes":
        return soap.SetParameterAttributes(
            [soap.SetParameterAttribute(**a) for a in args.get("parameters", [])]
        )
    if method == "AddObject":
        return soap.AddObject(args["object_name"], args.get("parameter_key", ""))
    if method == "DeleteObject":
        return soap.DeleteObject(args["object_name"], args.get("parameter_key", ""))
    if method == "Reboot":
        return soap.Reboot(args.get("command_key", ""))
    if method == "FactoryReset":
        return soap.FactoryReset()
    if method == "Download":
        # The URL is built here, in the server sending the RPC (see inventory.firmware).
        return soap.Download(**firmware.download_request(device, args))
    if method == "ScheduleInform":
        return soap.ScheduleInform(int(args.get("delay_seconds", 0)), args.get("command_key", ""))
    if method == "GetRPCMethods":
        return soap.GetRPCMethods()
    raise ValueError(f"the ACS cannot send {method!r}")


def response_matches(method: str, message: soap.Message) -> bool:
    return method + "Response" == message.METHOD


def flatten(message: soap.Message) -> dict[str, Any]:
    """A JSON-storable dict of a response's fields."""
    return asdict(message)
