"""Take the README's dashboard screenshots (docs/dashboard*.png) from the current code.

Starts a real `linesman serve` on 127.0.0.1 with simulated devices (the browser tests' live
stack, tests/dashboard/live_stack.py), adds a few recorded devices that never connect (so
the fleet has Down devices), a location, a device type and a firmware image, then drives
Debian's headless Chromium with Selenium through the pages the README shows:

  docs/dashboard.png          the fleet overview
  docs/dashboard-device.png   a device page, editing a parameter in place
  docs/dashboard-job.png      a bulk reboot job at 100%
  docs/dashboard-map.png      the map
  docs/dashboard-phone.png    a device page at 390 x 844 (a phone)
  docs/dashboard-catalog.png  the Catalog, as an organization admin

Run from the repository root, with chromium and chromedriver installed (`bash .ci/browsers
.venv`):

    PYTHONPATH=src .venv/bin/python tools/screenshots.py [--out docs] [--devices 6]

Nothing leaves the machine: the server, the devices and the browser talk on 127.0.0.1, and
the map is drawn without tiles (LINESMAN_MAP_TILE_URL is cleared for the server). Look at
every PNG before committing it: the script checks what each page must show, not its looks.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the live stack lives with the tests
    sys.path.insert(0, str(ROOT))

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
WIDTH, HEIGHT = 1440, 900
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
#: The recorded devices that never connect: Down, at a second place on the map.
PARIS = {"name": "Paris office", "short_name": "paris", "lat": "48.8566", "lon": "2.3522"}


class Browser:
    """Headless Chromium on the stack, with waits on conditions and full-page shots."""

    def __init__(self, base_url: str) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in (
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            f"--window-size={WIDTH},{HEIGHT}",
        ):
            options.add_argument(arg)
        # Given the driver's path, Selenium Manager never looks for (or downloads) one.
        self.driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        self.base_url = base_url

    def quit(self) -> None:
        self.driver.quit()

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def find(self, css: str, timeout: float = 15):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as EC
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, timeout).until(
            EC.presence_of_element_located((By.CSS_SELECTOR, css))
        )

    def all(self, css: str) -> list:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait(self, condition: Callable[[Any], Any], what: str, timeout: float = 30) -> Any:
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.support.ui import WebDriverWait

        def safe(driver):
            try:  # polled fragments swap elements: one can go stale between two looks
                return condition(driver)
            except StaleElementReferenceException:
                return False

        return WebDriverWait(self.driver, timeout, poll_frequency=0.2).until(safe, what)

    def login(self, username: str, password: str) -> None:
        self.driver.delete_all_cookies()
        self.open("/ui/login/")
        self.find("#id_username").send_keys(username)
        self.find("#id_password").send_keys(password)
        self.find("#login-form button[type=submit]").click()
        self.wait(lambda d: self.all("#current-user"), f"{username} logged in")

    def shot(
        self,
        path: Path,
        *,
        full_page: bool = True,
        until: str | None = None,
        metrics: dict | None = None,
    ) -> None:
        """Save a screenshot: the whole page (up to 4000 px high), the page down to the
        element `until` (CSS), or the viewport."""
        if metrics is None:
            height = HEIGHT
            if until:
                bottom = self.driver.execute_script(
                    "return arguments[0].getBoundingClientRect().bottom + window.scrollY",
                    self.find(until),
                )
                height = max(HEIGHT, int(bottom) + 16)
            elif full_page:
                scroll = self.driver.execute_script("return document.documentElement.scrollHeight")
                height = max(HEIGHT, min(int(scroll), 4000))
            metrics = {"width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False}
        # The emulated viewport (not the window) grows to the page: a headless window
        # cannot outgrow its screen.
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        try:
            # From the top: filling a form deep in the page scrolled it.
            self.driver.execute_script("window.scrollTo(0, 0)")
            self.driver.save_screenshot(str(path))
        finally:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        print(f"  {path}")


def _add_catalog_and_down_devices(stack) -> None:
    """A location with recorded devices that never connect, a type and a firmware image."""
    api = stack.api("admin")
    paris = api.post(
        "/inventory_location/",
        json={
            "organization_id": stack.org_id,
            "name": PARIS["name"],
            "short_name": PARIS["short_name"],
            "latitude": PARIS["lat"],
            "longitude": PARIS["lon"],
        },
    )
    paris.raise_for_status()
    ont = api.post(
        "/inventory_type/",
        json={
            "organization_id": stack.org_id,
            "short_name": "fiber_ont",
            "name": "Fiber ONT",
            "manufacturer": "Acme Optical",
            "product_class": "ONT",
        },
    )
    ont.raise_for_status()
    for index in range(3):
        created = api.post(
            "/inventory_device/",
            json={
                "name": f"paris-ont-{index + 1}",
                "serial_number": f"PAR{index + 1:06d}",
                "type": ont.json()["id"],
                "organization_id": stack.org_id,
                "location": paris.json()["id"],
                "update_frequency": 300,
            },
        )
        created.raise_for_status()
    for type_id, version, body in (
        (stack.type_id, "1.1.0", b"sim gateway 1.1.0\n" * 64),
        (ont.json()["id"], "3.1.4", b"fiber ont 3.1.4\n" * 128),
    ):
        image = api.post(
            "/inventory_firmware_image/",
            data={
                "device_type": str(type_id),
                "version": version,
                "organization_id": str(stack.org_id),
                "description": "Field release",
            },
            files={"file": (f"{version}.bin", body, "application/octet-stream")},
        )
        image.raise_for_status()


def _bulk_reboot(ui: Browser, out: Path, devices: int) -> None:
    from selenium.webdriver.support.ui import Select

    ui.open("/ui/jobs/")
    ui.find("#new-job summary").click()
    Select(ui.find("#id_operation_type")).select_by_value("reboot")
    Select(ui.find("#id_organizations")).select_by_visible_text("NOC Org")
    ui.find("#create-job").click()
    count = ui.find("#preview-count").text
    assert count == str(devices), f"the job would hit {count} devices, not {devices}"
    ui.find("#confirm-job").click()
    ui.wait(lambda d: re.search(r"/ui/jobs/\d+/$", d.current_url), "the job page")
    ui.wait(lambda d: ui.all('#job-bar[aria-valuenow="100"]'), "the job at 100%", timeout=90)
    ui.shot(out / "dashboard-job.png")


def _device_page(ui: Browser, device: dict, out: Path) -> None:
    ui.open(f"/ui/devices/{device['id']}/")
    ui.wait(
        lambda d: len(ui.all("#parameter-tree li.leaf")) > 20 or d.refresh(),
        "the device's parameter tree",
    )
    buttons = [
        b
        for b in ui.all("#parameter-tree button[data-edit]")
        if b.get_attribute("data-edit").endswith(".SSID")
    ]
    assert buttons, "no writable SSID on the device page"
    path = buttons[0].get_attribute("data-edit")
    ui.find("[data-tree-filter]").send_keys(path)
    ui.wait(lambda d: buttons[0].is_displayed(), "the SSID leaf shown")
    buttons[0].click()
    field = ui.find(f'li.leaf[data-path="{path}"] form.edit input[name=value]')
    field.clear()
    field.send_keys("Guest-14")
    # Down to the live parameters: the device log under them makes the page too long to read.
    ui.shot(out / "dashboard-device.png", until="#parameters")


def _phone(ui: Browser, device: dict, out: Path) -> None:
    ui.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    try:
        ui.open(f"/ui/devices/{device['id']}/")
        ui.find("#menu-toggle")
        ui.find("#fields")
    finally:
        ui.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    ui.shot(out / "dashboard-phone.png", metrics=PHONE)


def take(out: Path, devices: int) -> None:
    """Start the stack, take every screenshot into `out`, stop everything."""
    from tests.dashboard import live_stack

    # The map draws borders only unless a tile server is set; none is asked here.
    os.environ.pop("LINESMAN_MAP_TILE_URL", None)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="linesman-shots-") as home:
        started = time.monotonic()
        stack = live_stack.start(Path(home), devices=devices, users=("operator", "admin"))
        print(
            f"stack up on {stack.url} with {devices} devices ({time.monotonic() - started:.0f} s)"
        )
        ui = None
        try:
            ui = Browser(stack.url)
            ui.login("operator", live_stack.PASSWORD)
            # The job first: the recorded devices added next never answer a reboot.
            _bulk_reboot(ui, out, devices)
            _add_catalog_and_down_devices(stack)

            ui.open("/ui/")
            ui.wait(
                lambda d: ui.find("#up-devices").text == str(devices) or d.refresh(),
                f"{devices} devices Up on the overview",
            )
            ui.shot(out / "dashboard.png", full_page=False)

            ui.open("/ui/map/")
            ui.wait(lambda d: ui.find("#device-map").get_attribute("data-ready"), "map drawn")
            # Every device placed: the circles' counts (one per device or per cluster) add up.
            placed = sum(
                int(c.get_attribute("data-count")) for c in ui.all("#device-map circle.dev")
            )
            assert placed == devices + 3, f"{placed} devices on the map, not {devices + 3}"
            ui.shot(out / "dashboard-map.png", full_page=False)

            _device_page(ui, stack.devices[-1], out)
            _phone(ui, stack.devices[0], out)

            ui.login("admin", live_stack.PASSWORD)
            ui.open("/ui/catalog/")
            assert "fiber_ont" in ui.find("#type-list").text
            ui.find("#new-firmware summary").click()
            ui.shot(out / "dashboard-catalog.png")
        finally:
            if ui is not None:
                ui.quit()  # before the server: its keep-alive connections hold up the stop
            stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="where the PNGs go")
    parser.add_argument("--devices", type=int, default=6, help="simulated devices (Up)")
    args = parser.parse_args(argv)
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not Path(binary).exists():
            print(f"{binary} not found: run `bash .ci/browsers .venv`", file=sys.stderr)
            return 2
    take(args.out, args.devices)
    return 0


if __name__ == "__main__":
    sys.exit(main())
