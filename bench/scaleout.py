"""Scale-out: inform throughput of one node, then of two behind a round-robin proxy.

    REDIS_URL=redis://127.0.0.1:6379/0 DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        python bench/scaleout.py [--devices 100000] [--duration 30] [--processes-per-node 1]

Sets up what a scaled-out installation runs: PostgreSQL and Redis shared by a separate
`linesman worker` and `linesman serve --no-worker` nodes. Measures complete periodic-inform
sessions (bench/loadgen.py, Digest auth) through HAProxy balancing every request round-robin
(no stickiness, so an Inform and the empty POST after it usually reach different nodes):
first with one node behind it, then with two, and prints the ratio. Without haproxy on
PATH the load generator itself alternates requests between the nodes.

Every node gets `--processes-per-node` HTTP processes (default 1: on one 2-core machine a
node of one process leaves the other core for the second node, which is the growth this
measures). Afterwards it checks that nothing broke: no status but 200/204 (and 503
shedding), every node and the worker still running, and the devices' last-seen stamps
written in the database.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import fixtures  # noqa: E402
from bench.inform import measure  # noqa: E402

HAPROXY_CONFIG = """
global
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    option http-keep-alive
    http-reuse always
frontend acs
    bind 127.0.0.1:{port}
    default_backend nodes
backend nodes
    balance roundrobin
{servers}
"""


def start_proxy(home: Path, port: int, node_ports: list[int]) -> subprocess.Popen | None:
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        return None
    servers = "\n".join(
        f"    server node{i} 127.0.0.1:{p} maxconn 64" for i, p in enumerate(node_ports)
    )
    config = home / f"haproxy-{len(node_ports)}.cfg"
    config.write_text(HAPROXY_CONFIG.format(port=port, servers=servers))
    with open(home / "haproxy.log", "ab") as log:
        proc = subprocess.Popen(
            [haproxy, "-db", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
    fixtures.wait_http(f"http://127.0.0.1:{port}/")
    return proc


def start_node(env: dict[str, str], home: Path, processes: int) -> tuple[int, subprocess.Popen]:
    port = fixtures.free_port()
    node_env = {
        **env,
        "LINESMAN_BIND": f"127.0.0.1:{port}",
        "LINESMAN_PROCESSES": str(processes),
        # One UDP port 3478 per machine: the second node's STUN server would not start.
        "LINESMAN_STUN_BIND": "off",
    }
    proc = fixtures.start(
        [sys.executable, "-m", "linesman", "serve", "--no-worker"],
        node_env,
        f"http://127.0.0.1:{port}/",
        home / f"serve-{port}.log",
    )
    return port, proc


def stamped_since(database: str, since: float) -> int:
    import psycopg

    with psycopg.connect(database) as conn:
        row = conn.execute(
            "SELECT count(*) FROM inventory_device WHERE last_connection >= to_timestamp(%s)",
            [since],
        ).fetchone()
    return row[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--processes-per-node", type=int, default=1)
    parser.add_argument("--processes", type=int, default=2, help="load generator processes")
    parser.add_argument("--connections", type=int, default=32, help="per load process")
    args = parser.parse_args()

    if not fixtures.database_is_postgres() or not fixtures.redis_url():
        print("set DATABASE_URL=postgres://... and REDIS_URL=redis://... (shared by the nodes)")
        return 2
    home = Path(tempfile.mkdtemp(prefix="linesman-bench-scaleout-"))
    database = fixtures.fresh_database(home)
    procs: list[subprocess.Popen] = []
    try:
        env = fixtures.environment(home, database, REDIS_URL=fixtures.redis_url())
        fixtures.seed_devices(env, args.devices)
        serials = [f"BENCH{i:07d}" for i in range(args.devices)]
        with open(home / "worker.log", "ab") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "linesman", "worker"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        procs.append(worker)
        first_port, first = start_node(env, home, args.processes_per_node)
        second_port, second = start_node(env, home, args.processes_per_node)
        procs += [first, second]
        use_proxy = shutil.which("haproxy") is not None
        print(
            f"{args.devices} devices on PostgreSQL, queue on Redis, a separate worker; nodes of "
            f"{args.processes_per_node} HTTP process(es); balancing by "
            f"{'HAProxy round-robin' if use_proxy else 'the load generator (no haproxy)'}",
            flush=True,
        )
        started = time.time()
        results = []
        for nodes in ([first_port], [first_port, second_port]):
            proxy_port = fixtures.free_port()
            proxy = start_proxy(home, proxy_port, nodes) if use_proxy else None
            try:
                ports = [proxy_port] if proxy else nodes
                results.append(measure(f"{len(nodes)} node(s)", ports, serials, args))
            finally:
                if proxy is not None:
                    fixtures.stop(proxy)
        one, two = results
        ratio = two["per_second"] / one["per_second"] if one["per_second"] else 0
        print(f"ratio two nodes / one node    {ratio:.2f}")

        time.sleep(1)  # let the nodes' batched last-seen stamps reach the database
        sessions = one["sessions"] + two["sessions"]
        expected = args.devices * (1 - (1 - 1 / args.devices) ** sessions)
        stamped = stamped_since(database, started)
        unexpected = {
            code: n
            for r in results
            for code, n in r["statuses"].items()
            if code not in (200, 204, 401, 503)  # 401: the challenge each session takes
        }
        alive = all(p.poll() is None for p in procs)
        print(f"devices stamped               {stamped} (about {expected:.0f} expected)")
        print(f"unexpected statuses           {unexpected or 'none'}")
        print(f"nodes and worker still up     {'yes' if alive else 'NO'}")
        ok = alive and not unexpected and stamped >= 0.97 * expected
        print("nothing broke" if ok else "SOMETHING BROKE: see the logs in " + str(home))
        return 0 if ok else 1
    finally:
        for proc in reversed(procs):
            fixtures.stop(proc)
        fixtures.drop_database(database)


if __name__ == "__main__":
    sys.exit(main())
