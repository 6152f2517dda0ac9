"""End to end: a firmware upgrade started by the local command line, against a server on
another port than the command line's own defaults, reaches the device with the server's
URL (issue 11: the URL is decided where the Download RPC is built, in the server)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.e2e.live import wait_until

pytestmark = pytest.mark.e2e


def test_local_cli_firmware_upgrade_downloads_from_the_servers_port(
    platform, start_fleet, tmp_path
):
    server, api = platform["server"], platform["api"]
    assert not server.url.endswith(":8000")
    sim = start_fleet(1, prefix="FWE")
    device = sim.fleet.devices[0]
    record = wait_until(
        lambda: (r := api.get("/inventory_device/", params={"status": 1}).json()["results"]) and r,
        timeout=30,
        what="the device Up",
    )[0]
    image = tmp_path / "fw.bin"
    image.write_bytes(b"LINESMAN-FIRMWARE 3.1.0\n" + b"\x00" * 2048)
    with image.open("rb") as handle:
        uploaded = api.post(
            "/inventory_firmware_image/",
            data={"device_type": platform["type"], "version": "3.1.0"},
            files={"file": handle},
        )
    assert uploaded.status_code == 201, uploaded.text

    # The command line shares the server's data (home, database, queue, key) but not its
    # bind address: left to itself it would think the server is on 127.0.0.1:8000.
    env = {k: v for k, v in server.env.items() if k not in ("LINESMAN_BIND", "LINESMAN_PUBLIC_URL")}
    result = subprocess.run(
        [sys.executable, "-m", "linesman", "op", record["serial_number"], "firmware"]
        + ["--image", "3.1.0", "--wait", "--timeout", "90"],
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert result.returncode == 0, (result.stdout, result.stderr)

    downloads = [e for e in sim.run(lambda: device.journal) if e.method == "Download"]
    assert downloads, "the device never received a Download"
    assert downloads[0].args["url"].startswith(server.url + "/firmware/"), downloads[0].args
    assert sim.run(lambda: device.firmware) == "3.1.0"
    detail = api.get(f"/inventory_device/{record['id']}/").json()
    assert detail["software_version"] == "3.1.0"
    assert detail["firmware_image"] == uploaded.json()["id"]
    assert detail["firmware_image_is_pending"] is False
    assert detail["firmware_upgrade"]["status"] == "completed"
    assert detail["firmware_upgrade"]["url"].startswith(server.url + "/firmware/")
