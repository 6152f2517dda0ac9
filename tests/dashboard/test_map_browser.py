"""The map in Chromium: land drawn under the devices, clusters that split as one zooms in.

Needs Debian's `chromium` and `chromium-driver` (`.ci/browsers VENV`); skipped otherwise,
as the other browser tests are.
"""

from __future__ import annotations

import pytest

from tests.dashboard import live_stack
from tests.dashboard.test_browser import Ui, driver  # noqa: F401 (a fixture)

By = pytest.importorskip("selenium.webdriver.common.by").By
ActionChains = pytest.importorskip("selenium.webdriver").ActionChains

pytestmark = pytest.mark.e2e


#: Tiles from a closed local port: the browser asks for them (nothing leaves the machine)
#: and the test sees which ones the map placed.
TILES = "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """Three simulated devices in New York and three recorded ones at a Paris office."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LINESMAN_MAP_TILE_URL", TILES)  # the server copies its environment
        running = live_stack.start(tmp_path_factory.mktemp("map"), devices=3)
    try:
        api = running.api()
        paris = api.post(
            "/inventory_location/",
            json={
                "organization_id": running.org_id,
                "name": "Paris office",
                "short_name": "paris",
                "latitude": "48.8566",
                "longitude": "2.3522",
            },
        )
        assert paris.status_code == 201, paris.text
        for i in range(3):
            created = api.post(
                "/inventory_device/",
                json={
                    "name": f"paris-{i}",
                    "serial_number": f"PARIS{i}",
                    "type": running.type_id,
                    "organization_id": running.org_id,
                    "location": paris.json()["id"],
                    "update_frequency": 300,
                },
            )
            assert created.status_code == 201, created.text
    except BaseException:
        running.stop()
        raise
    yield running
    running.stop()


@pytest.fixture
def ui(driver, stack):  # noqa: F811 (driver is the imported fixture)
    return Ui(driver, stack)


def clusters(ui) -> list[tuple[int, str]]:
    """(count, title) of each circle drawn."""
    return [
        (
            int(c.get_attribute("data-count")),
            c.find_element(By.TAG_NAME, "title").get_attribute("textContent"),
        )
        for c in ui.all("#device-map circle.dev")
    ]


def test_map_draws_countries_and_splits_clusters_when_zoomed_in(ui, stack):
    ui.login("operator")
    ui.open("/ui/map/")
    ui.wait(lambda d: ui.find("#device-map").get_attribute("data-ready"), message="map ready")
    assert len(ui.all("#device-map .land path.country")) > 150
    # Tiles of one zoom level were asked for (failed ones remove themselves, so the group
    # says what it asked for).
    tiles = ui.find("#device-map .tiles")
    assert int(tiles.get_attribute("data-requested")) > 0
    first = tiles.get_attribute("data-first")
    assert first.startswith("http://127.0.0.1:9/tiles/") and first.endswith(".png")
    zoomed_out = int(tiles.get_attribute("data-z"))
    assert first.split("/")[4] == str(zoomed_out)
    labels = [t.text for t in ui.all("#device-map text.dlabel")]
    assert "Paris office" in labels
    # Zoomed out to show both cities: one cluster per city, each with its count.
    out = sorted(count for count, _ in clusters(ui))
    assert out == [3, 3]
    assert sorted(t.text for t in ui.all("#device-map text.ccount")) == ["3", "3"]
    ui.shot("map")

    # Clicking the New York cluster zooms in on it until its devices stand apart; the
    # Paris office stays one cluster (its devices share one place) however deep.
    def click_new_york(browser) -> str:
        groups = [
            c
            for c in ui.all("#device-map g.cluster")
            if "paris-" not in c.find_element(By.TAG_NAME, "title").get_attribute("textContent")
        ]
        if not groups:
            return "apart"
        circle = groups[0].find_element(By.TAG_NAME, "circle")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", circle)
        ActionChains(browser).move_to_element(circle).click().perform()
        return "clicked"

    for _ in range(6):
        before = ui.find("#device-map").get_attribute("data-zoom")
        if ui.wait(click_new_york, message="New York clicked") == "apart":
            break
        ui.wait(lambda d, was=before: ui.find("#device-map").get_attribute("data-zoom") != was)
    singles = [title for count, title in clusters(ui) if count == 1]
    assert len(singles) == 3, clusters(ui)
    assert float(ui.find("#device-map").get_attribute("data-zoom")) > 20
    assert int(ui.find("#device-map .tiles").get_attribute("data-z")) > zoomed_out
    ui.shot("map-zoomed")
    ui.find("#map-reset").click()
    ui.wait(lambda d: sorted(count for count, _ in clusters(ui)) == [3, 3], message="fit again")
