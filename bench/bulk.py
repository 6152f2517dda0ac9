"""Bulk job throughput: a reboot job over N simulated devices against a real server.

Starts the server (its own data directory; PostgreSQL/Redis if DATABASE_URL/REDIS_URL are
set), registers N simulated devices through the API, waits until every one has bootstrapped,
then POSTs a reboot job over all of them and prints the time from the POST to the job's
completion, devices per second, whether every device rebooted exactly once, and the CPU each
part spent per device during the job (server, worker, database, Redis, simulator). With
`--jobs N`, N such jobs run one after another on the same fleet (bootstrapping 10,000
devices takes far longer than a job), and their median is printed.

The set-up is README's: on the embedded default, `linesman serve` with its in-process worker;
with `--production` (the default when DATABASE_URL is PostgreSQL), `serve --no-worker` and a
separate `linesman worker`. Everything stays on 127.0.0.1.

    python bench/bulk.py [--devices 10000] [--concurrency 200] [--max-sessions 200]
                         [--jobs N] [--profile DIR]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/0 \
        python bench/bulk.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.bulk.procs import crash  # noqa: E402
from tests.e2e.live import Api, Database, LiveServer, wait_until  # noqa: E402

from bench.fixtures import service_cpu_seconds, tree_cpu_seconds  # noqa: E402
from linesman.simulator.fleet import Fleet, SimulatorThread, register_via_api  # noqa: E402

URL = "/inventory_device_serial_headless_operation/"


def _provisioned(fleet: Fleet) -> int:
    return sum(d.connreq_credentials()[0].startswith("cr-") for d in fleet)


def _progress(label: str, done: int, total: int, started: float) -> None:
    print(f"\r{label}: {done}/{total} ({time.monotonic() - started:.0f} s)", end="", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=200, help="the job's max_concurrency")
    parser.add_argument("--max-sessions", type=int, default=200, help="simulator sessions")
    parser.add_argument(
        "--threads", type=int, help="server HTTP threads a process (default: the server's own)"
    )
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="reboot jobs to run one after another on the same fleet (each must reboot "
        "every device exactly once); their median is printed",
    )
    parser.add_argument(
        "--production",
        action=argparse.BooleanOptionalAction,
        default=os.environ.get("DATABASE_URL", "").startswith("postgres"),
        help="serve --no-worker plus a separate `linesman worker` (default on PostgreSQL)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="sample the server and the worker with py-spy during the job only; their "
        "collapsed stacks go to DIR/server.txt and DIR/worker.txt",
    )
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="linesman-bench-bulk-"))
    database = Database(home)
    server = LiveServer(
        home,
        database,
        extra_env={"LINESMAN_SWEEP_INTERVAL": "5"}
        | ({"LINESMAN_THREADS": str(args.threads)} if args.threads else {}),
        worker=not args.production,
    )
    sim = None
    worker = None
    try:
        server.cli("migrate")
        server.cli("user", "create", "bench", "--superuser")
        token = server.cli_json("token", "create", "--user", "bench")["token"]
        server.start()
        if args.production:
            with open(home / "worker.log", "ab") as log:
                worker = subprocess.Popen(
                    [sys.executable, "-m", "linesman", "worker"],
                    env=server.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
        api = Api(server, token)
        org = api.post("/organization/", json={"name": "Bench"}).json()["id"]
        dtype = api.post("/inventory_type/", json={"short_name": "cpe", "name": "CPE"}).json()
        fleet = Fleet(
            server.url + "/cwmp/",
            args.devices,
            serial_prefix="BN",
            periodic_interval=3600,
            reboot_delay=0.5,
            retry_min_wait=1.0,
            retry_max_wait=10.0,
            max_sessions=args.max_sessions,
            ramp=min(60.0, args.devices / 200),
        )
        started = time.monotonic()
        result = asyncio.run(
            register_via_api(
                server.url,
                token,
                fleet,
                dtype["id"],
                org,
                concurrency=32,
                progress=lambda d, t: d % 250 == 0 and _progress("registered", d, t, started),
            )
        )
        print(f"\nregistered {result.created} devices in {time.monotonic() - started:.0f} s")
        if result.failed:
            print("registration failures:", result.failed[:5])
            return 1
        started = time.monotonic()
        sim = SimulatorThread(fleet)
        sim.start()
        while True:
            done = sim.run(lambda: _provisioned(fleet))
            _progress("bootstrapped", done, args.devices, started)
            if done == args.devices:
                break
            if time.monotonic() - started > args.timeout:
                print("\nbootstrap did not finish")
                return 1
            time.sleep(2)
        wait_until(lambda: not sim.run(lambda: fleet.stats().in_session), timeout=120)
        print(f"\nbootstrapped in {time.monotonic() - started:.0f} s")

        elapsed = []
        for run in range(args.jobs):
            if run:
                # The fleet is back from the last job's reboots before the next one starts.
                wait_until(lambda: not sim.run(lambda: fleet.stats().in_session), timeout=120)
            seconds = _run_job(args, api, server, worker, database, sim, fleet, org, first=not run)
            if seconds is None:
                return 1
            elapsed.append(seconds)
        if args.jobs > 1:
            times = ", ".join(f"{s:.1f}" for s in elapsed)
            print(f"\njobs                 {args.jobs}: {times} s")
            print(f"median               {statistics.median(elapsed):.1f} s")
        return 0
    finally:
        if sim is not None:
            sim.stop(timeout=30)
        if worker is not None:
            worker.kill()
            worker.wait()
        crash(server)  # a throwaway server: no graceful stop needed, nothing left behind
        database.drop()


def _run_job(args, api, server, worker, database, sim, fleet, org, *, first: bool) -> float | None:
    """One reboot job over the whole fleet: its figures printed; the seconds from POST to
    completion, or None when it failed or did not reboot every device exactly once."""
    profilers = _start_profilers(args.profile, server, worker) if args.profile and first else []
    reboots_before = sim.run(lambda: [d.counters.reboots for d in fleet])
    cpu_before = _cpu(server, worker)
    posted = time.monotonic()
    response = api.post(
        URL,
        json={
            "operation_type": "reboot",
            "target_organizations": [org],
            "options": {"max_concurrency": args.concurrency, "timeout_minutes": 30},
        },
    )
    response.raise_for_status()
    job_id = response.json()["id"]
    while True:
        job = api.get(f"{URL}{job_id}/").json()
        _progress(f"job {job_id} {job['status']}", job["processed_devices"], args.devices, posted)
        if job["status"] not in ("scheduled", "in_progress"):
            break
        if time.monotonic() - posted > args.timeout:
            print("\nthe job did not finish in time")
            return None
        time.sleep(1)
    elapsed = time.monotonic() - posted
    cpu = {part: used - cpu_before[part] for part, used in _cpu(server, worker).items()}
    _stop_profilers(profilers)
    after = sim.run(lambda: [d.counters.reboots for d in fleet])
    per_device = [a - b for a, b in zip(after, reboots_before, strict=True)]
    reboots = sum(per_device)
    exactly_once = all(count == 1 for count in per_device)
    print()
    print(f"status               {job['status']}")
    print(f"devices              {job['total_devices']} ({job['failed_devices']} failed)")
    print(f"errors by cause      {job['operation_details']['error_summary']}")
    print(f"peak concurrency     {job['peak_concurrency']} of {args.concurrency}")
    print(f"simulated reboots    {reboots} (every device exactly once: {exactly_once})")
    print(f"database             {'PostgreSQL' if database.pg_name else 'SQLite'}")
    print(f"queue                {'Redis' if os.environ.get('REDIS_URL') else 'SQLite'}")
    print(f"POST to completion   {elapsed:.1f} s")
    print(f"throughput           {args.devices / elapsed:.1f} devices/s")
    print(f"set-up               {'serve --no-worker + worker' if worker else 'serve'}")
    print(
        "CPU ms per device    "
        + ", ".join(f"{part} {seconds * 1000 / args.devices:.1f}" for part, seconds in cpu.items())
    )
    print(f"CPU total            {sum(cpu.values()):.0f} s in {elapsed:.0f} s wall clock")
    _print_timeline(database, job_id)
    if job["status"] != "completed" or not exactly_once:
        return None
    return elapsed


#: When the device's first connection request of the job was answered (and logged).
_CONNREQ = (
    "(SELECT MIN(c.time) FROM cwmp_connectionrequestlog c WHERE c.device_id = t.device_id "
    "AND c.time >= t.started_at)"
)
#: A device's time in a job, phase by phase: (label, from, to), columns of the target (t)
#: and of its operation (o).
_PHASES = [
    ("target started -> connreq answered", "t.started_at", _CONNREQ),
    ("connreq answered -> Reboot sent", _CONNREQ, "o.dispatched_at"),
    ("sent -> device answered (Reboot)", "o.dispatched_at", "o.started_at"),
    ("answered -> back from reboot", "o.started_at", "o.completed_at"),
    ("operation ended -> target recorded", "o.completed_at", "t.finished_at"),
    ("target started -> recorded", "t.started_at", "t.finished_at"),
]


def _print_timeline(database: Database, job_id: int) -> None:
    """Median and p95 of each phase of a device's time in the job, from the database: where
    a concurrency slot's time goes."""
    columns = sorted({c for _, a, b in _PHASES for c in (a, b)})
    sql = (
        f"SELECT {', '.join(columns)} FROM operations_bulkjobtarget t JOIN "
        f"operations_operation o ON o.id = t.operation_id WHERE t.job_id = {int(job_id)}"
    )
    if database.pg_name:
        import psycopg

        with psycopg.connect(database.url.replace("postgres://", "postgresql://")) as conn:
            rows = conn.execute(sql).fetchall()
    else:
        import sqlite3
        from datetime import datetime

        with sqlite3.connect(database.url.removeprefix("sqlite:///")) as conn:
            rows = [
                [datetime.fromisoformat(v) if v else None for v in row]
                for row in conn.execute(sql).fetchall()
            ]
    at = {c: i for i, c in enumerate(columns)}
    print("a device's time in the job (median / p95, s):")
    for label, start, end in _PHASES:
        spans = sorted(
            (row[at[end]] - row[at[start]]).total_seconds()
            for row in rows
            if row[at[start]] and row[at[end]]
        )
        if spans:
            median, p95 = spans[len(spans) // 2], spans[int(len(spans) * 0.95)]
            print(f"  {label:38} {median:6.3f} / {p95:6.3f}")


def _start_profilers(
    into: Path, server: LiveServer, worker: subprocess.Popen | None
) -> list[subprocess.Popen]:
    """py-spy on the server's and the worker's process trees, sampling without pausing them
    (the figures stay close to an unprofiled run's)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    into.mkdir(parents=True, exist_ok=True)
    targets = {"server": server.proc.pid} | ({"worker": worker.pid} if worker else {})
    return [
        subprocess.Popen(
            [spy, "record", "--pid", str(pid), "--subprocesses", "--nonblocking", "--rate", "50"]
            + ["--format", "raw", "--output", str(into / f"{name}.txt")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pid in targets.items()
    ]


def _stop_profilers(profilers: list[subprocess.Popen]) -> None:
    for proc in profilers:
        proc.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
    for proc in profilers:
        proc.wait(60)


def _cpu(server: LiveServer, worker: subprocess.Popen | None) -> dict[str, float]:
    """CPU seconds used so far by each part of the exchange.

    The simulator runs in threads of this process, so this process's own time is the
    simulator's (the benchmark's polling of the API is a few requests a second)."""
    own = os.times()
    parts = {
        "server": tree_cpu_seconds(server.proc.pid),
        "worker": tree_cpu_seconds(worker.pid) if worker else 0.0,
        "database": service_cpu_seconds("postgres"),
        "redis": service_cpu_seconds("redis-server"),
        "simulator": own.user + own.system,
    }
    if not worker:
        del parts["worker"]
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        del parts["database"]  # SQLite runs inside the server's process
    if not os.environ.get("REDIS_URL"):
        del parts["redis"]
    return parts


if __name__ == "__main__":
    sys.exit(main())
