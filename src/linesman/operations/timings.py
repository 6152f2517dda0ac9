"""How long each kind of operation is expected to take, and when it is given up on."""

from __future__ import annotations

from linesman.operations.models import OperationKind

#: kind -> (estimated seconds to completion, seconds before it times out)
TIMINGS: dict[str, tuple[int, int]] = {
    OperationKind.REBOOT: (120, 900),
    OperationKind.FACTORY: (300, 1800),
    OperationKind.DEVICE_FACTORY: (360, 1800),
    OperationKind.SYNC: (60, 900),
    OperationKind.RECONF: (120, 900),
    OperationKind.FIRMWARE: (600, 3600),
    OperationKind.GET: (30, 900),
    OperationKind.SET: (30, 900),
    OperationKind.ADD_OBJECT: (30, 900),
    OperationKind.DELETE_OBJECT: (30, 900),
    OperationKind.REFRESH: (60, 900),
    OperationKind.STATUS: (15, 120),
    # Set, run on the device (a speed test can take a minute), read back.
    OperationKind.DIAGNOSTIC: (60, 600),
    OperationKind.GET_ATTRIBUTES: (30, 900),
    OperationKind.SET_ATTRIBUTES: (30, 900),
}


def estimate_seconds(steps: list[str]) -> int:
    return sum(TIMINGS.get(step, (60, 900))[0] for step in steps)


def timeout_seconds(steps: list[str]) -> int:
    from django.conf import settings

    override = settings.CONFIG.operation_timeout
    if override:
        return override
    return sum(TIMINGS.get(step, (60, 900))[1] for step in steps)
