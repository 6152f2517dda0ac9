"""`linesman serve`, `worker` and `migrate`: the server and the task worker."""

from __future__ import annotations

import os

import click

from linesman.cli.setup import check_database as _check_database
from linesman.cli.setup import migrate as _migrate
from linesman.cli.setup import setup as _setup


@click.command()
@click.option("--bind", help="host:port to listen on (default: LINESMAN_BIND or 127.0.0.1:8000)")
@click.option("--no-worker", is_flag=True, help="Do not run the task worker in this process")
@click.option("--threads", type=int, help="HTTP worker threads (default: LINESMAN_THREADS)")
def serve(bind: str | None, no_worker: bool, threads: int | None) -> None:
    """Apply migrations, then serve the API, docs, admin and ACS (and run the task worker)."""
    from linesman.conf import ConfigError, parse_bind

    if bind:
        try:
            parse_bind(bind, "--bind")
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
        os.environ["LINESMAN_BIND"] = bind
    _setup()
    from django.conf import settings

    from linesman import server

    try:
        server.check_address_free(settings.CONFIG.bind_host, settings.CONFIG.bind_port)
    except server.AddressInUse as exc:
        raise click.ClickException(str(exc)) from None
    _check_database()
    _migrate()
    server.run(worker=not no_worker, threads=threads)


@click.command()
@click.option("--workers", type=int, help="Worker threads (default: LINESMAN_WORKERS)")
def worker(workers: int | None) -> None:
    """Run the task worker alone (for deployments with separate worker nodes)."""
    _setup()
    _check_database()
    from linesman import server

    server.run_worker_forever(workers)


@click.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    _setup()
    _check_database()
    _migrate(verbosity=1)
