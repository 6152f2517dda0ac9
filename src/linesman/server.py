"""Running Linesman: the HTTP server (granian, or waitress) with an optional in-process task
worker, and the STUN server for devices behind NAT.

The STUN server (UDP, `LINESMAN_STUN_BIND`) runs in the process `linesman serve` starts
with: exactly one per node, beside however many HTTP processes granian forks, and never in
`linesman worker` (a node runs both, and the port can have one owner only).
"""

from __future__ import annotations

import logging
import signal
import sys

from django.conf import settings

from linesman.housekeeping import Housekeeper

log = logging.getLogger("linesman.server")


def _consumer(workers: int | None):
    from django.utils.module_loading import autodiscover_modules
    from huey.contrib.djhuey import HUEY

    # Register every app's tasks: this process may never import them otherwise.
    autodiscover_modules("tasks")

    # An idle worker polls the SQLite queue, waiting longer after each empty poll (Huey's
    # default: up to 10 s), so a task queued after a quiet spell (a bulk job's next
    # connection request) waited 5 s on average. Half a second at most costs a few small
    # queries a second when idle. Redis needs no polling: its workers block on the queue.
    polling = {} if settings.CONFIG.redis_url else {"initial_delay": 0.05, "max_delay": 0.5}
    return HUEY.create_consumer(
        workers=workers or settings.CONFIG.workers,
        worker_type="thread",
        periodic=True,
        check_worker_health=True,
        **polling,
    )


def banner(host: str, port: int, worker: bool) -> str:
    base = settings.LINESMAN_PUBLIC_URL
    db = (
        "SQLite " + settings.DATABASES["default"]["NAME"]
        if settings.CONFIG.is_sqlite
        else ("PostgreSQL " + str(settings.DATABASES["default"].get("NAME")))
    )
    queue = "Redis" if settings.CONFIG.redis_url else "SQLite " + str(settings.CONFIG.queue_path)
    return "\n".join(
        [
            f"Linesman is listening on {host}:{port}",
            f"  API        {base}/api/v1/",
            f"  API docs   {base}/api/v1/docs/",
            f"  Dashboard  {base}/ui/",
            f"  Admin      {base}/admin/",
            f"  ACS URL    {base}/cwmp/   (point devices' ManagementServer.URL here)",
            f"  Database   {db}",
            f"  Tasks      {queue}, worker {'in this process' if worker else 'separate'}",
            "First admin and API token:",
            "  linesman user create admin --superuser --password 'choose-one'",
            "  linesman token create --user admin",
            "Then: curl -H 'Authorization: Bearer <token>' " + f"{base}/api/v1/inventory_device/",
        ]
    )


class AddressInUse(Exception):
    pass


def check_address_free(host: str, port: int) -> None:
    """Refuse to start on an address something already listens on.

    Granian binds with SO_REUSEPORT, so a second server on a busy port would start, print
    "listening" and share the port with the first, each getting some of the requests.
    A plain bind (no SO_REUSEPORT; SO_REUSEADDR only passes over TIME_WAIT) fails then.
    """
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise AddressInUse(
                    f"{host}:{port} is already in use (another linesman serve?); "
                    "stop it or choose another address with --bind or LINESMAN_BIND"
                ) from None
            raise AddressInUse(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def start_stun():
    """The STUN server on LINESMAN_STUN_BIND, started (None when it is `off`)."""
    from linesman.reach.stunserver import StunServer

    bind = settings.CONFIG.stun_bind
    if bind is None:
        return None
    try:
        stun = StunServer(*bind).start()
    except OSError as exc:
        raise SystemExit(
            f"cannot run the STUN server on UDP {bind[0]}:{bind[1]}: {exc.strerror}; choose "
            "another address with LINESMAN_STUN_BIND, or `off`"
        ) from None
    host, port = stun.address
    print(f"STUN server (UDP) on {host}:{port} for devices behind NAT", flush=True)
    return stun


def run(worker: bool = True, threads: int | None = None) -> None:
    """Serve until SIGINT/SIGTERM with the configured HTTP server (and the STUN server)."""
    from linesman.observability import metrics

    metrics.fresh_dir()  # counters of an earlier run's processes must not linger
    stun = start_stun()
    try:
        if settings.CONFIG.server == "granian":
            run_granian(worker=worker, threads=threads)
        else:
            run_waitress(worker=worker, threads=threads)
    finally:
        if stun is not None:
            stun.stop()


#: Requests granian takes in at once per HTTP process. Its default (backlog / processes:
#: 1,024 here) leaves every connection beyond that unread until one of the others closes:
#: in an outage storm of 3,000 connections, 1,400-2,900 devices waited 30 s and timed out,
#: unseen by the ACS, whose shedding (`cwmp.admission`) never engaged. With room for every
#: connection the ACS sees them all, and once saturated it refuses new sessions with 503
#: and Retry-After, which devices honour (bench/operators.py --scenario outage
#: --storm-connections 1500: no device timed out, every one served). Never below twice
#: the sessions the ACS admits (`LINESMAN_ACS_MAX_SESSIONS`), whose requests must all be
#: read, with room for the new sessions it refuses.
HTTP_BACKPRESSURE = 16384


def granian_command(threads: int | None = None) -> list[str]:
    """The command line of granian serving Linesman as configured."""
    config = settings.CONFIG
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--host",
        config.bind_host,
        "--port",
        str(config.bind_port),
        "--workers",
        str(config.processes),
        "--blocking-threads",
        str(threads or config.threads),
        "--backlog",
        "2048",
        "--backpressure",
        str(max(HTTP_BACKPRESSURE, 2 * config.acs_max_sessions)),
        "--no-ws",
        "--log-level",
        "warning",
        "--respawn-failed-workers",
        "--workers-kill-timeout",
        "10",
        "linesman.wsgi:application",
    ]


def run_granian(worker: bool = True, threads: int | None = None) -> None:
    """HTTP in granian worker processes (both cores, no GIL contention between them); the
    task worker and housekeeping run in this process, which supervises the server."""
    import os
    import subprocess

    config = settings.CONFIG
    command = granian_command(threads)
    consumer = _consumer(None) if worker else None
    keeper = Housekeeper(config.sweep_interval) if worker else None
    from linesman.core import lifeline

    # Granian's main process dies with this one, and its workers with it (see lifeline).
    serve = os.getpid()
    child = subprocess.Popen(
        command,
        env={**os.environ, lifeline.ENV: "1"},
        preexec_fn=lambda: lifeline.die_with_parent(serve),
    )

    def stop(signum, frame):
        raise SystemExit(0)

    if consumer is not None:
        consumer.start()
        keeper.start()
    # After the consumer started: it installs signal handlers of its own.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    _wait_listening(config.bind_host, config.bind_port, child)
    print(banner(config.bind_host, config.bind_port, worker), flush=True)
    code = 0
    try:
        code = child.wait()
    except SystemExit:
        pass
    finally:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
        if consumer is not None:
            keeper.stop()
            consumer.stop(graceful=True)
    sys.exit(code)


def _wait_listening(host: str, port: int, child) -> None:
    import socket
    import time

    target = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SystemExit(f"the HTTP server exited at start (code {child.returncode})")
        try:
            with socket.create_connection((target, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the HTTP server did not start listening on {host}:{port}")


def run_waitress(worker: bool = True, threads: int | None = None) -> None:
    """Serve in this process with waitress (pure Python, threads)."""
    from waitress.server import create_server

    from linesman.wsgi import application

    config = settings.CONFIG
    server = create_server(
        application,
        host=config.bind_host,
        port=config.bind_port,
        threads=threads or config.threads,
        connection_limit=1000,
        channel_timeout=120,
        ident="linesman",
        clear_untrusted_proxy_headers=True,
    )
    consumer = _consumer(None) if worker else None
    keeper = Housekeeper(config.sweep_interval) if worker else None
    if consumer is not None:
        consumer.start()
        keeper.start()

    def stop(signum, frame):
        server.close()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    bound_port = server.effective_port
    print(banner(config.bind_host, bound_port, worker), flush=True)
    try:
        server.run()
    except SystemExit:
        pass
    finally:
        if consumer is not None:
            keeper.stop()
            consumer.stop(graceful=True)
    sys.exit(0)


def run_worker_forever(workers: int | None = None) -> None:
    consumer = _consumer(workers)
    Housekeeper(settings.CONFIG.sweep_interval).start()
    print(f"Linesman worker running with {consumer.workers} threads", flush=True)
    consumer.run()
