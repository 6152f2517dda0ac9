"""The diagnostics a device can run, and where each lives in TR-181 and TR-098.

Each kind names its diagnostic object per data model (None where the model has none), the
inputs a client may give (API name -> parameter name and type), and how the values read
back become results. Names follow TR-181 (Device.IP.Diagnostics., Device.DNS.Diagnostics.,
Device.WiFi.NeighboringWiFiDiagnostic.) and TR-098 (InternetGatewayDevice.*Diagnostics.).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.dateparse import parse_datetime

UINT = "xsd:unsignedInt"
STRING = "xsd:string"


@dataclass(frozen=True)
class Input:
    parameter: str
    type: str = STRING
    minimum: int | None = None
    maximum: int | None = None
    max_length: int = 256
    required: bool = False


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    tr181: str
    tr098: str | None
    inputs: dict[str, Input] = field(default_factory=dict)
    results: Callable[[dict[str, str]], dict[str, Any]] = lambda values: {}

    def object_for(self, root: str) -> str | None:
        """The diagnostic object for a device whose data model starts at `root`."""
        if root.startswith("InternetGatewayDevice"):
            return self.tr098
        return self.tr181


def _int(values: dict[str, str], name: str) -> int | None:
    try:
        return int(values.get(name, ""))
    except ValueError:
        return None


def _rows(values: dict[str, str], table: str) -> list[dict[str, str]]:
    """Rows of a table read back (`Table.N.Field`), ordered by instance number."""
    rows: dict[int, dict[str, str]] = {}
    pattern = re.compile(rf"^{re.escape(table)}\.(\d+)\.([A-Za-z0-9_]+)$")
    for name, value in values.items():
        match = pattern.match(name)
        if match:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = value
    return [rows[i] for i in sorted(rows)]


def _ping_results(values: dict[str, str]) -> dict[str, Any]:
    success, failure = _int(values, "SuccessCount") or 0, _int(values, "FailureCount") or 0
    sent = success + failure
    return {
        "host": values.get("Host", ""),
        "sent": sent,
        "received": success,
        "loss_percent": round(100.0 * failure / sent, 1) if sent else None,
        "rtt_min_ms": _int(values, "MinimumResponseTime") if success else None,
        "rtt_avg_ms": _int(values, "AverageResponseTime") if success else None,
        "rtt_max_ms": _int(values, "MaximumResponseTime") if success else None,
        "reachable": success > 0,
    }


def _trace_results(values: dict[str, str]) -> dict[str, Any]:
    hops = [
        {
            "host": row.get("Host", ""),
            "address": row.get("HostAddress", ""),
            "error_code": _int(row, "ErrorCode"),
            "rtt_ms": [int(t) for t in row.get("RTTimes", "").split(",") if t.strip().isdigit()],
        }
        for row in _rows(values, "RouteHops")
    ]
    return {
        "host": values.get("Host", ""),
        "response_time_ms": _int(values, "ResponseTime"),
        "hops": hops,
    }


def _transfer_results(values: dict[str, str], direction: str) -> dict[str, Any]:
    bom, eom = parse_datetime(values.get("BOMTime", "")), parse_datetime(values.get("EOMTime", ""))
    size = _int(values, "TestBytesReceived" if direction == "down" else "TestFileLength")
    if direction == "down" and not size:
        size = _int(values, "TotalBytesReceived")
    seconds = (eom - bom).total_seconds() if bom and eom else None
    return {
        "bytes": size,
        "rom_time": values.get("ROMTime", ""),
        "bom_time": values.get("BOMTime", ""),
        "eom_time": values.get("EOMTime", ""),
        "seconds": seconds,
        "throughput_kbps": round(size * 8 / 1000 / seconds, 1) if size and seconds else None,
    }


def _udp_results(values: dict[str, str]) -> dict[str, Any]:
    result = _ping_results(values)
    result["port"] = _int(values, "Port")
    return result


def _nslookup_results(values: dict[str, str]) -> dict[str, Any]:
    return {
        "host_name": values.get("HostName", ""),
        "success_count": _int(values, "SuccessCount"),
        "answers": [
            {
                "status": row.get("Status", ""),
                "answer_type": row.get("AnswerType", ""),
                "host_name": row.get("HostNameReturned", ""),
                "addresses": [a for a in row.get("IPAddresses", "").split(",") if a],
                "dns_server": row.get("DNSServerIP", ""),
                "response_time_ms": _int(row, "ResponseTime"),
            }
            for row in _rows(values, "Result")
        ],
    }


def _wifi_results(values: dict[str, str]) -> dict[str, Any]:
    return {
        "neighbours": [
            {
                "ssid": row.get("SSID", ""),
                "bssid": row.get("BSSID", ""),
                "channel": _int(row, "Channel"),
                "signal_dbm": _int(row, "SignalStrength"),
                "band": row.get("OperatingFrequencyBand", ""),
                "security": row.get("SecurityModeEnabled", ""),
            }
            for row in _rows(values, "Result")
        ]
    }


_COMMON_IP = {
    "interface": Input("Interface"),
    "dscp": Input("DSCP", UINT, 0, 63),
}

KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "ipping",
            "ICMP ping",
            "Device.IP.Diagnostics.IPPing.",
            "InternetGatewayDevice.IPPingDiagnostics.",
            {
                "host": Input("Host", required=True),
                "number_of_repetitions": Input("NumberOfRepetitions", UINT, 1, 100),
                "timeout": Input("Timeout", UINT, 1, 60000),
                "data_block_size": Input("DataBlockSize", UINT, 1, 65535),
                **_COMMON_IP,
            },
            _ping_results,
        ),
        Kind(
            "traceroute",
            "Trace route",
            "Device.IP.Diagnostics.TraceRoute.",
            "InternetGatewayDevice.TraceRouteDiagnostics.",
            {
                "host": Input("Host", required=True),
                "number_of_tries": Input("NumberOfTries", UINT, 1, 3),
                "timeout": Input("Timeout", UINT, 1, 60000),
                "data_block_size": Input("DataBlockSize", UINT, 1, 65535),
                "max_hop_count": Input("MaxHopCount", UINT, 1, 64),
                **_COMMON_IP,
            },
            _trace_results,
        ),
        Kind(
            "download",
            "HTTP download speed test",
            "Device.IP.Diagnostics.DownloadDiagnostics.",
            "InternetGatewayDevice.DownloadDiagnostics.",
            {"download_url": Input("DownloadURL", max_length=1024), **_COMMON_IP},
            lambda values: _transfer_results(values, "down"),
        ),
        Kind(
            "upload",
            "HTTP upload speed test",
            "Device.IP.Diagnostics.UploadDiagnostics.",
            "InternetGatewayDevice.UploadDiagnostics.",
            {
                "upload_url": Input("UploadURL", max_length=1024),
                "test_file_length": Input("TestFileLength", UINT, 1, 100_000_000),
                **_COMMON_IP,
            },
            lambda values: _transfer_results(values, "up"),
        ),
        Kind(
            "udpecho",
            "UDP echo",
            "Device.IP.Diagnostics.UDPEchoDiagnostics.",
            None,
            {
                "host": Input("Host", required=True),
                "port": Input("Port", UINT, 1, 65535, required=True),
                "number_of_repetitions": Input("NumberOfRepetitions", UINT, 1, 100),
                "timeout": Input("Timeout", UINT, 1, 60000),
                "data_block_size": Input("DataBlockSize", UINT, 1, 65535),
                **_COMMON_IP,
            },
            _udp_results,
        ),
        Kind(
            "nslookup",
            "DNS lookup",
            "Device.DNS.Diagnostics.NSLookupDiagnostics.",
            None,
            {
                "host_name": Input("HostName", required=True),
                "dns_server": Input("DNSServer"),
                "number_of_repetitions": Input("NumberOfRepetitions", UINT, 1, 10),
                "timeout": Input("Timeout", UINT, 1, 60000),
                "interface": Input("Interface"),
            },
            _nslookup_results,
        ),
        Kind(
            "wifi_neighbor",
            "Wi-Fi neighbour scan",
            "Device.WiFi.NeighboringWiFiDiagnostic.",
            None,
            {},
            _wifi_results,
        ),
    )
}
