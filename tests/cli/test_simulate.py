"""`linesman simulate` fails loudly when --register creates nothing."""

from __future__ import annotations

import socket

from click.testing import CliRunner

from linesman.simulator.cli import simulate


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_register_that_creates_nothing_exits_1_with_one_line():
    api = f"http://127.0.0.1:{_closed_port()}"
    result = CliRunner().invoke(
        simulate,
        [
            "--acs",
            "http://127.0.0.1:1/cwmp/",
            "--devices",
            "2",
            "--register",
            "--api",
            api,
            "--token",
            "t",
            "--type",
            "no_such_type",
            "--org",
            "1",
            "--duration",
            "5",
        ],
    )
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith("Error: registered none of 2 devices (")
    assert "summary" not in result.output
