"""Scale check for the CPE simulator: N devices in one process, how much memory, how fast.

Starts a trivial stand-in ACS in a child process (answers every Inform with InformResponse and
every empty POST with 204, so each device bootstraps with a real HTTP session), then a fleet
of N devices in this process, waits until every device has bootstrapped, and prints the
resident set size. Everything stays on 127.0.0.1 and the run ends by itself.

    python bench/simulator_memory.py [--devices 10000] [--max-sessions 32] [--fill-journals]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import os
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from linesman.simulator.fleet import Fleet

# Runnable from a checkout without installing; the spawned responder re-runs this too.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

_INFORM_RESPONSE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" '
    b'xmlns:cwmp="urn:dslforum-org:cwmp-1-0"><soap-env:Body><cwmp:InformResponse>'
    b"<MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse></soap-env:Body></soap-env:Envelope>"
)


def _rss_mib(field: str = "VmRSS") -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _responder(port_queue: multiprocessing.Queue, stop_after: float) -> None:
    from linesman.simulator.http11 import HttpServer, Request, Response

    async def handle(request: Request) -> Response:
        if b"Inform>" in request.body[:2000] or b":Inform " in request.body[:2000]:
            return Response(200, _INFORM_RESPONSE, [("Content-Type", "text/xml")])
        return Response(204)

    async def main() -> None:
        server = HttpServer(handle, max_requests_per_connection=1_000_000)
        await server.start()
        port_queue.put(server.port)
        await asyncio.sleep(stop_after)
        await server.stop()

    asyncio.run(main())


def _fill_journals(fleet: Fleet) -> None:
    """Worst case for long runs: every device's journal and inform history full, plus a
    changed value."""
    from linesman.cwmp import soap

    for device in fleet:
        root = device.root
        device.handle(
            soap.SetParameterValues(
                [soap.ParameterValue(device.ms("PeriodicInformInterval"), "3600")], "bench"
            )
        )
        for _ in range(device._journal_size):
            device.handle(soap.GetParameterValues([f"{root}DeviceInfo.UpTime", f"{root}Time."]))
            inform = device.build_inform()
            inform.events = [soap.EventStruct("2 PERIODIC")]
            device.inform_acknowledged(inform)
    print(f"filled journals and inform histories of {len(fleet)} devices", flush=True)


async def _run(args: argparse.Namespace, acs_url: str) -> int:
    from linesman.simulator.fleet import Fleet

    before = _rss_mib()
    t0 = time.monotonic()
    fleet = Fleet(
        acs_url,
        args.devices,
        flavour=args.flavour,
        max_sessions=args.max_sessions,
        periodic_interval=args.interval,
        auth_mode="none",
        seed=1,
    )
    created = time.monotonic()
    print(
        f"created {args.devices} devices in {created - t0:.1f}s, RSS {_rss_mib():.0f} MiB "
        f"(baseline {before:.0f} MiB)",
        flush=True,
    )
    await fleet.start()
    deadline = time.monotonic() + args.timeout
    last = 0.0
    while True:
        stats = fleet.stats()
        if stats.bootstrapped >= args.devices or time.monotonic() > deadline:
            break
        if time.monotonic() - last > 5:
            last = time.monotonic()
            print(
                f"  {time.monotonic() - created:5.1f}s bootstrapped {stats.bootstrapped}/"
                f"{args.devices}, sessions ok {stats.sessions_ok} failed "
                f"{stats.sessions_failed}, RSS {_rss_mib():.0f} MiB",
                flush=True,
            )
        await asyncio.sleep(0.2)
    elapsed = time.monotonic() - created
    if args.fill_journals:
        _fill_journals(fleet)
    gc.collect()
    stats = fleet.stats()
    rss, peak = _rss_mib(), _rss_mib("VmHWM")
    print(
        f"bootstrapped {stats.bootstrapped}/{args.devices} in {elapsed:.1f}s "
        f"({stats.sessions_ok / max(elapsed, 1e-9):.0f} sessions/s), failed sessions "
        f"{stats.sessions_failed} {stats.errors}"
    )
    print(
        f"RSS with {args.devices} devices idle: {rss:.0f} MiB (peak {peak:.0f} MiB, "
        f"{(rss - before) * 1024 / max(args.devices, 1):.1f} KiB per device)"
    )
    await fleet.stop()
    return 0 if stats.bootstrapped >= args.devices and peak < 1024 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--flavour", default="mixed", choices=("tr181", "tr098", "mixed"))
    parser.add_argument("--max-sessions", type=int, default=32)
    parser.add_argument("--interval", type=int, default=3600, help="periodic inform interval")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument(
        "--fill-journals",
        action="store_true",
        help="also measure with every journal and inform history full (long-run worst case)",
    )
    args = parser.parse_args()

    ctx = multiprocessing.get_context("spawn")
    ports: multiprocessing.Queue = ctx.Queue()
    responder = ctx.Process(target=_responder, args=(ports, args.timeout + 60), daemon=True)
    responder.start()
    try:
        port = ports.get(timeout=30)
        return asyncio.run(_run(args, f"http://127.0.0.1:{port}/acs"))
    finally:
        responder.terminate()
        responder.join(5)


if __name__ == "__main__":
    sys.exit(main())
