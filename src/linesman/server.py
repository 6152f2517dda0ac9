"""Running Linesman: the HTTP server (waitress) with an optional in-process task worker."""

from __future__ import annotations

import logging
import signal
import sys

from django.conf import settings

from linesman.housekeeping import Housekeeper

log = logging.getLogger("linesman.server")


def _consumer(workers: int | None):
    from huey.contrib.djhuey import HUEY

    return HUEY.create_consumer(
        workers=workers or settings.CONFIG.workers,
        worker_type="thread",
        periodic=True,
        check_worker_health=True,
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


def run(worker: bool = True, threads: int | None = None) -> None:
    """Serve until SIGINT/SIGTERM; the worker (if any) stops cleanly with the server."""
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
