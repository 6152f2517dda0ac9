"""The HTTP server's command line: granian must read every connection, so that an
overloaded ACS refuses sessions itself (503 with Retry-After) instead of leaving devices
unread until they time out (granian's default admits backlog / processes requests at once,
1,024 here, and an outage storm holds thousands of connections)."""

from __future__ import annotations

import dataclasses

from linesman import server


def _option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_granian_takes_in_thousands_of_requests_at_once_per_process(settings):
    settings.CONFIG = dataclasses.replace(settings.CONFIG, acs_max_sessions=1024)
    command = server.granian_command()
    assert int(_option(command, "--backpressure")) >= 8 * 1024
    assert command[-1] == "linesman.wsgi:application"


def test_granian_reads_every_session_a_larger_acs_limit_admits(settings):
    settings.CONFIG = dataclasses.replace(settings.CONFIG, acs_max_sessions=50_000)
    assert int(_option(server.granian_command(), "--backpressure")) >= 100_000


def test_the_threads_asked_for_are_the_threads_granian_runs(settings):
    assert _option(server.granian_command(threads=3), "--blocking-threads") == "3"
