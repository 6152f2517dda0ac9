"""The `linesman` command: one group, with a module of this package per command group
(serving, accounts, tokens, catalog, devices, jobs, diag, simulate), registered here."""

from __future__ import annotations

import os

import click

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linesman.settings")


@click.group()
@click.version_option(package_name="linesman")
def main() -> None:
    """Linesman: device inventory and TR-069/CWMP ACS for network operators."""


def _register_commands() -> None:
    from linesman.cli.accounts import org, user
    from linesman.cli.catalog import firmware, locations, types
    from linesman.cli.devices import devices, op
    from linesman.cli.diag import diag
    from linesman.cli.jobs import jobs
    from linesman.cli.serving import migrate, serve, worker
    from linesman.cli.simulate import simulate
    from linesman.cli.tokens import token

    for command in (serve, worker, migrate, org, user, token, types, locations, firmware):
        main.add_command(command)
    for command in (devices, op, jobs, diag, simulate):
        main.add_command(command)


_register_commands()

if __name__ == "__main__":
    main()
