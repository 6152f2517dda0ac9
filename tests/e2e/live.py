"""A real `linesman serve` in a subprocess on 127.0.0.1, for end-to-end tests.

Each server gets its own data directory and, when the suite runs on PostgreSQL, its own
freshly created database; its task queue is the real one (SQLite file, or Redis with a
queue name of its own).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Database:
    """A database for one live server: a SQLite file, or a new PostgreSQL database."""

    def __init__(self, home: Path):
        base = os.environ.get("DATABASE_URL", "")
        self.pg_name = None
        if base.startswith("postgres"):
            self.pg_name = f"linesman_e2e_{uuid.uuid4().hex[:10]}"
            self._admin(f'CREATE DATABASE "{self.pg_name}"')
            parsed = urlparse(base)
            self.url = urlunparse(parsed._replace(path="/" + self.pg_name))
        else:
            self.url = f"sqlite:///{home / 'linesman.sqlite3'}"

    @staticmethod
    def _admin(sql: str) -> None:
        import psycopg

        parsed = urlparse(os.environ["DATABASE_URL"])
        admin = urlunparse(parsed._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql)

    def drop(self) -> None:
        if self.pg_name:
            self._admin(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')


class LiveServer:
    def __init__(
        self,
        home: Path,
        database: Database | None = None,
        extra_env: dict | None = None,
        worker: bool = True,
    ):
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database = database or Database(home)
        self.env = {k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"}
        self.env.update(
            LINESMAN_HOME=str(home),
            DATABASE_URL=self.database.url,
            LINESMAN_BIND=f"127.0.0.1:{self.port}",
            LINESMAN_QUEUE_NAME=f"e2e-{uuid.uuid4().hex[:8]}",
            LINESMAN_SECRET_KEY="e2e-secret-key-" + "x" * 40,
            LINESMAN_SWEEP_INTERVAL="1",
            LINESMAN_LOG_LEVEL="WARNING",
            # Simulated devices listen for connection requests on 127.0.0.1.
            LINESMAN_CONNREQ_ALLOW_LOOPBACK="true",
            # No STUN server unless a test asks for one: UDP 3478 can have one owner only.
            LINESMAN_STUN_BIND="off",
        )
        self.env.update(extra_env or {})
        self.worker = worker
        self.proc: subprocess.Popen | None = None
        self.log_path = home / f"serve-{self.port}.log"

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "linesman", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise AssertionError(f"linesman {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    def cli_json(self, *args: str) -> dict:
        return json.loads(self.cli(*args, "--json"))

    def start(self) -> LiveServer:
        cmd = [sys.executable, "-m", "linesman", "serve"]
        if not self.worker:
            cmd.append("--no-worker")
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the fd
            self.proc = subprocess.Popen(cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        wait_until(self._ready, timeout=60, what=f"server on {self.url} (log {self.log_path})")
        return self

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"server exited early:\n{self.log_path.read_text()[-3000:]}")
        try:
            return httpx.get(self.url + "/", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()


class Api:
    """An httpx client for the live server's API with a token."""

    def __init__(self, server: LiveServer, token: str):
        self.client = httpx.Client(
            base_url=server.url + "/api/v1",
            timeout=30,
            headers={"Authorization": f"Bearer {token}"},
        )

    def __getattr__(self, name):
        return getattr(self.client, name)
