"""End to end: each remote operation, through each entry point, on simulated devices."""

from __future__ import annotations

import threading

import pytest

from tests.e2e.live import wait_until

pytestmark = pytest.mark.e2e


def up_devices(api, count: int) -> list[dict]:
    return wait_until(
        lambda: (
            (r := api.get("/inventory_device/", params={"status": 1}).json()["results"])
            and len(r) == count
            and r
        ),
        timeout=30,
        what=f"{count} devices Up",
    )


def last_op(api, pk: int) -> dict:
    return api.get(f"/inventory_device/{pk}/operations/").json()["results"][0]


def wait_op(api, pk: int, state: str = "completed", timeout: float = 30) -> dict:
    def done():
        op = last_op(api, pk)
        return op if op["status"] not in ("initiated", "dispatched", "in_progress") else None

    op = wait_until(done, timeout=timeout, what=f"operation on device {pk} to finish")
    assert op["status"] == state, op
    return op


def test_reboot_by_id_completes_and_the_device_rebooted(platform, start_fleet):
    api = platform["api"]
    sim = start_fleet(1)
    record = up_devices(api, 1)[0]
    sim_device = sim.fleet.devices[0]
    response = api.put(f"/inventory_device_operation/{record['id']}/", json={"operation": "reboot"})
    assert response.status_code == 200
    assert response.json()["status"] == "initiated"
    op = wait_op(api, record["id"])
    assert op["operation_id"] == response.json()["operation_id"]
    assert sim.run(lambda: sim_device.counters.reboots) == 1
    reboot_rpc = [e for e in sim.run(lambda: sim_device.journal) if e.method == "Reboot"]
    assert reboot_rpc and reboot_rpc[0].args.get("command_key") == op["operation_id"]


def test_factory_wipes_settings_device_factory_reapplies_them(platform, start_fleet):
    api = platform["api"]
    sim = start_fleet(2)
    a, b = sorted(up_devices(api, 2), key=lambda r: r["serial_number"])
    ssid = "Device.WiFi.SSID.1.SSID"
    for record in (a, b):
        response = api.patch(
            f"/inventory_device_setting/{record['id']}/",
            json=[{"variable_name": ssid, "value": "Linesman-" + record["name"]}],
        )
        assert response.status_code == 200
        assert (
            api.patch(f"/inventory_device/{record['id']}/", json={"reconf": True}).status_code
            == 200
        )
    for record in (a, b):
        wait_op(api, record["id"])
    dev_a, dev_b = sim.fleet.device(a["serial_number"]), sim.fleet.device(b["serial_number"])
    assert sim.run(lambda: dev_a.get(ssid)) == "Linesman-" + a["name"]

    # factory by serial: the device resets AND our stored settings are wiped.
    response = api.put(
        f"/inventory_device_serial_operation/{a['serial_number']}/", json={"operation": "factory"}
    )
    assert response.status_code == 200
    wait_op(api, a["id"])
    assert sim.run(lambda: dev_a.counters.factory_resets) == 1
    assert api.get("/inventory_device_setting/", params={"parent_id": a["id"]}).json()["count"] == 0
    assert sim.run(lambda: dev_a.get(ssid)) != "Linesman-" + a["name"]

    # device_factory by PATCH: the device resets, our settings stay and are re-applied.
    assert (
        api.patch(f"/inventory_device/{b['id']}/", json={"device_factory": True}).status_code == 200
    )
    wait_op(api, b["id"])
    assert sim.run(lambda: dev_b.counters.factory_resets) == 1
    settings = api.get("/inventory_device_setting/", params={"parent_id": b["id"]}).json()
    assert settings["count"] == 1 and settings["results"][0]["pending"] is False
    assert sim.run(lambda: dev_b.get(ssid)) == "Linesman-" + b["name"]


def test_sync_by_whip_reads_the_configuration(platform, start_fleet):
    api = platform["api"]
    sim = start_fleet(1)
    record = up_devices(api, 1)[0]
    sim.wait_until(
        lambda: (
            sim.fleet.devices[0]
            .get(sim.fleet.devices[0].ms("ConnectionRequestUsername"))
            .startswith("cr-")
        ),
        timeout=20,
    )
    response = api.get(f"/inventory_device_whip/{record['id']}/", params={"operation": "sync"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["device_info"]["serial_number"] == record["serial_number"]
    assert body["operation_details"]["operation_id"].startswith("op_")
    wait_op(api, record["id"])
    detail = api.get(f"/inventory_device/{record['id']}/").json()
    assert detail["last_configuration"] is not None
    variables = api.get(
        f"/inventory_device_variables/{record['id']}/", params={"prefix": "Device.DeviceInfo."}
    ).json()
    names = {v["variable_name"]: v["value"] for v in variables["results"]}
    assert names["Device.DeviceInfo.SerialNumber"] == record["serial_number"]
    status = api.get(f"/inventory_device_whip/{record['id']}/").json()
    assert status["last_operation"]["result"] == "success"
    assert status["device_info"]["online_status"] == "online"


def test_variables_put_sets_the_value_on_the_device(platform, start_fleet):
    api = platform["api"]
    sim = start_fleet(1)
    record = up_devices(api, 1)[0]
    name = "Device.WiFi.SSID.1.SSID"
    response = api.put(
        f"/inventory_device_serial_variables/{record['serial_number']}/",
        json={"variable_name": name, "value": "from-api"},
    )
    assert response.status_code == 200, response.text
    wait_op(api, record["id"])
    device = sim.fleet.devices[0]
    assert sim.run(lambda: device.get(name)) == "from-api"


def test_firmware_upgrade_changes_the_version(platform, start_fleet, tmp_path):
    api = platform["api"]
    sim = start_fleet(1)
    record = up_devices(api, 1)[0]
    image = tmp_path / "fw.bin"
    image.write_bytes(b"LINESMAN-FIRMWARE 2.0.0\n" + b"\x00" * 4096)
    with image.open("rb") as handle:
        uploaded = api.post(
            "/inventory_firmware_image/",
            data={"device_type": platform["type"], "version": "2.0.0"},
            files={"file": handle},
        )
    assert uploaded.status_code == 201, uploaded.text
    response = api.patch(
        f"/inventory_device/{record['id']}/",
        json={"firmware_image": uploaded.json()["id"], "firmware_image_is_pending": True},
    )
    assert response.status_code == 200
    assert "firmware_update" in response.json()["pending_settings"]
    wait_op(api, record["id"], timeout=40)
    detail = api.get(f"/inventory_device/{record['id']}/").json()
    assert detail["software_version"] == "2.0.0"
    assert detail["firmware_image_is_pending"] is False
    assert sim.run(lambda: sim.fleet.devices[0].firmware) == "2.0.0"


def test_unreachable_device_whip_503_async_runs_at_next_inform(platform, start_fleet):
    api = platform["api"]
    sim = start_fleet(1)
    record = up_devices(api, 1)[0]
    device = sim.fleet.devices[0]
    # Its first session (the bootstrap) over, the device informs every 300 s: no session of
    # its own can take up the WHIP operation before the connection request fails.
    wait_until(
        lambda: sim.run(lambda: device.counters.sessions_ok) >= 1,
        timeout=30,
        what="the bootstrap session to end",
    )
    sim.run(lambda: setattr(device, "reject_auth", True))  # connection requests fail
    whip = api.get(f"/inventory_device_whip/{record['id']}/", params={"operation": "reboot"})
    assert whip.status_code == 503
    assert last_op(api, record["id"])["status"] == "cancelled"
    response = api.put(f"/inventory_device_operation/{record['id']}/", json={"operation": "reboot"})
    assert response.status_code == 200
    assert sim.run(lambda: device.counters.reboots) == 0
    sim.run(lambda: sim.fleet.agent(device.serial).kick())  # the device's next contact
    wait_op(api, record["id"], timeout=40)
    assert sim.run(lambda: device.counters.reboots) == 1


def test_concurrent_requests_one_wins(platform, start_fleet):
    api = platform["api"]
    created = api.post(
        "/inventory_device/",
        json={
            "name": "race",
            "serial_number": "RACE1",
            "type": platform["type"],
            "organization_id": platform["org"],
        },
    ).json()
    barrier = threading.Barrier(2)
    codes = []

    def request(kind):
        from tests.e2e.live import Api

        client = Api(platform["server"], platform["token"])
        barrier.wait()
        codes.append(
            client.put(
                f"/inventory_device_operation/{created['id']}/", json={"operation": kind}
            ).status_code
        )

    threads = [threading.Thread(target=request, args=(k,)) for k in ("reboot", "sync")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200, 409]
