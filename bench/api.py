"""API latency over a large inventory: the device list with each seed filter, and detail.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/api.py [--devices 1000000]

Creates a fresh PostgreSQL database with N devices (inserted set-wise by the database
itself), starts `linesman serve`, and times requests one at a time (so the figures are
latencies, not throughput): p50 and p99 per query, against the targets of the
performance issue. The baseline in the same run is the root endpoint (routing and
middleware with no database work), so figures can be compared across machines.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import fixtures  # noqa: E402

SEED_SQL = f"""
INSERT INTO inventory_device ({fixtures.DEVICE_COLUMNS}, software_version,
    udp_connection_request_address, xmpp_jid, manufacturer, product_class, unique_identifier,
    address, hardware_version)
SELECT md5(g::text)::uuid, (SELECT min(id) FROM tenancy_organization) + mod(g, %(orgs)s),
       'dev-' || g, 'CUST-' || g, '',
       (SELECT min(id) FROM inventory_devicetype) + mod(g, %(types)s),
       'SN' || lpad(g::text, 9, '0'),
       '', true, CASE WHEN mod(g, 10) < 8 THEN 'Up' ELSE 'Down' END,
       now() - mod(g, 100000) * interval '1 second', '', '', '', '', false, '', '', '', '',
       '', '', 'Device.', 300, now(), false, now() - mod(g, 600) * interval '1 second', '1.0.0',
       '', '', '', '', '', '', ''
FROM generate_series(1, %(count)s) AS g
"""


#: Nine more organizations and four more device types, for the filters to choose among.
ORGS_SQL = (
    "INSERT INTO tenancy_organization (name, description, created) "
    "SELECT 'Org ' || g, '', now() FROM generate_series(2, 10) g"
)
TYPES_SQL = (
    "INSERT INTO inventory_devicetype (short_name, name, manufacturer, product_class, "
    "settings_template, allow_basic_auth, connection_request_methods, created) "
    "SELECT 'type' || g, 'Type ' || g, '', '', '{}', false, 'http', now() "
    "FROM generate_series(2, 5) g"
)


def seed(env: dict, count: int) -> str:
    token = fixtures.seed_devices(env, 0)  # migrations, an organization, a type, a token
    import psycopg

    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute(ORGS_SQL)
        conn.execute(TYPES_SQL)
        conn.execute(SEED_SQL, {"orgs": 10, "types": 5, "count": count})
        # VACUUM as well: autovacuum keeps a live table vacuumed, and without the visibility
        # map it leaves, counts cannot use index-only scans (the bounded count then reads the
        # table: 11-39 ms instead of 1-2 ms here).
        conn.execute("VACUUM ANALYZE")
    return token


def timings(client: httpx.Client, path: str, params: dict, n: int) -> list[float]:
    client.get(path, params=params)  # warm
    out = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(path, params=params)
        out.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path} {params}: {response.status_code} {response.text[:200]}")
    return out


def report(
    name: str, values: list[float], p50_target: float | None = None, p99_target: float | None = None
) -> None:
    values = sorted(values)
    p50 = statistics.median(values)
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    verdict = ""
    if p50_target is not None:
        ok = p50 <= p50_target and (p99_target is None or p99 <= p99_target)
        verdict = "ok" if ok else "MISSED"
    print(f"{name:<44} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  {verdict}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="linesman-bench-api-"))
    database = fixtures.fresh_database(home)
    if not database.startswith("postgres"):
        sys.exit("bench/api.py needs DATABASE_URL=postgres://... (it seeds with SQL)")
    try:
        env = fixtures.environment(home, database)
        started = time.monotonic()
        token = seed(env, args.devices)
        print(f"seeded {args.devices} devices in {time.monotonic() - started:.1f}s", flush=True)
        port = fixtures.free_port()
        server = fixtures.start(
            [sys.executable, "-m", "linesman", "serve", "--no-worker"],
            {**env, "LINESMAN_BIND": f"127.0.0.1:{port}"},
            f"http://127.0.0.1:{port}/",
            home / "serve.log",
        )
        try:
            client = httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=60,
            )
            n = args.requests
            report("baseline: GET / (no database)", timings(client, "/", {}, n))
            lst = "/api/v1/inventory_device/"
            cases = {
                "list limit=50": {"limit": 50},
                "list status=1": {"status": 1, "limit": 50},
                "list status=0": {"status": 0, "limit": 50},
                "list type=<id>": {"type": 2, "limit": 50},
                "list organization=<id>": {"organization": 2, "limit": 50},
                "list last_status_change_from=<1h ago>": {
                    "last_status_change_from": time.strftime(
                        "%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 3600)
                    ),
                    "limit": 50,
                },
                "list status=1&organization&limit=25": {
                    "status": 1,
                    "organization": 3,
                    "limit": 25,
                },
                "list pending=true limit=50": {"pending": "true", "limit": 50},
                "list offset=500000 limit=50": {"limit": 50, "offset": 500000},
            }
            for name, params in cases.items():
                report(name, timings(client, lst, params, n), 25, 100)
            report(
                "list limit=1000 (count + a large page)",
                timings(client, lst, {"limit": 1000}, max(20, n // 10)),
            )
            detail_id = min(12345, max(1, args.devices // 2))
            report("detail", timings(client, f"{lst}{detail_id}/", {}, n), 10, None)
        finally:
            fixtures.stop(server)
    finally:
        fixtures.drop_database(database)


if __name__ == "__main__":
    main()
