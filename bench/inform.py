"""Inform throughput: complete CWMP sessions per second against Linesman, as real CPEs run them.

    python bench/inform.py [--mode challenged|preemptive] [--phase steady|first-contact]
                           [--devices 100000] [--duration 60] [--processes 2]

`--mode challenged` (the default, issue #17): each session starts without credentials, takes
the 401 Digest challenge (a fresh server nonce every session) and answers it with a fresh
client nonce and nc=1; three requests a periodic session (401, Inform, empty POST).
`--mode preemptive`: each device keeps its own nonce across sessions and sends credentials
at once (its first session of the run, and one after its nonce expired, are challenged).

`--phase steady`: periodic Informs of provisioned devices. `--phase first-contact`: devices
registered but never seen send a BOOTSTRAP Inform and are provisioned (SetParameterValues,
then the tree read), each once; prints how long the fleet took to onboard.

The baseline (steady phase) is the fastest plain server this machine runs, granian with
workers as many as `serve` has, serving fixed bytes for the same exchange (401 with a fixed
challenge, InformResponse, 204; `bench/baseline_asgi.py`), driven by the same load
generator in the same run; the ratio is printed. Linesman runs as README recommends:
on PostgreSQL (`DATABASE_URL=postgres://...`, a fresh database is created and dropped,
`REDIS_URL` for the queue) `serve --no-worker` plus a separate `linesman worker`; on the
embedded default (SQLite) `serve` with its in-process worker.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import fixtures, loadgen  # noqa: E402

TARGET_STEADY = 1000  # challenged sessions/s
TARGET_RATIO = 0.25
TARGET_FIRST_CONTACT = 300  # provisioning sessions/s
TARGET_ONBOARD_S = 360  # 100,000 new devices
TARGET_RSS_MB = 300


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} (1 min) {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def tree_cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) the processes and all their descendants have used."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0, list(pids)
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
            with open(f"/proc/{pid}/task/{pid}/children") as children:
                todo.extend(int(c) for c in children.read().split())
        except OSError:
            continue
    return total / tick


def measure(
    name: str,
    port: int | list[int],
    serials: list[str],
    args,
    phase: str = "steady",
    pids: list[int] = (),
) -> dict:
    """Run the load generator against `port` (several: each request to the next) and print
    the figures; `args.mode` (default challenged), `args.duration`, `.processes` and
    `.connections` say how. `pids`: the server's processes, whose CPU time per session is
    printed (a figure the machine's other load barely moves)."""
    cpu = tree_cpu_seconds(list(pids))
    result = loadgen.run(
        "127.0.0.1",
        port,
        serials,
        fixtures.PASSWORD,
        duration=args.duration,
        processes=args.processes,
        connections=args.connections,
        mode=getattr(args, "mode", "challenged"),
        phase=phase,
        once=phase == "first-contact",
    )
    statuses = result["statuses"]
    print(
        f"{name:<10} {result['per_second']:>8.1f} sessions/s  ({result['sessions']} sessions "
        f"in {result['elapsed']:.1f}s, {result['errors']} failed, {result['challenges']} "
        f"challenges, {result['rpcs']} RPCs, {statuses.get(503, 0)} 503s; statuses {statuses})",
        flush=True,
    )
    if pids and result["sessions"]:
        used = tree_cpu_seconds(list(pids)) - cpu
        result["cpu_per_session_ms"] = used / result["sessions"] * 1000
        print(
            f"{'':<10}   server CPU {used:.1f}s, {result['cpu_per_session_ms']:.2f} ms a session "
            f"({1000 / result['cpu_per_session_ms']:.0f} sessions/s per core)"
        )
    fixtures.print_latency(result)
    return result


def _baseline(env: dict[str, str], home: Path, serials: list[str], args) -> dict | None:
    port = fixtures.free_port()
    workers = env.get("LINESMAN_PROCESSES") or str(os.cpu_count() or 1)
    command = [
        *(sys.executable, "-m", "granian", "--interface", "asgi", "--workers", workers),
        *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-ws"),
        "bench.baseline_asgi:app",
    ]
    server = fixtures.start(command, env, f"http://127.0.0.1:{port}/", home / "baseline.log")
    try:
        return measure("baseline", port, serials, args, "steady", [server.pid])
    finally:
        fixtures.stop(server)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mode", choices=("challenged", "preemptive"), default="challenged")
    parser.add_argument("--phase", choices=("steady", "first-contact"), default="steady")
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="seconds (steady: 60; first contact: at most 600, ends when all onboarded)",
    )
    parser.add_argument("--processes", type=int, default=2, help="load generator processes")
    parser.add_argument("--connections", type=int, default=32, help="per process")
    parser.add_argument("--server-args", default="", help="extra arguments for linesman serve")
    fixtures.add_worker_option(parser)
    parser.add_argument(
        "--with-worker",
        dest="worker",
        action="store_const",
        const="in-process",
        help="the same as --worker in-process",
    )
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the baseline (no ratio printed)"
    )
    args = parser.parse_args()
    if args.duration is None:
        args.duration = 60 if args.phase == "steady" else 600

    home = Path(tempfile.mkdtemp(prefix="linesman-bench-"))
    database = fixtures.fresh_database(home)
    mode = fixtures.worker_mode(database, args.worker)
    try:
        env = fixtures.environment(home, database)
        serials = fixtures.seeded(
            env, database, args.devices, mode, new=args.phase == "first-contact"
        )
        print(f"mode {args.mode}, phase {args.phase}; {_load()}", flush=True)

        base = None
        if not args.no_baseline and args.phase == "steady":
            base = _baseline(env, home, serials, args)

        with fixtures.linesman(env, home, mode, args.server_args) as (port, pids, _):
            ours = measure("linesman", port, serials, args, args.phase, pids)
            rss, pss = fixtures.tree_memory_mb(pids[0])
            print(
                f"server memory: RSS {rss:.0f} MiB, PSS {pss:.0f} MiB (serve and its HTTP "
                f"processes, {args.devices} devices; target RSS < {TARGET_RSS_MB} MiB)",
                flush=True,
            )
        print(f"after the run: {_load()}")
        _summary(args, ours, base)
    finally:
        fixtures.drop_database(database)


def _summary(args, ours: dict, base: dict | None) -> None:
    rate = ours["per_second"]
    if args.phase == "first-contact":
        done = ours["sessions"]
        print(
            f"onboarded  {done} of {args.devices} new devices in {ours['elapsed']:.1f}s "
            f"({rate:.1f} provisioning sessions/s; target {TARGET_FIRST_CONTACT}/s, "
            f"100,000 in < {TARGET_ONBOARD_S}s)"
        )
        if done:
            projected = 100_000 / rate
            print(f"projected  100,000 new devices in {projected:.0f}s at this rate")
        return
    if base is not None and base["per_second"]:
        ratio = rate / base["per_second"]
        print(f"ratio      {ratio:.3f} of the baseline (target {TARGET_RATIO})")
    print(
        f"target     {TARGET_STEADY} {args.mode} sessions/s with no 503; reached {rate:.1f}, "
        f"{ours['statuses'].get(503, 0)} 503s"
    )


if __name__ == "__main__":
    main()
