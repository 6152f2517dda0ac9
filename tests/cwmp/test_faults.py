"""Tests for the CWMP fault code table (linesman.cwmp.faults)."""

from __future__ import annotations

import pytest

from linesman.cwmp import faults


@pytest.mark.parametrize("code", range(9000, 9033))
def test_every_cpe_fault_has_its_own_text(code: int) -> None:
    text = faults.describe(code)
    assert text == faults.CPE_FAULTS[code]
    assert not text.startswith(("Unknown fault code", "Vendor-defined"))
    assert str(code) not in text  # a real description, not the generic fallback


@pytest.mark.parametrize("code", range(8000, 8007))
def test_every_acs_fault_has_its_own_text(code: int) -> None:
    assert faults.describe(code) == faults.ACS_FAULTS[code]


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
