"""What operators feel: one device's action through the API while the fleet informs (issue #17).

    python bench/operators.py [--scenario action|outage] [--devices N] [--duration 60]
                              [--rate SESSIONS_PER_S] [--backoff-scale 0.1]

Both scenarios run against the production set-up of `bench/inform.py` (PostgreSQL and Redis
when DATABASE_URL and REDIS_URL say so: `serve --no-worker` plus a separate `linesman
worker`; the embedded SQLite: `serve` with its in-process worker), with N seeded,
provisioned devices driven by `bench/loadgen.py`, plus ONE real simulated device
(`linesman.simulator`, registered through the API, answering connection requests on
127.0.0.1). The operator's action, made every 2 s through the REST API with an API token
and timed end to end, alternates between
- a variables write (PUT /api/v1/inventory_device_variables/{id}/: SetParameterValues
  queued and a connection request sent to the device), and
- a WHIP sync (GET /api/v1/inventory_device_whip/{id}/?operation=sync: the configuration
  read after a connection request),
each until its operation is `completed` as the API shows it (polled every 50 ms); a
failed, timed-out or refused action counts as a failure.

The capacity is the steady challenged sessions/s of a short load generator run
(`--capacity-duration`, 15 s) in the same run, unless `--rate` gives it.

`--scenario action` (the default; 20,000 devices): the load generator informs at 80 % of
the capacity (a limit on sessions started per second) for `--duration` seconds while the
actions run. Prints the actions' p50 / p99 / max and failures against the targets
(p50 < 1 s, p99 < 3 s), and the load's sessions/s and 503s.

`--scenario outage` (100,000 devices): the power comes back and every device informs
`1 BOOT` at once, one session each, through `--storm-connections` connections per load
generator process. A device that is refused (503, a connection error, no answer within
`--session-timeout`) retries as TR-069 section 3.2.1.1 says (a random wait in
[m*k^(n-1), m*k^n] s, m = 5, k = 2, n capped at 10), or after the ACS's Retry-After,
both multiplied by `--backoff-scale` (0.1 by default, to keep a run short); no device is
given up on, the run ends when every device had its session (or at `--time-limit`).
Prints the time until the whole population was served, the ideal time N / capacity and the
ratio, retries, 503s, and the actions' latency during the storm (target < 5 s).

A load step beyond capacity is the same storm through more connections than the server
can serve at once, `--storm-connections 1500` (3,000 with two load processes): the ACS
must refuse new sessions (503, Retry-After) rather than let devices time out, and serve
everyone once the step has passed; the retries, 503s and timeouts lines show which.

Small runs, to try it:

    python bench/operators.py --devices 2000 --duration 20
    python bench/operators.py --scenario outage --devices 5000
"""

# Not `operator.py`: run as `python bench/X.py`, a script's folder comes first on sys.path,
# and a bench/operator.py would stand in for the standard library's `operator` in every
# benchmark (bench/inform.py failed at its first import).

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(_ROOT, "src"), _ROOT]

import httpx  # noqa: E402

from bench import fixtures, inform, loadgen  # noqa: E402
from linesman.simulator.fleet import Fleet, SimulatorThread, register_via_api  # noqa: E402

TARGET_P50_S = 1.0
TARGET_P99_S = 3.0
TARGET_STORM_S = 5.0
LOAD_SHARE = 0.8  # of the measured capacity, while the actions run
ACTION_EVERY_S = 2.0
POLL_S = 0.05
ACTIVE = ("initiated", "dispatched", "in_progress")
SSID = "Device.WiFi.SSID.1.SSID"
PROBE_PREFIX = "OPS"


@dataclass
class Action:
    kind: str  # "write" or "sync"
    seconds: float
    outcome: str  # the operation's final status, or why the action failed

    @property
    def ok(self) -> bool:
        return self.outcome == "completed"


@dataclass
class Actions:
    done: list[Action] = field(default_factory=list)

    def summary(self, target: str) -> str:
        times = [a.seconds for a in self.done]
        failed = [a for a in self.done if not a.ok]
        why: dict[str, int] = {}
        for action in failed:
            why[action.outcome] = why.get(action.outcome, 0) + 1
        kinds = ", ".join(
            f"{kind} p50 {_p(k_times, 0.5):.2f}s"
            for kind in ("write", "sync")
            if (k_times := [a.seconds for a in self.done if a.kind == kind])
        )
        return (
            f"actions    {len(self.done)} ({kinds}): p50 {_p(times, 0.5):.2f}s  "
            f"p99 {_p(times, 0.99):.2f}s  max {max(times, default=float('nan')):.2f}s; "
            f"{len(failed)} failed{f' {why}' if why else ''}; target {target}"
        )


def _p(values: list[float], fraction: float) -> float:
    return loadgen.percentile(values, fraction)


class Probe:
    """The one simulated device, and the operator's actions on it through the REST API."""

    def __init__(self, base_url: str, token: str, backoff_scale: float) -> None:
        self.base_url = base_url
        self.token = token
        self.api = httpx.Client(
            base_url=base_url + "/api/v1",
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=30,
            trust_env=False,  # never through a proxy from the environment
        )
        # The device retries a failed session with the same scaled TR-069 back-off as the
        # load generator's devices in the outage.
        self.fleet = Fleet(
            base_url + "/cwmp/",
            1,
            serial_prefix=PROBE_PREFIX,
            periodic_interval=3600,
            retry_min_wait=loadgen.RETRY_MIN_WAIT * backoff_scale,
            retry_max_wait=600 * backoff_scale,
        )
        self.sim: SimulatorThread | None = None
        self.pk = 0
        self.count = 0

    def start(self, timeout: float = 120) -> None:
        """Register the device, power it on and wait until it is provisioned and idle."""
        org = self.api.get("/organization/").json()["results"][0]["id"]
        dtype = self.api.post(
            "/inventory_type/", json={"short_name": "sim_gateway", "name": "Simulated gateway"}
        )
        dtype.raise_for_status()
        result = asyncio.run(
            register_via_api(self.base_url, self.token, self.fleet, dtype.json()["id"], org)
        )
        if result.failed:
            raise RuntimeError(f"registering the simulated device failed: {result.failed}")
        device = self.fleet.devices[0]
        found = self.api.get(f"/inventory_device_serial/{device.serial}/")
        found.raise_for_status()
        self.pk = found.json()["id"]
        self.sim = SimulatorThread(self.fleet)
        self.sim.start()
        ready = self.sim.wait_until(
            lambda: device.connreq_credentials()[0].startswith("cr-") and not device.in_session,
            timeout=timeout,
            interval=0.2,
        )
        if not ready:
            raise RuntimeError(f"the simulated device was not provisioned in {timeout:.0f}s")

    def stop(self) -> None:
        if self.sim is not None:
            self.sim.stop()
        self.api.close()

    def act(self, timeout: float) -> Action:
        """The next action (a variables write, then a sync, in turn), timed end to end."""
        self.count += 1
        kind = "write" if self.count % 2 else "sync"
        started = time.perf_counter()
        try:
            if kind == "write":
                response = self.api.put(
                    f"/inventory_device_variables/{self.pk}/",
                    json=[{"variable_name": SSID, "value": f"operator-{self.count}"}],
                )
                operation_id = response.json().get("operation_id") if response.is_success else ""
            else:
                response = self.api.get(
                    f"/inventory_device_whip/{self.pk}/", params={"operation": "sync"}
                )
                details = response.json().get("operation_details", {})
                operation_id = details.get("operation_id") if response.is_success else ""
            if not operation_id:
                return Action(kind, time.perf_counter() - started, f"HTTP {response.status_code}")
            outcome = self._wait(operation_id, started, timeout)
        except (httpx.HTTPError, ValueError) as exc:
            outcome = type(exc).__name__
        return Action(kind, time.perf_counter() - started, outcome)

    def _wait(self, operation_id: str, started: float, timeout: float) -> str:
        """The operation's final status (polled), or `timeout` after cancelling it."""
        while time.perf_counter() - started < timeout:
            ops = self.api.get(f"/inventory_device/{self.pk}/operations/", params={"limit": 5})
            ops.raise_for_status()
            op = next((o for o in ops.json()["results"] if o["operation_id"] == operation_id), {})
            if op and op["status"] not in ACTIVE:
                return op["status"]
            time.sleep(POLL_S)
        # Leave no active operation behind: the next action would be refused (409).
        with contextlib.suppress(httpx.HTTPError):
            self.api.post(f"/operations/{operation_id}/cancel/")
        return "timeout"

    def act_while(self, busy: Future, timeout: float, start_after: float = 1.0) -> Actions:
        """An action every ACTION_EVERY_S seconds (or right after the previous one, if it
        took longer) until `busy` is done."""
        actions = Actions()
        due = time.monotonic() + start_after
        while not busy.done():
            wait = due - time.monotonic()
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    busy.exception(timeout=wait)  # returns early when the load ends
                continue
            actions.done.append(self.act(timeout))
            due += ACTION_EVERY_S
        return actions


def cli_token(server_env: dict[str, str], user: str = "bench") -> str:
    """An API token for `user` (the seeds' superuser), made with the CLI."""
    result = subprocess.run(
        [sys.executable, "-m", "linesman", "token", "create", "--user", user, "--json"],
        env=server_env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)["token"]


def capacity(port: int, serials: list[str], args, pids: list[int]) -> float:
    """Steady challenged sessions/s, measured with a short run (or `--rate`)."""
    if args.rate:
        print(f"capacity   {args.rate:.1f} sessions/s (given by --rate)", flush=True)
        return args.rate
    run = argparse.Namespace(
        duration=args.capacity_duration,
        processes=args.processes,
        connections=args.connections,
        mode="challenged",
    )
    return inform.measure("capacity", port, serials, run, "steady", pids)["per_second"]


def scenario_action(port: int, serials: list[str], probe: Probe, rate: float, args) -> None:
    target = rate * LOAD_SHARE
    print(
        f"load       {target:.1f} sessions/s ({LOAD_SHARE:.0%} of {rate:.1f}) for "
        f"{args.duration:.0f}s; an action every {ACTION_EVERY_S:.0f}s meanwhile",
        flush=True,
    )
    with ThreadPoolExecutor(1) as pool:
        load = pool.submit(
            loadgen.run,
            *("127.0.0.1", port, serials, fixtures.PASSWORD),
            duration=args.duration,
            processes=args.processes,
            connections=args.load_connections,
            rate=target,
        )
        actions = probe.act_while(load, timeout=args.action_timeout)
        result = load.result()
    statuses = result["statuses"]
    print(
        f"load       {result['per_second']:.1f} sessions/s reached ("
        f"{result['per_second'] / rate:.0%} of the capacity; target {target:.1f}); "
        f"{result['sessions']} sessions, {result['errors']} failed, {statuses.get(503, 0)} "
        f"503s; statuses {statuses}"
    )
    fixtures.print_latency(result)
    print(actions.summary(f"p50 < {TARGET_P50_S:.0f}s, p99 < {TARGET_P99_S:.0f}s"))


def scenario_outage(port: int, serials: list[str], probe: Probe, rate: float, args) -> None:
    n = len(serials)
    connections = args.processes * args.storm_connections
    print(
        f"outage     {n} devices inform 1 BOOT at once through {connections} connections; "
        f"back-off scale {args.backoff_scale} (TR-069 5-10 s first retry -> "
        f"{5 * args.backoff_scale:g}-{10 * args.backoff_scale:g} s), Retry-After scaled the "
        f"same; session timeout {args.session_timeout:g}s, time limit {args.time_limit:g}s",
        flush=True,
    )
    with ThreadPoolExecutor(1) as pool:
        storm = pool.submit(
            loadgen.storm,
            *("127.0.0.1", port, serials, fixtures.PASSWORD),
            processes=args.processes,
            connections=args.storm_connections,
            backoff_scale=args.backoff_scale,
            time_limit=args.time_limit,
            timeout=args.session_timeout,
        )
        actions = probe.act_while(storm, timeout=args.action_timeout, start_after=0.5)
        result = storm.result()
    served_at = result["served_at"]
    ideal = n / rate if rate else float("nan")
    whole = result["all_served_s"]
    if whole is None:
        print(f"served     {result['served']} of {n} devices by the time limit: NOT all served")
    else:
        print(
            f"served     all {n} devices in {whole:.1f}s; ideal {ideal:.1f}s at "
            f"{rate:.1f} sessions/s; ratio {whole / ideal:.2f} of the ideal"
        )
    marks = ", ".join(
        f"{share:.0%} by {served_at[min(n, int(share * n)) - 1]:.1f}s"
        for share in (0.5, 0.9, 0.99)
        if served_at and int(share * n) and int(share * n) <= len(served_at)
    )
    statuses = result["statuses"]
    print(
        f"{'':<10} {marks}; {result['per_second']:.1f} sessions/s on average; statuses {statuses}"
    )
    print(
        f"retries    {result['retries']} ({result['retried_devices']} devices retried, at most "
        f"{result['most_retries']} times one device); {statuses.get(503, 0)} 503s, "
        f"{result['timeouts']} timeouts, {result['connection_errors']} connection errors; "
        f"no device given up on"
    )
    fixtures.print_latency(result)
    print(actions.summary(f"< {TARGET_STORM_S:.0f}s during the storm"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", choices=("action", "outage"), default="action")
    parser.add_argument(
        "--devices", type=int, default=None, help="seeded devices (action 20,000; outage 100,000)"
    )
    parser.add_argument(
        "--duration", type=float, default=60, help="seconds of load with actions (action)"
    )
    parser.add_argument(
        "--rate", type=float, default=None, help="the capacity in sessions/s (else measured)"
    )
    parser.add_argument("--capacity-duration", type=float, default=15, help="seconds")
    parser.add_argument("--processes", type=int, default=2, help="load generator processes")
    parser.add_argument(
        "--connections", type=int, default=32, help="per process (the capacity run)"
    )
    parser.add_argument(
        "--load-connections",
        type=int,
        default=64,
        help="per process (the load at 80 %%: devices keep informing while the server is slow)",
    )
    parser.add_argument("--storm-connections", type=int, default=128, help="per process (outage)")
    parser.add_argument(
        "--backoff-scale", type=float, default=0.1, help="multiplies the CWMP retry waits"
    )
    parser.add_argument(
        "--session-timeout", type=float, default=30, help="a device's wait for an answer (s)"
    )
    parser.add_argument("--time-limit", type=float, default=1800, help="the outage's at most (s)")
    parser.add_argument(
        "--action-timeout", type=float, default=60, help="an action counts as failed after (s)"
    )
    parser.add_argument("--server-args", default="", help="extra arguments for linesman serve")
    fixtures.add_worker_option(parser)
    args = parser.parse_args()
    if args.devices is None:
        args.devices = 20_000 if args.scenario == "action" else 100_000

    home = Path(tempfile.mkdtemp(prefix="linesman-bench-operator-"))
    database = fixtures.fresh_database(home)
    mode = fixtures.worker_mode(database, args.worker)
    try:
        env = fixtures.environment(home, database)
        serials = fixtures.seeded(env, database, args.devices, mode)
        print(f"scenario {args.scenario}; {inform._load()}", flush=True)
        with fixtures.linesman(env, home, mode, args.server_args) as (port, pids, server_env):
            probe = Probe(f"http://127.0.0.1:{port}", cli_token(server_env), args.backoff_scale)
            try:
                probe.start()
                print(f"simulated device {probe.fleet.devices[0].serial} provisioned", flush=True)
                rate = capacity(port, serials, args, pids)
                if args.scenario == "action":
                    scenario_action(port, serials, probe, rate, args)
                else:
                    scenario_outage(port, serials, probe, rate, args)
            finally:
                probe.stop()
        print(f"after the run: {inform._load()}")
    finally:
        fixtures.drop_database(database)


if __name__ == "__main__":
    main()
