"""The dashboard in headless Chromium against a live server and simulated devices.

Needs Debian's `chromium` and `chromium-driver` and Selenium (`.ci/browsers VENV` installs
them); skipped with that hint otherwise. Every page visited is saved as a screenshot under
artifacts/screenshots/ (git-ignored). Waits are on conditions, never fixed sleeps.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.dashboard import live_stack

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"

if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    pytest.skip(
        "chromium/chromedriver not installed (run .ci/browsers .venv)", allow_module_level=True
    )
webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium not installed (run .ci/browsers .venv)"
)
from selenium.common.exceptions import (  # noqa: E402
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

pytestmark = pytest.mark.e2e

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1440,900",
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = live_stack.start(tmp_path_factory.mktemp("ui"), devices=3)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def driver(stack):
    """Chromium; it depends on the stack so it closes first: its keep-alive connections
    would hold up the server's graceful stop."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in CHROMIUM_ARGS:
        options.add_argument(arg)
    # Given the driver's path, Selenium Manager never looks for (or downloads) one.
    browser = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    yield browser
    browser.quit()


class Ui:
    """The browser pointed at the stack, with the waits and screenshots tests need."""

    def __init__(self, driver, stack):
        self.driver, self.stack = driver, stack

    def open(self, path: str) -> None:
        self.driver.get(self.stack.url + path)

    def find(self, css: str, timeout: float = 10):
        return WebDriverWait(self.driver, timeout).until(
            EC.presence_of_element_located((By.CSS_SELECTOR, css))
        )

    def all(self, css: str):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait(self, condition, timeout: float = 20, message: str = ""):
        def safe(driver):
            try:  # polling swaps fragments: an element can go stale between two looks
                return condition(driver)
            except StaleElementReferenceException:
                return False
            except WebDriverException as exc:
                # Chrome reports some stale nodes as an inspector error, not as stale.
                if "does not belong to the document" in (exc.msg or ""):
                    return False
                raise

        return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(safe, message)

    def wait_for_operation(self, device_id: int, operation_id: str, state: str) -> None:
        """Wait until the device page shows the operation in `state`; on time-out, say
        whether the server or the page lagged behind."""
        css = f'tr[data-operation-id="{operation_id}"] [data-state="{state}"]'
        try:
            self.wait(lambda d: d.find_elements(By.CSS_SELECTOR, css), timeout=30)
        except TimeoutException:
            ops = self.stack.api().get(f"/inventory_device/{device_id}/operations/").json()
            server = [(o["operation_id"], o["status"], o["error"]) for o in ops["results"][:3]]
            log = self.stack.server.log_path.read_text()[-2000:]
            raise AssertionError(
                f"the page never showed {operation_id} {state}; the API says {server}; "
                f"the page shows {self.find('#history').text!r}; server log tail:\n{log}"
            ) from None

    def login(self, username: str) -> None:
        self.driver.delete_all_cookies()
        self.open("/ui/login/")
        self.find("#id_username").send_keys(username)
        self.find("#id_password").send_keys(live_stack.PASSWORD)
        self.find("#login-form button[type=submit]").click()
        self.wait(lambda d: d.find_elements(By.ID, "current-user"), message="logged in")
        assert self.find("#current-user").text == username

    def shot(self, name: str) -> Path:
        """Save a full-page screenshot under artifacts/screenshots/NAME.png."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        # Grow the viewport to the whole page for the shot (a window cannot outgrow the
        # headless screen, the emulated viewport can).
        metrics = {
            "width": 1440,
            "height": max(900, min(int(height), 4000)),
            "deviceScaleFactor": 1,
            "mobile": False,
        }
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        try:
            self.driver.save_screenshot(str(path))
        finally:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        return path


@pytest.fixture
def ui(driver, stack):
    return Ui(driver, stack)


def test_login_and_fleet_overview(ui):
    ui.login("operator")
    assert ui.find("#total-devices").text == "3"
    ui.wait(
        lambda d: ui.find("#up-devices").text == "3" or ui.driver.refresh(),
        message="3 devices Up on the overview",
    )
    assert "NOC Org" in ui.find("#by-organization").text
    assert "sim_gateway" in ui.find("#by-type").text
    ui.shot("overview")


def test_filter_the_device_list(ui, stack):
    ui.login("operator")
    ui.open("/ui/devices/")
    assert len(ui.all("#device-table tbody tr[data-serial]")) == 3
    ui.shot("devices")
    wanted = stack.devices[1]
    ui.find("#id_q").send_keys(wanted["customer_id"])
    Select(ui.find("select[name=status]")).select_by_value("Up")
    ui.find("#apply-filters").click()
    ui.wait(lambda d: "q=" in d.current_url, message="filtered list")
    rows = ui.all("#device-table tbody tr[data-serial]")
    assert [r.get_attribute("data-serial") for r in rows] == [wanted["serial_number"]]
    ui.shot("devices-filtered")
    Select(ui.find("select[name=status]")).select_by_value("Down")
    ui.find("#apply-filters").click()
    ui.wait(lambda d: "status=Down" in d.current_url, message="Down filter")
    assert not ui.all("#device-table tbody tr[data-serial]")


def test_open_a_device_reboot_it_and_see_it_complete(ui, stack):
    target = stack.devices[0]
    ui.login("operator")
    ui.open("/ui/devices/")
    ui.find(f"tr[data-serial={target['serial_number']}] a").click()
    ui.wait(lambda d: d.current_url.endswith(f"/ui/devices/{target['id']}/"), message="device")
    assert target["serial_number"] in ui.find("h1").text

    ui.find("#op-reboot").click()
    ui.wait(EC.alert_is_present(), timeout=5, message="confirmation").accept()
    message = ui.find(".msg.success").text
    operation_id = re.search(r"op_[0-9a-f]+", message).group(0)
    # The state fragment polls itself; the row turns completed without a reload.
    ui.wait_for_operation(target["id"], operation_id, "completed")
    assert ui.find("#idle")
    assert ui.stack.sim.run(lambda: ui.stack.sim.fleet.devices[0].counters.reboots) == 1

    ui.find("#op-refresh").click()
    ui.wait(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#parameter-tree li.leaf")) > 20,
        timeout=30,
        message="parameter tree filled by the refresh",
    )
    ui.find("[data-tree-filter]").send_keys("SoftwareVersion")
    # One script call instead of one WebDriver round trip per leaf (there are hundreds).
    visible_leaves = (
        "return [...document.querySelectorAll('#parameter-tree li.leaf')]"
        ".filter(li => li.offsetParent !== null).map(li => li.dataset.path)"
    )
    shown = ui.wait(lambda d: d.execute_script(visible_leaves), message="filtered tree")
    assert all("SoftwareVersion" in path for path in shown), shown
    ui.shot("device")


def test_bulk_reboot_job_reaches_100_percent(ui, stack):
    ui.login("operator")
    ui.open("/ui/jobs/")
    ui.find("#new-job summary").click()
    Select(ui.find("#id_operation_type")).select_by_value("reboot")
    Select(ui.find("#id_organizations")).select_by_visible_text("NOC Org")
    ui.shot("job-form")
    ui.find("#create-job").click()
    # A destructive job shows what it will hit before it exists.
    assert ui.find("#preview-count").text == str(len(stack.devices))
    ui.find("#confirm-job").click()
    ui.wait(lambda d: re.search(r"/ui/jobs/\d+/$", d.current_url), message="job page")
    ui.wait(
        lambda d: d.find_elements(By.CSS_SELECTOR, '#job-bar[aria-valuenow="100"]'),
        timeout=60,
        message="the job's progress bar at 100%",
    )
    assert ui.find("[data-job-status]").get_attribute("data-job-status") == "completed"
    assert ui.find("#job-succeeded").text == str(len(stack.devices))
    ui.shot("job")
    ui.open("/ui/jobs/")
    ui.shot("jobs")


def test_map_shows_every_device(ui, stack):
    ui.login("operator")
    ui.open("/ui/map/")
    dots = ui.all("#device-map circle.dev")
    assert len(dots) == len(stack.devices)
    ui.shot("map")


def test_viewer_sees_no_operation_buttons(ui, stack):
    ui.login("viewer")
    ui.open(f"/ui/devices/{stack.devices[0]['id']}/")
    ui.find("#fields")
    assert not ui.all("#actions") and not ui.all("button.op")
    assert not ui.all("#op-refresh")
    ui.shot("device-viewer")


# --- issue 14: the device page to work from, lists, error pages, phones ---------------


def test_a_404_page_inside_the_layout(ui):
    ui.login("operator")
    ui.open("/ui/no-such-page/")
    assert ui.find("#error-page").get_attribute("data-status") == "404"
    assert ui.find("#main-nav a[href='/ui/devices/']")
    ui.shot("not-found")


def test_bootstrapped_device_shows_its_tree_and_a_parameter_is_edited_in_place(ui, stack):
    target = stack.devices[2]
    ui.login("operator")
    ui.open(f"/ui/devices/{target['id']}/")
    # The tree was read after the first contact: no refresh needed (issue 14).
    ui.wait(
        lambda d: (
            len(d.find_elements(By.CSS_SELECTOR, "#parameter-tree li.leaf")) > 20 or d.refresh()
        ),
        timeout=30,
        message="the whole tree without a refresh",
    )
    buttons = [
        b
        for b in ui.all("#parameter-tree button[data-edit]")
        if b.get_attribute("data-edit").endswith(".SSID")
    ]
    assert buttons, "a writable SSID"
    path = buttons[0].get_attribute("data-edit")
    ui.find("#filter-parameters" if ui.all("#filter-parameters") else ".tree-filter").send_keys(
        path
    )
    ui.wait(lambda d: buttons[0].is_displayed(), message="the SSID leaf shown")
    buttons[0].click()
    field = ui.find(f'li.leaf[data-path="{path}"] form.edit input[name=value]')
    field.clear()
    field.send_keys("Guest-14")
    ui.shot("parameter-edit")
    field.submit()
    assert "pending until the device confirms it" in ui.find(".msg.success").text
    # The set operation reaches the simulated device; the pending mark goes once confirmed.
    leaf = f'li.leaf[data-path="{path}"]'
    ui.wait(
        lambda d: (
            "Guest-14" in ui.find(leaf).get_attribute("textContent")
            and not d.find_elements(By.CSS_SELECTOR, f"{leaf} .pending-value")
            or d.refresh()
        ),
        timeout=30,
        message="the new value confirmed by the device",
    )


def test_select_devices_and_start_a_job(ui, stack):
    ui.login("operator")
    ui.open("/ui/devices/")
    boxes = ui.all("#device-table input[name=device]")
    assert len(boxes) == len(stack.devices)
    boxes[0].click()
    boxes[1].click()
    ui.shot("devices-selected")
    ui.find("#job-selected").click()
    ui.wait(lambda d: d.current_url.endswith("/ui/devices/job/"), message="job form")
    serials = ui.find("#id_serial_numbers").get_attribute("value").split()
    assert len(serials) == 2
    Select(ui.find("#id_operation_type")).select_by_value("sync")
    ui.find("#create-job").click()
    try:
        ui.wait(lambda d: re.search(r"/ui/jobs/\d+/$", d.current_url), message="job page")
    except TimeoutException:
        raise AssertionError(ui.driver.current_url + ui.find("main").text[:1500]) from None
    ui.wait(
        lambda d: d.find_elements(By.CSS_SELECTOR, '#job-bar[aria-valuenow="100"]'),
        timeout=60,
        message="the job's progress bar at 100%",
    )


#: The elements that stick out of the viewport, for a failure message.
WIDEST = """
return Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > 391)
  .slice(-6).map(e => e.tagName + '#' + e.id + '.' + e.className + ' '
    + Math.round(e.getBoundingClientRect().right));
"""
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}


def test_overview_and_device_page_fit_a_phone(ui, stack):
    ui.login("operator")
    ui.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    try:
        for name, path in (
            ("overview", "/ui/"),
            ("device", f"/ui/devices/{stack.devices[0]['id']}/"),
        ):
            ui.open(path)
            ui.find("#menu-toggle")
            width = ui.driver.execute_script("return document.documentElement.scrollWidth")
            assert width <= 390, (
                f"{path} is {width} px wide at 390 px: {ui.driver.execute_script(WIDEST)}"
            )
            assert not ui.find("#main-nav").is_displayed()  # collapsed into the menu
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            ui.driver.save_screenshot(str(SCREENSHOTS / f"phone-{name}.png"))
        ui.find("#menu-toggle").click()
        ui.wait(lambda d: ui.find("#main-nav").is_displayed(), message="menu opens")
        assert ui.find("#main-nav a[href='/ui/devices/']").is_displayed()
    finally:
        ui.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_add_an_object_instance_where_the_data_model_allows(ui, stack):
    target = stack.devices[1]
    ui.login("operator")
    ui.open(f"/ui/devices/{target['id']}/")
    ui.wait(
        lambda d: (
            d.find_elements(By.CSS_SELECTOR, "#parameter-tree [data-object-action=add]")
            or d.refresh()
        ),
        timeout=30,
        message="a writable table",
    )
    button = ui.all("#parameter-tree [data-object-action=add]")[0]
    table = button.get_attribute("data-object")
    before = {
        d.get_attribute("data-path")
        for d in ui.all("#parameter-tree details[data-path]")
        if d.get_attribute("data-path").startswith(table)
    }
    ui.driver.execute_script("arguments[0].click()", button)  # it may sit in a closed branch
    message = ui.find(".msg.success").text
    operation_id = re.search(r"op_[0-9a-f]+", message).group(0)
    ui.wait_for_operation(target["id"], operation_id, "completed")

    def grown(d):
        d.refresh()
        paths = {
            e.get_attribute("data-path")
            for e in d.find_elements(By.CSS_SELECTOR, "#parameter-tree details[data-path]")
        }
        return {p for p in paths if p.startswith(table)} - before

    ui.wait(grown, timeout=30, message=f"a new instance under {table}")
