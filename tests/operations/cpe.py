"""A provisioned scripted CPE for the operation engine's tests: it informs, answers every
RPC the ACS sends (with a test's own answers where given) and returns what it received."""

from __future__ import annotations

from collections.abc import Callable

from linesman.cwmp import soap
from tests.cwmp.acs_client import ScriptedCpe

SERIAL = "ENG0001"

Answer = Callable[[soap.Message], soap.Message | None]


def default_answer(request: soap.Message) -> soap.Message:
    """What a well-behaved CPE answers (values are `v`, the tree is one parameter)."""
    if isinstance(request, soap.SetParameterValues):
        return soap.SetParameterValuesResponse(0)
    if isinstance(request, soap.Reboot):
        return soap.RebootResponse()
    if isinstance(request, soap.FactoryReset):
        return soap.FactoryResetResponse()
    if isinstance(request, soap.GetParameterValues):
        return soap.GetParameterValuesResponse([soap.ParameterValue(n, "v") for n in request.names])
    if isinstance(request, soap.GetParameterNames):
        return soap.GetParameterNamesResponse(
            [soap.ParameterInfo("Device.DeviceInfo.SoftwareVersion", False)]
        )
    if isinstance(request, soap.SetParameterAttributes):
        return soap.SetParameterAttributesResponse()
    if isinstance(request, soap.AddObject):
        return soap.AddObjectResponse(1, 0)
    if isinstance(request, soap.DeleteObject):
        return soap.DeleteObjectResponse(0)
    if isinstance(request, soap.Download):
        return soap.DownloadResponse(1)
    raise AssertionError(f"unexpected {request}")


def session(
    events=("6 CONNECTION REQUEST",), answer: Answer | None = None, **inform
) -> list[soap.Message]:
    """One CWMP session of the device: `answer(request)` (when it returns a message) else
    the default answer; returns the RPCs the device received, in order."""
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(SERIAL, events=events, **inform).status_code == 200
    received: list[soap.Message] = []
    response = cpe.post(None)
    while response.status_code == 200:
        request = cpe.parse(response).body
        received.append(request)
        reply = answer(request) if answer else None
        response = cpe.post(reply if reply is not None else default_answer(request))
    assert response.status_code == 204
    return received


def reloaded(op):
    """The operation as stored now."""
    from linesman.operations.models import Operation

    return Operation.objects.get(pk=op.pk)


def values_read(names: list[str], writable: bool = False) -> list[list[str]]:
    """One session of a device whose tree is `names` (answered to its GetParameterNames):
    the names each GetParameterValues it was then sent asked for, in order."""

    def answer(request):
        if isinstance(request, soap.GetParameterNames):
            return soap.GetParameterNamesResponse([soap.ParameterInfo(n, writable) for n in names])
        return None

    received = session(answer=answer)
    return [m.names for m in received if isinstance(m, soap.GetParameterValues)]


def methods(messages: list[soap.Message]) -> list[str]:
    return [m.METHOD for m in messages]


def drop_session_at(method: str, events=("6 CONNECTION REQUEST",)) -> list[soap.Message]:
    """A session that answers everything until `method` arrives, then goes silent (the
    device acted on it but its answer was lost); returns what it received."""
    from datetime import timedelta

    from linesman.cwmp.models import CwmpSession

    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(SERIAL, events=events).status_code == 200
    received: list[soap.Message] = []
    response = cpe.post(None)
    while response.status_code == 200:
        request = cpe.parse(response).body
        received.append(request)
        if method == request.METHOD:
            break
        response = cpe.post(default_answer(request))
    # Gone quiet: the next Inform, after the takeover time, takes the session over.
    CwmpSession.objects.update(
        last_activity=CwmpSession.objects.get().last_activity - timedelta(minutes=5)
    )
    return received
