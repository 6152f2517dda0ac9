"""Inform throughput: complete periodic-inform sessions per second against Linesman.

    python bench/inform.py [--devices 100000] [--duration 60] [--processes 2]

Measures, in one run: a minimal ASGI app answering the same two requests with fixed bytes
(the baseline: what this machine and this load generator reach at best), then a
`linesman serve` set up as README recommends for production, with Digest auth and each
device's state updated in the database. Prints sessions/s and the ratio to the baseline.
Set DATABASE_URL=postgres://... to measure on PostgreSQL (a fresh database is created).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import fixtures, loadgen  # noqa: E402


def measure(name: str, port: int | list[int], serials: list[str], args, digest: bool) -> dict:
    """Run the load generator against `port` (several: alternating) and print the figures."""
    result = loadgen.run(
        "127.0.0.1",
        port,
        serials,
        fixtures.PASSWORD,
        duration=args.duration,
        processes=args.processes,
        connections=args.connections,
        digest=digest,
    )
    print(
        f"{name:<12} {result['per_second']:>9.1f} sessions/s  "
        f"({result['sessions']} sessions, {result['errors']} errors, "
        f"statuses {result['statuses']})",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--processes", type=int, default=2, help="load generator processes")
    parser.add_argument("--connections", type=int, default=32, help="per process")
    parser.add_argument("--server-args", default="", help="extra arguments for linesman serve")
    parser.add_argument(
        "--with-worker",
        action="store_true",
        help="serve with the in-process task worker (the embedded default) instead of "
        "--no-worker (production, as README recommends)",
    )
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the baseline (no ratio printed)"
    )
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="linesman-bench-"))
    database = fixtures.fresh_database(home)
    try:
        env = fixtures.environment(home, database)
        started = time.monotonic()
        fixtures.seed_devices(env, args.devices)
        print(
            f"seeded {args.devices} devices in {time.monotonic() - started:.1f}s "
            f"({'PostgreSQL' if database.startswith('postgres') else 'SQLite'})",
            flush=True,
        )
        serials = [f"BENCH{i:07d}" for i in range(args.devices)]

        base = {"per_second": 0}
        port = fixtures.free_port()
        baseline = (
            None
            if args.no_baseline
            else fixtures.start(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "bench.baseline_asgi:app",
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                ],
                env,
                f"http://127.0.0.1:{port}/",
                home / "baseline.log",
            )
        )
        if baseline is not None:
            try:
                base = measure("baseline", port, serials, args, digest=False)
            finally:
                fixtures.stop(baseline)

        port = fixtures.free_port()
        server_env = {**env, "LINESMAN_BIND": f"127.0.0.1:{port}"}
        server = fixtures.start(
            [
                sys.executable,
                "-m",
                "linesman",
                "serve",
                *([] if args.with_worker else ["--no-worker"]),
                *args.server_args.split(),
            ],
            server_env,
            f"http://127.0.0.1:{port}/",
            home / "serve.log",
        )
        try:
            ours = measure("linesman", port, serials, args, digest=True)
            rss, pss = fixtures.tree_memory_mb(server.pid)
            print(
                f"server memory: RSS {rss:.0f} MiB, PSS {pss:.0f} MiB (all processes; "
                f"target < 300 MiB)",
                flush=True,
            )
        finally:
            fixtures.stop(server)
        if base["per_second"]:
            ratio = ours["per_second"] / base["per_second"]
            print(f"ratio      {ratio:.3f} of the baseline (target 0.1)")
        print(f"target     1000 sessions/s; reached {ours['per_second']:.1f}")
    finally:
        fixtures.drop_database(database)


if __name__ == "__main__":
    main()
