"""Benchmark set-up shared by the benchmarks: a database full of devices, servers to measure.

Runs Linesman's own code (settings, migrations, services) in a child process so each
benchmark starts from a fresh database of the size it asks for.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx

PASSWORD = "bench-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_is_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith("postgres")


def redis_url() -> str | None:
    return os.environ.get("REDIS_URL") or None


def fresh_database(home: Path) -> str:
    """A new PostgreSQL database if DATABASE_URL names a server, else a SQLite file."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        return f"sqlite:///{home / 'bench.sqlite3'}"
    import psycopg

    name = f"linesman_bench_{uuid.uuid4().hex[:8]}"
    parsed = urlparse(base)
    with psycopg.connect(urlunparse(parsed._replace(path="/postgres")), autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return urlunparse(parsed._replace(path="/" + name))


def drop_database(url: str) -> None:
    if not url.startswith("postgres"):
        return
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(urlunparse(parsed._replace(path="/postgres")), autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def environment(home: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"}
    env.update(
        LINESMAN_HOME=str(home),
        DATABASE_URL=database_url,
        LINESMAN_SECRET_KEY="bench-secret-key-" + "b" * 40,
        LINESMAN_LOG_LEVEL="WARNING",
        LINESMAN_QUEUE_NAME=f"bench-{uuid.uuid4().hex[:6]}",
        # Simulated devices listen for connection requests on 127.0.0.1.
        LINESMAN_CONNREQ_ALLOW_LOOPBACK="true",
    )
    env.update(extra)
    return env


#: Columns a set-wise insert of devices fills (the benchmarks' seeds; the rest default).
DEVICE_COLUMNS = """
    uuid, organization_id, name, customer_id, description, type_id, serial_number,
    serial_number_alt, is_active, status, status_change, oui, location_name, latitude,
    longitude, firmware_image_is_pending, username, password_encrypted,
    connection_request_url, connection_request_username,
    connection_request_password_encrypted, cwmp_version, data_model_root, update_frequency,
    created, debug, last_connection"""

# What bench/loadgen.py's Inform reports, so that a session finds nothing changed but the
# time the device was last seen: the steady state of periodic informs.
PG_INSERT = f"""
INSERT INTO inventory_device ({DEVICE_COLUMNS}, udp_connection_request_address, xmpp_jid,
    manufacturer, product_class,
    unique_identifier, address, software_version, hardware_version)
SELECT md5(%(prefix)s || g::text)::uuid, %(org)s, s, '', '', %(type)s, s, '', true, 'Up',
       %(seen)s, '00AABB', '', '', '', false, s, %(secret)s, 'http://127.0.0.1:9/' || s, 'cr',
       %(secret)s, '1.0', 'Device.', 300, now(), false, %(seen)s, '', '', 'Bench', 'BenchGW',
       '00AABB-BenchGW-' || s, '127.0.0.1', '1.0.0', 'hw1'
FROM (SELECT g, %(prefix)s || lpad(g::text, 7, '0') AS s
      FROM generate_series(0, %(count)s - 1) AS g) AS numbered
"""

SEED_SCRIPT = (
    r"""
import sys, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from linesman.core import crypto
from linesman.inventory.models import Device, DeviceType
from linesman.tenancy import services
from linesman.tenancy.models import Organization
count, prefix, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
org = Organization.objects.first() or services.create_organization("Bench")
dtype = DeviceType.objects.first() or DeviceType.objects.create(short_name="bench", name="Bench")
secret = crypto.encrypt(password)
from datetime import timedelta
from django.utils import timezone
# Already provisioned, Up and seen a minute ago: the steady state of periodic sessions.
seen = timezone.now() - timedelta(minutes=1)
batch = []
from django.db import connection
if connection.vendor == "postgresql" and count:
    # Set-wise in the database: a 100,000-device fleet in seconds rather than minutes.
    with connection.cursor() as cursor:
        cursor.execute(PG_INSERT, {"org": org.pk, "type": dtype.pk, "prefix": prefix,
                                   "secret": secret, "seen": seen, "count": count})
        cursor.execute("ANALYZE inventory_device")
    count = 0
for i in range(count):
    serial = f"{prefix}{i:07d}"
    batch.append(Device(organization=org, type=dtype, name=serial, serial_number=serial,
                        username=serial, password_encrypted=secret,
                        connection_request_username="cr",
                        connection_request_password_encrypted=secret, last_connection=seen,
                        is_active=True, data_model_root="Device.", update_frequency=300,
                        status="Up", status_change=seen, oui="00AABB", manufacturer="Bench",
                        product_class="BenchGW", unique_identifier="00AABB-BenchGW-" + serial,
                        address="127.0.0.1", software_version="1.0.0", hardware_version="hw1",
                        connection_request_url="http://127.0.0.1:9/" + serial,
                        cwmp_version="1.0"))
    if len(batch) == 5000:
        Device.objects.bulk_create(batch)
        batch = []
Device.objects.bulk_create(batch)
if len(sys.argv) > 4 and sys.argv[4] == "new":
    # Registered but never seen: their first Inform is a first contact (provisioning).
    Device.objects.update(last_connection=None, connection_request_username="",
                          connection_request_password_encrypted="")
user = services.create_user("bench", superuser=True)
print(services.create_token(user).clear)
"""
).replace("PG_INSERT", repr(PG_INSERT))


def seed_devices(env: dict[str, str], count: int, prefix: str = "BENCH", new: bool = False) -> str:
    """Create `count` devices (one shared password, encrypted as usual); returns a token.
    `new`: never seen and not provisioned, so that their first Inform is a first contact."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            SEED_SCRIPT,
            str(count),
            prefix,
            PASSWORD,
            *(["new"] if new else []),
        ],
        env={**env, "DJANGO_SETTINGS_MODULE": "linesman.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def start(cmd: list[str], env: dict[str, str], url: str, log: Path) -> subprocess.Popen:
    with open(log, "ab") as handle:
        proc = subprocess.Popen(cmd, env=env, stdout=handle, stderr=subprocess.STDOUT)
    wait_http(url)
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def tree_memory_mb(pid: int) -> tuple[float, float]:
    """Resident memory of a process and all its descendants, in MiB: (RSS, PSS).

    RSS counts pages the processes share (forked server workers share much of the
    interpreter and libraries) once per process; PSS divides each shared page among its
    sharers, so it sums to what the tree really holds."""
    rss = pss = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            with open(f"/proc/{current}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
            with open(f"/proc/{current}/task/{current}/children") as children:
                pids.extend(int(c) for c in children.read().split())
        except OSError:
            continue
    return rss / 1024, pss / 1024


def _proc_cpu(pid: int, children_too: bool) -> float:
    """CPU seconds (user + system) a process used; with its reaped children's when asked."""
    with open(f"/proc/{pid}/stat") as stat:
        # The command name may hold spaces: the fields we want come after its closing ')'.
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if children_too:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used by a process and all its descendants, living or reaped."""
    total = 0.0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            total += _proc_cpu(current, children_too=True)
            with open(f"/proc/{current}/task/{current}/children") as children:
                pids.extend(int(c) for c in children.read().split())
        except OSError:
            continue
    return total


def service_cpu_seconds(name: str) -> float:
    """CPU seconds used by every process called `name` (e.g. postgres, redis-server).

    A server's exited workers are counted through their parent's reaped-children time, so the
    sum covers connections that came and went during a measurement."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as comm:
                if comm.read().strip() != name:
                    continue
            total += _proc_cpu(int(entry), children_too=True)
        except OSError:
            continue
    return total


def add_worker_option(parser) -> None:
    """`--worker separate|in-process`, read by `worker_mode`."""
    parser.add_argument(
        "--worker",
        choices=("separate", "in-process"),
        default=None,
        help="task worker: a separate `linesman worker` (default on PostgreSQL) or serve's "
        "own (default on SQLite, the embedded set-up)",
    )


def print_latency(result: dict) -> None:
    """The load generator's p50 and p99 per kind of request."""
    for kind, (count, p50, p99) in result["latency_ms"].items():
        print(f"{'':<10}   {kind:<9} {count:>8} requests  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms")


def worker_mode(database_url: str, asked: str | None) -> str:
    """README's set-up: a separate `linesman worker` on PostgreSQL, serve's own on SQLite."""
    return asked or ("separate" if database_url.startswith("postgres") else "in-process")


def seeded(env: dict[str, str], database_url: str, count: int, mode: str, **seed) -> list[str]:
    """Seed `count` devices, print what the run stands on; their serial numbers."""
    started = time.monotonic()
    seed_devices(env, count, **seed)
    engine = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    queue = "Redis" if redis_url() else "SQLite"
    print(
        f"seeded {count} devices in {time.monotonic() - started:.1f}s on {engine} "
        f"(queue {queue}, worker {mode})",
        end="; ",
        flush=True,
    )
    return [f"BENCH{i:07d}" for i in range(count)]


def worker(env: dict[str, str], home: Path) -> subprocess.Popen:
    """A separate `linesman worker` (the production set-up's task worker)."""
    with open(home / "worker.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "linesman", "worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


@contextlib.contextmanager
def linesman(env: dict[str, str], home: Path, mode: str, server_args: str = ""):
    """`serve` on a free port (with `--no-worker` and a separate `linesman worker` in the
    "separate" mode); yields the port, the processes (for their CPU time) and the
    server's environment."""
    port = free_port()
    # No STUN server: its UDP port is the machine's one, which another serve may hold.
    server_env = {**env, "LINESMAN_BIND": f"127.0.0.1:{port}", "LINESMAN_STUN_BIND": "off"}
    command = [sys.executable, "-m", "linesman", "serve", *server_args.split()]
    if mode == "separate":
        command.append("--no-worker")
    task_worker = worker(server_env, home) if mode == "separate" else None
    server = None
    try:
        server = start(command, server_env, f"http://127.0.0.1:{port}/", home / "serve.log")
        yield port, [server.pid, *([task_worker.pid] if task_worker else [])], server_env
    finally:
        if server is not None:
            stop(server)
        if task_worker is not None:
            stop(task_worker)
