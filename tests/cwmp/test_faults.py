"""Tests for the CWMP fault code table (linesman.cwmp.faults)."""

from __future__ import annotations

import pytest

from linesman.cwmp import faults

# The fault names of TR-069 Amendment 6 (Table A.5 and A.6), written out here rather than
# read from the table under test; compared without case and punctuation, since the
# standard itself is not consistent in either.
TR069_FAULT_NAMES = {
    8000: "Method not supported",
    8001: "Request denied (no reason specified)",
    8002: "Internal error",
    8003: "Invalid arguments",
    8004: "Resources exceeded",
    8005: "Retry request",
    8006: "ACS version incompatible",
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
    9020: "File transfer failure: unable to complete download within specified time windows",
    9021: "Cancelation of file transfer not permitted in current transfer state",
    9022: "Invalid UUID Format",
    9023: "Unknown Execution Environment",
    9024: "Disabled Execution Environment",
    9025: "Deployment Unit to Execution Environment Mismatch",
    9026: "Duplicate Deployment Unit",
    9027: "System Resources Exceeded",
    9028: "Unknown Deployment Unit",
    9029: "Invalid Deployment Unit State",
    9030: "Invalid Deployment Unit Update - Downgrade not permitted",
    9031: "Invalid Deployment Unit Update - Version not specified",
    9032: "Invalid Deployment Unit Update - Version already exists",
}


def _words(text: str) -> list[str]:
    # "Cancelation"/"Cancellation" are both in use; the rest is case and punctuation.
    text = text.lower().replace("cancellation", "cancelation")
    return [w for w in "".join(c if c.isalnum() else " " for c in text).split() if w != "the"]


@pytest.mark.parametrize("code", sorted(TR069_FAULT_NAMES))
def test_every_fault_reads_as_the_standard_names_it(code: int) -> None:
    assert _words(faults.describe(code)) == _words(TR069_FAULT_NAMES[code])


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (9000, "Method not supported"),
        (9003, "Invalid arguments"),
        (9005, "Invalid parameter name"),
        (9007, "Invalid parameter value"),
        (9008, "Attempt to set a non-writable parameter"),
        (9010, "File transfer failure"),
        (8005, "Retry request"),
    ],
)
def test_well_known_texts(code: int, expected: str) -> None:
    assert faults.describe(code) == expected


def test_tables_do_not_overlap_and_are_in_range() -> None:
    assert set(faults.CPE_FAULTS) == set(range(9000, 9033))
    assert set(faults.ACS_FAULTS) == set(range(8000, 8007))


@pytest.mark.parametrize("code", [9800, 9850, 9899])
def test_vendor_cpe_range(code: int) -> None:
    assert faults.describe(code) == f"Vendor-defined CPE fault {code}"
    assert faults.is_vendor(code)


@pytest.mark.parametrize("code", [8800, 8899])
def test_vendor_acs_range(code: int) -> None:
    assert faults.describe(code) == f"Vendor-defined ACS fault {code}"
    assert faults.is_vendor(code)


@pytest.mark.parametrize("code", [0, 1, 8007, 8799, 8900, 9033, 9799, 9900, -5, 10**9])
def test_unknown_codes_get_generic_text(code: int) -> None:
    assert faults.describe(code) == f"Unknown fault code {code}"
    assert not faults.is_vendor(code)


def test_describe_tolerates_non_integers() -> None:
    assert faults.describe("9003") == "Invalid arguments"  # type: ignore[arg-type]
    assert faults.describe(None).startswith("Unknown fault code")  # type: ignore[arg-type]


@pytest.mark.parametrize("code", [8003, 9003, 9005, 9006, 9007, 9008, 9021])
def test_client_faultcodes(code: int) -> None:
    assert faults.soap_faultcode(code) == "Client"


@pytest.mark.parametrize("code", [0, 8000, 8005, 9000, 9001, 9002, 9004, 9010, 9800])
def test_server_faultcodes(code: int) -> None:
    assert faults.soap_faultcode(code) == "Server"
