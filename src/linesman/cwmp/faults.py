"""CWMP (TR-069) fault code table: readable text for CPE (9xxx) and ACS (8xxx) fault codes.

Used when logging or displaying faults a device returned, and when building a Fault to send.
The texts follow the fault names of TR-069 Amendment 6 (CWMP 1.0 - 1.4).
"""

from __future__ import annotations

from typing import Literal

# Fault codes a CPE returns to the ACS (TR-069 Amendment 6, CPE fault code table).
CPE_FAULTS: dict[int, str] = {
    9000: "Method not supported",
    9001: "Request denied (no reason specified)",
    9002: "Internal error",
    9003: "Invalid arguments",
    9004: "Resources exceeded",
    9005: "Invalid parameter name",
    9006: "Invalid parameter type",
    9007: "Invalid parameter value",
    9008: "Attempt to set a non-writable parameter",
    9009: "Notification request rejected",
    9010: "File transfer failure",
    9011: "Upload failure",
    9012: "File transfer server authentication failure",
    9013: "Unsupported protocol for file transfer",
    9014: "File transfer failure: unable to join multicast group",
    9015: "File transfer failure: unable to contact file server",
    9016: "File transfer failure: unable to access file",
    9017: "File transfer failure: unable to complete download",
    9018: "File transfer failure: file corrupted or otherwise unusable",
    9019: "File transfer failure: file authentication failure",
    9020: "File transfer failure: unable to complete download within the specified time windows",
    9021: "Cancellation of file transfer not permitted in current transfer state",
    9022: "Invalid UUID format",
    9023: "Unknown Execution Environment",
    9024: "Disabled Execution Environment",
    9025: "Deployment Unit to Execution Environment mismatch",
    9026: "Duplicate Deployment Unit",
    9027: "System resources exceeded",
    9028: "Unknown Deployment Unit",
    9029: "Invalid Deployment Unit state",
    9030: "Invalid Deployment Unit update: downgrade not permitted",
    9031: "Invalid Deployment Unit update: version not specified",
    9032: "Invalid Deployment Unit update: version already exists",
}

# Fault codes the ACS returns to a CPE. 8006 is the last one TR-069 defines; 8007 and up
# (outside the vendor range) are reported as unknown rather than guessed at.
ACS_FAULTS: dict[int, str] = {
    8000: "Method not supported",
    8001: "Request denied (no reason specified)",
    8002: "Internal error",
    8003: "Invalid arguments",
    8004: "Resources exceeded",
    8005: "Retry request",
    8006: "ACS version incompatible",
}

# TR-069 marks these as caused by the requester ("Client"); every other fault is "Server".
_CLIENT_FAULTS = frozenset({8003, 9003, 9005, 9006, 9007, 9008, 9021})


def describe(code: int) -> str:
    """Return readable text for a CWMP fault code, with a generic text for unknown codes."""
    try:
        code = int(code)
    except (TypeError, ValueError):
        return f"Unknown fault code {code!r}"
    text = CPE_FAULTS.get(code) or ACS_FAULTS.get(code)
    if text is not None:
        return text
    if 9800 <= code <= 9899:
        return f"Vendor-defined CPE fault {code}"
    if 8800 <= code <= 8899:
        return f"Vendor-defined ACS fault {code}"
    return f"Unknown fault code {code}"


def soap_faultcode(code: int) -> Literal["Client", "Server"]:
    """Return the SOAP faultcode ("Client" or "Server") TR-069 assigns to a CWMP fault code."""
    return "Client" if code in _CLIENT_FAULTS else "Server"


def is_vendor(code: int) -> bool:
    """True for the vendor-defined ranges 8800-8899 (ACS) and 9800-9899 (CPE)."""
    return 8800 <= code <= 8899 or 9800 <= code <= 9899
