"""Fixtures of the CLI tests: a CliRunner that invokes `linesman` in this process."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from linesman.cli.main import main


class Run:
    """`run("devices", "list", "--json")` -> the click Result; `.json()` parses stdout."""

    def __init__(self, env: dict[str, str] | None = None):
        self.runner = CliRunner()
        self.env = {"LINESMAN_URL": "", "LINESMAN_TOKEN": "", **(env or {})}

    def __call__(self, *args: str, input: str | None = None):
        result = self.runner.invoke(main, list(args), env=self.env, input=input)
        result.json = lambda: json.loads(result.stdout)
        return result


@pytest.fixture
def run(db):
    """The CLI in local mode, on the test database."""
    return Run()
