"""A live Linesman with users of each role and simulated devices, for browser and CLI tests.

Built on tests/e2e/live.py (the real `linesman serve` in a subprocess) and the CPE
simulator. One stack per test module: starting it costs a few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.live import Api, Database, LiveServer, wait_until

PASSWORD = "dashboard-pass-1"
#: Where the simulated devices sit on the map (a small metro area), by index.
COORDINATES = [
    ("40.7128", "-74.0060"),
    ("40.7306", "-73.9352"),
    ("40.6782", "-73.9442"),
    ("40.7580", "-73.9855"),
    ("40.6500", "-73.9500"),
    ("40.8448", "-73.8648"),
]


@dataclass
class Stack:
    server: LiveServer
    database: Database
    root_token: str
    org_id: int
    type_id: int
    tokens: dict[str, str] = field(default_factory=dict)  # username -> API token
    devices: list[dict] = field(default_factory=list)  # inventory records, by serial
    sim: object | None = None

    @property
    def url(self) -> str:
        return self.server.url

    def api(self, username: str = "root") -> Api:
        return Api(self.server, self.root_token if username == "root" else self.tokens[username])

    def stop(self) -> None:
        if self.sim is not None:
            self.sim.stop()
        # `linesman serve` runs the HTTP server as a child process. Stopping that child
        # first lets `serve` return at once, and makes sure no server outlives the test
        # even when `serve` does not act on SIGTERM (it must be killed after a delay).
        children = _children(self.server.proc.pid) if self.server.proc else []
        for pid in children:
            _signal(pid, signal.SIGTERM)
        self.server.stop()
        for pid in children:
            if not _gone(pid, timeout=5):
                _signal(pid, signal.SIGKILL)
        self.database.drop()


def _children(pid: int) -> list[int]:
    """Direct children of a process (Linux /proc), without extra packages."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The command name may hold spaces and parentheses: the fields after it count.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return True
        time.sleep(0.05)
    return False


#: Run once in the server's environment: the schema, then the organization, users and
#: tokens, printed as JSON. One process instead of one `linesman` command each saves
#: several seconds of start-up.
SETUP = """
import json, os, sys, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linesman.settings")
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from linesman.tenancy import services
org = services.create_organization("NOC Org")
password = os.environ["STACK_PASSWORD"]
root = services.create_user("root", password=password, superuser=True)
tokens = {"root": services.create_token(root).clear}
for name in sys.argv[1:]:
    user = services.create_user(name, password=password, organization=org, role=name)
    tokens[name] = services.create_token(user).clear
print(json.dumps({"org": org.pk, "tokens": tokens}))
"""


def start(
    home: Path, *, devices: int = 3, users: tuple[str, ...] = ("operator", "viewer")
) -> Stack:
    """Start a server with an organization "NOC Org", a device type, a superuser `root` and
    one user per role named in `users` (named after the role; password PASSWORD, an API
    token each), and `devices` simulated devices, Up."""
    database = Database(home)
    server = LiveServer(home, database)
    result = subprocess.run(
        [sys.executable, "-c", SETUP, *users],
        env={**server.env, "STACK_PASSWORD": PASSWORD},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    tokens = created["tokens"]
    server.start()
    stack = Stack(server, database, tokens.pop("root"), created["org"], 0, tokens)
    try:
        api = stack.api()
        stack.type_id = api.post(
            "/inventory_type/", json={"short_name": "sim_gateway", "name": "Simulated gateway"}
        ).json()["id"]
        if devices:
            _start_fleet(stack, devices)
    except BaseException:
        stack.stop()
        raise
    return stack


def _start_fleet(stack: Stack, count: int) -> None:
    from linesman.simulator.fleet import Fleet, SimulatorThread, register_via_api

    fleet = Fleet(
        stack.url + "/cwmp/",
        count,
        serial_prefix="NOC",
        periodic_interval=300,
        reboot_delay=0.2,
        retry_min_wait=0.5,
        retry_max_wait=2.0,
    )
    result = asyncio.run(
        register_via_api(stack.url, stack.root_token, fleet, stack.type_id, stack.org_id)
    )
    assert result.created == count, result.failed[:3]
    api = stack.api()
    records = api.get("/inventory_device/", params={"limit": 1000}).json()["results"]
    for index, record in enumerate(sorted(records, key=lambda r: r["serial_number"])):
        lat, lon = COORDINATES[index % len(COORDINATES)]
        api.patch(
            f"/inventory_device/{record['id']}/",
            json={"latitude": lat, "longitude": lon, "customer_id": f"CUST-{index + 1:03d}"},
        )
    stack.sim = SimulatorThread(fleet)
    stack.sim.start()
    stack.devices = wait_until(
        lambda: (
            (r := api.get("/inventory_device/", params={"status": 1}).json()["results"])
            and len(r) == count
            and sorted(r, key=lambda d: d["serial_number"])
        ),
        timeout=30,
        what=f"{count} simulated devices Up",
    )
