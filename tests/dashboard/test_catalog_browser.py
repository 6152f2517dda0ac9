"""The Catalog page in headless Chromium: an organization admin adds what devices need.

A device type, a location and a firmware image (a file uploaded through the form) are made
from the dashboard, then looked for on the page, through the API, and in the database with
the local command line (`linesman types|locations|firmware list`, the server's own
environment). The unhappy paths: a duplicate name is the API's error in the form, a
missing file is stopped by the browser, a duplicate version is refused; none creates
anything. Needs Debian's `chromium` and `chromium-driver` (`.ci/browsers VENV`); skipped
otherwise, as the other browser tests are.
"""

from __future__ import annotations

import hashlib

import pytest

from tests.dashboard import live_stack
from tests.dashboard.test_browser import Ui, driver  # noqa: F401 (a fixture)

By = pytest.importorskip("selenium.webdriver.common.by").By
Select = pytest.importorskip("selenium.webdriver.support.ui").Select

pytestmark = pytest.mark.e2e

#: The firmware file uploaded: small, with bytes no text encoding would keep as they are.
FIRMWARE = b"LSFW\x00\x01\x02\xff" + bytes(range(256)) * 4


#: The list each form's kind lands on after a create (the page's anchors).
KIND_ANCHORS = {"type": "types", "location": "locations", "firmware": "firmware"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A server with NOC Org and its admin `admin`; no devices are needed here."""
    running = live_stack.start(tmp_path_factory.mktemp("catalog"), devices=0, users=("admin",))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def ui(driver, stack):  # noqa: F811 (the imported fixture)
    page = Ui(driver, stack)
    page.login("admin")
    return page


def _open_form(ui: Ui, panel: str) -> str:
    """Open the catalog with a fresh page, unfold the panel's form; the form's selector."""
    ui.open("/ui/catalog/")
    details = ui.find(f"#{panel}")
    if details.get_attribute("open") is None:
        details.find_element(By.CSS_SELECTOR, "summary").click()
    return f"#{panel} form"


def _fill(ui: Ui, form: str, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = ui.find(f"{form} [name={name}]")
        field.clear()
        field.send_keys(value)


def _rows(ui: Ui, table: str) -> list[list[str]]:
    return [
        [cell.text for cell in row.find_elements(By.CSS_SELECTOR, "td")]
        for row in ui.all(f"#{table} tbody tr[id]")
    ]


def _submit_and_wait_for_row(ui: Ui, kind: str, table: str, first_cell: str) -> list[str]:
    """Submit the kind's form; the row whose first cell is `first_cell`, once listed."""
    ui.find(f"#create-{kind}").click()
    ui.wait(
        lambda d: any(row[0] == first_cell for row in _rows(ui, table)),
        message=f"{first_cell} listed in #{table}",
    )
    # Back on the catalog, scrolled to the list the new row is in.
    assert ui.driver.current_url.endswith("/ui/catalog/#" + KIND_ANCHORS[kind])
    return next(row for row in _rows(ui, table) if row[0] == first_cell)


def _listed(stack, what: str) -> list[dict]:
    """What the database holds, read by the local command line in the server's environment."""
    return stack.server.cli_json(what, "list")


def test_admin_creates_a_device_type_a_location_and_a_firmware_image(ui, stack, tmp_path):
    api = stack.api("admin")

    form = _open_form(ui, "new-type")
    # An admin of one organization (not a superuser) is offered that organization only.
    organizations = Select(ui.find(f"{form} [name=organization_id]")).options
    assert [o.text for o in organizations] == ["NOC Org"]
    _fill(
        ui,
        form,
        {
            "short_name": "fiber_ont",
            "name": "Fiber ONT",
            "manufacturer": "Acme Optical",
            "product_class": "ONT",
        },
    )
    row = _submit_and_wait_for_row(ui, "type", "type-list", "fiber_ont")
    assert row[:5] == ["fiber_ont", "Fiber ONT", "Acme Optical", "ONT", "NOC Org"]
    ui.shot("catalog-type-created")
    found = api.get("/inventory_type/", params={"short_name": "fiber_ont"}).json()["results"]
    assert [(t["name"], t["manufacturer"], t["organization_id"]) for t in found] == [
        ("Fiber ONT", "Acme Optical", stack.org_id)
    ]
    type_id = found[0]["id"]
    assert [t["id"] for t in _listed(stack, "types") if t["short_name"] == "fiber_ont"] == [type_id]

    form = _open_form(ui, "new-location")
    _fill(
        ui,
        form,
        {
            "short_name": "bk_pop",
            "name": "Brooklyn POP",
            "latitude": "40.6782",
            "longitude": "-73.9442",
        },
    )
    row = _submit_and_wait_for_row(ui, "location", "location-list", "bk_pop")
    assert row[:3] == ["bk_pop", "Brooklyn POP", "NOC Org"]
    assert float(row[3]) == 40.6782 and float(row[4]) == -73.9442
    locations = api.get("/inventory_location/", params={"limit": 100}).json()["results"]
    assert [
        (loc["name"], loc["organization_id"], float(loc["latitude"]), float(loc["longitude"]))
        for loc in locations
        if loc["short_name"] == "bk_pop"
    ] == [("Brooklyn POP", stack.org_id, 40.6782, -73.9442)]
    assert [
        loc["name"] for loc in _listed(stack, "locations") if loc["short_name"] == "bk_pop"
    ] == ["Brooklyn POP"]

    upload = tmp_path / "ont-3.1.4.bin"
    upload.write_bytes(FIRMWARE)
    form = _open_form(ui, "new-firmware")
    Select(ui.find(f"{form} [name=device_type]")).select_by_visible_text("fiber_ont")
    _fill(ui, form, {"version": "3.1.4", "description": "Field release"})
    ui.find(f"{form} [name=file]").send_keys(str(upload))
    checksum = hashlib.sha256(FIRMWARE).hexdigest()
    row = _submit_and_wait_for_row(ui, "firmware", "firmware-list", "3.1.4")
    assert row[:6] == [
        "3.1.4",
        "fiber_ont",
        "NOC Org",
        str(len(FIRMWARE)),
        checksum,
        "Field release",
    ]
    ui.shot("catalog-firmware-created")
    images = api.get("/inventory_firmware_image/", params={"device_type": type_id}).json()
    assert [
        (i["version"], i["organization_id"], i["size"], i["checksum"]) for i in images["results"]
    ] == [("3.1.4", stack.org_id, len(FIRMWARE), checksum)]
    assert [
        (i["version"], i["checksum"]) for i in _listed(stack, "firmware") if i["version"] == "3.1.4"
    ] == [("3.1.4", checksum)]
    # The bytes stored are the file's, whole.
    stored = list((stack.server.home / "media" / "firmware" / "fiber_ont").iterdir())
    assert [path.name.endswith("-ont-3.1.4.bin") for path in stored] == [True]
    assert stored[0].read_bytes() == FIRMWARE


def _count(stack, path: str) -> int:
    return stack.api("admin").get(path, params={"limit": 1}).json()["count"]


def test_a_duplicate_short_name_shows_the_form_error_and_creates_nothing(ui, stack):
    before = _count(stack, "/inventory_type/")
    form = _open_form(ui, "new-type")
    # sim_gateway is the stack's shared type: short names are unique across all types.
    _fill(ui, form, {"short_name": "sim_gateway", "name": "Another gateway"})
    ui.find("#create-type").click()
    error = ui.find('#type-form .field-error[data-field="short_name"]')
    assert "already exists" in error.text
    ui.shot("catalog-duplicate-type")
    # The form stays open with what was typed, so the admin can correct it.
    assert ui.find("#new-type").get_attribute("open") is not None
    assert ui.find("#type-form [name=name]").get_attribute("value") == "Another gateway"
    assert _count(stack, "/inventory_type/") == before
    assert [t["name"] for t in _listed(stack, "types") if t["short_name"] == "sim_gateway"] == [
        "Simulated gateway"
    ]


def test_a_firmware_image_without_a_file_is_not_sent(ui, stack):
    before = _count(stack, "/inventory_firmware_image/")
    form = _open_form(ui, "new-firmware")
    Select(ui.find(f"{form} [name=device_type]")).select_by_visible_text("sim_gateway")
    _fill(ui, form, {"version": "9.9.9"})
    url = ui.driver.current_url
    ui.find("#create-firmware").click()
    # The browser refuses to submit a required file input left empty, and says why.
    file_input = ui.find(f"{form} [name=file]")
    assert ui.driver.execute_script("return arguments[0].validity.valueMissing", file_input)
    assert ui.driver.execute_script("return arguments[0].validationMessage", file_input)
    assert ui.driver.current_url == url
    assert _count(stack, "/inventory_firmware_image/") == before


def test_a_duplicate_firmware_version_is_refused_and_creates_nothing(ui, stack, tmp_path):
    first = stack.api("admin").post(
        "/inventory_firmware_image/",
        data={
            "device_type": str(stack.type_id),
            "version": "1.0.0",
            "organization_id": str(stack.org_id),
        },
        files={"file": ("first.bin", b"first build", "application/octet-stream")},
    )
    assert first.status_code == 201, first.text
    before = _count(stack, "/inventory_firmware_image/")
    stored = stack.server.home / "media" / "firmware" / "sim_gateway"
    files_before = sorted(stored.iterdir()) if stored.exists() else []
    upload = tmp_path / "again.bin"
    upload.write_bytes(b"another build")
    form = _open_form(ui, "new-firmware")
    Select(ui.find(f"{form} [name=device_type]")).select_by_visible_text("sim_gateway")
    _fill(ui, form, {"version": "1.0.0"})
    ui.find(f"{form} [name=file]").send_keys(str(upload))
    ui.find("#create-firmware").click()
    error = ui.find("#firmware-form .field-error")
    assert "unique" in error.text or "already exists" in error.text, error.text
    assert _count(stack, "/inventory_firmware_image/") == before
    assert (sorted(stored.iterdir()) if stored.exists() else []) == files_before
