"""The map page, its data endpoint (clusters as JSON) and its vendored static files."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from linesman.inventory.models import DeviceStatus, DeviceType, Location
from tests.conftest import make_device

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet(org_a, org_b, device_type, location_a):
    """Three devices at one site, one with its own coordinates, one nowhere, one foreign."""
    cpe = DeviceType.objects.create(short_name="home_cpe", name="Home CPE")
    site = [
        make_device(org_a, device_type, f"SITE{i}", location=location_a, status=status)
        for i, status in enumerate([DeviceStatus.UP, DeviceStatus.UP, DeviceStatus.DOWN])
    ]
    paris = make_device(
        org_a, cpe, "PARIS1", latitude="48.8566", longitude="2.3522", status=DeviceStatus.UP
    )
    nowhere = make_device(org_a, cpe, "NOWHERE1")
    make_device(org_b, device_type, "FOREIGN1", latitude="1", longitude="1")
    return {"site": site, "paris": paris, "nowhere": nowhere, "cpe": cpe}


def data(client: Client, **params) -> dict:
    response = client.get("/ui/map/data/", params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def test_data_has_one_cluster_per_place_with_counts_and_the_site_name(login, viewer_a, fleet):
    body = data(login(viewer_a))
    assert body["placed"] == 4 and body["unplaced"] == 1
    assert body["unplaced_url"] == "/ui/map/#without-coordinates"
    by_label = {c["label"]: c for c in body["clusters"]}
    assert set(by_label) == {"New York Branch Office", "dev-PARIS1"}
    site = by_label["New York Branch Office"]
    assert (site["count"], site["up"], site["down"]) == (3, 2, 1)
    assert (site["lat"], site["lon"]) == (40.7128, -74.006)
    assert sorted(d["name"] for d in site["devices"]) == ["dev-SITE0", "dev-SITE1", "dev-SITE2"]
    paris = by_label["dev-PARIS1"]
    assert paris["count"] == 1 and paris["lat"] == 48.8566 and paris["lon"] == 2.3522
    assert paris["devices"] == [
        {
            "id": fleet["paris"].pk,
            "name": "dev-PARIS1",
            "status": "Up",
            "url": f"/ui/devices/{fleet['paris'].pk}/",
        }
    ]


def test_data_filters_by_type_location_and_status(login, viewer_a, fleet, location_a):
    client = login(viewer_a)
    by_type = data(client, type=fleet["cpe"].pk)
    assert [c["label"] for c in by_type["clusters"]] == ["dev-PARIS1"] and by_type["unplaced"] == 1
    at_site = data(client, location=location_a.pk)
    assert [c["count"] for c in at_site["clusters"]] == [3] and at_site["unplaced"] == 0
    down = data(client, status="Down")
    assert [(c["label"], c["count"]) for c in down["clusters"]] == [("New York Branch Office", 1)]


def test_data_refuses_bad_or_foreign_filters_with_json(login, viewer_a, org_b, fleet):
    client = login(viewer_a)
    foreign_location = Location.objects.create(
        organization=org_b, name="B site", short_name="b_site", latitude="1", longitude="1"
    )
    for params in ({"type": "abc"}, {"type": "999999"}, {"location": foreign_location.pk}):
        response = client.get("/ui/map/data/", params)
        assert response.status_code == 400, params
        assert next(iter(params)) in json.loads(response.content)["detail"]
    assert client.get("/ui/map/", {"location": "x"}).status_code == 400
    assert client.get("/ui/map/data/", {"organization": org_b.pk}).status_code == 403


def test_data_needs_a_login(client):
    response = client.get("/ui/map/data/")
    assert response.status_code == 302 and "/ui/login/" in response["Location"]


def test_page_links_the_devices_without_coordinates_and_offers_filters(
    login, viewer_a, fleet, location_a
):
    page = login(viewer_a).get("/ui/map/").content.decode()
    assert (
        '<a class="small" id="unplaced-link" href="#without-coordinates">1 without coordinates'
        in page
    )
    unplaced = page.split('id="without-coordinates"')[1]
    assert f'href="/ui/devices/{fleet["nowhere"].pk}/">dev-NOWHERE1</a>' in unplaced
    assert "SITE0" not in unplaced
    for name in ("status", "organization", "type", "location"):
        assert f'<select name="{name}">' in page
    assert f'<option value="{location_a.pk}" >New York Branch Office</option>' in page
    assert '<option value="{}" >home_cpe</option>'.format(fleet["cpe"].pk) in page
    # The script gets the same filters as the page.
    filtered = login(viewer_a).get("/ui/map/", {"type": fleet["cpe"].pk}).content.decode()
    assert f'data-src="/ui/map/data/?type={fleet["cpe"].pk}"' in filtered


def test_page_references_vendored_files_that_are_served(login, viewer_a, fleet, settings):
    settings.WHITENOISE_USE_FINDERS = True
    client = login(viewer_a)
    page = client.get("/ui/map/").content.decode()
    world = re.search(r'data-world="([^"]+)"', page).group(1)
    script = re.search(r'<script src="([^"]*map\.js)"', page).group(1)
    style = re.search(r'<link rel="stylesheet" href="([^"]*map\.css)"', page).group(1)
    expected = {world: "application/json", script: "javascript", style: "text/css"}
    for url, kind in expected.items():
        response = Client().get(url)
        assert response.status_code == 200, url
        assert kind in response["Content-Type"], (url, response["Content-Type"])
    topology = json.loads(b"".join(Client().get(world).streaming_content))
    assert topology["type"] == "Topology"
    names = {g["properties"]["name"] for g in topology["objects"]["countries"]["geometries"]}
    assert {"France", "United States of America", "Brazil"} <= names
    licence = Client().get(world.rsplit("/", 1)[0] + "/LICENSE")
    assert licence.status_code == 200


def test_no_tiles_and_no_outside_origin_by_default(login, viewer_a, fleet):
    response = login(viewer_a).get("/ui/map/")
    assert "data-tiles" not in response.content.decode()
    assert "img-src" not in response["Content-Security-Policy"]
    assert "default-src 'self'" in response["Content-Security-Policy"]


def test_a_tile_url_is_passed_to_the_map_and_its_host_allowed_for_images(
    login, viewer_a, fleet, settings
):
    settings.LINESMAN_MAP_TILE_URL = "https://tiles.example.net/osm/{z}/{x}/{y}.png"
    settings.LINESMAN_MAP_TILE_ATTRIBUTION = "© OpenStreetMap contributors"
    response = login(viewer_a).get("/ui/map/")
    page = response.content.decode()
    assert 'data-tiles="https://tiles.example.net/osm/{z}/{x}/{y}.png"' in page
    assert "Tiles: © OpenStreetMap contributors" in page
    csp = response["Content-Security-Policy"]
    assert csp.endswith("; img-src 'self' https://tiles.example.net")
    assert "default-src 'self'" in csp and "script-src" not in csp
    # Other dashboard pages keep the strict policy.
    other = login(viewer_a).get("/ui/devices/")["Content-Security-Policy"]
    assert "img-src" not in other


@pytest.mark.parametrize(
    "value",
    [
        "ftp://tiles.example.net/{z}/{x}/{y}.png",
        "https://tiles.example.net/{z}/{x}.png",
        "https:///{z}/{x}/{y}.png",
        "https://tiles.example.net/{z}/{x}/{y}.png; script-src *",
        "https://tiles.example.net/{z}/{x}/{y}.png'",
    ],
)
def test_a_bad_tile_url_is_a_configuration_error(value, monkeypatch, tmp_path):
    from linesman import conf

    monkeypatch.setenv("LINESMAN_HOME", str(tmp_path))
    monkeypatch.setenv("LINESMAN_MAP_TILE_URL", value)
    with pytest.raises(conf.ConfigError, match="LINESMAN_MAP_TILE_URL"):
        conf.load()


def test_a_good_tile_url_is_loaded(monkeypatch, tmp_path):
    from linesman import conf

    monkeypatch.setenv("LINESMAN_HOME", str(tmp_path))
    monkeypatch.setenv("LINESMAN_MAP_TILE_URL", "http://127.0.0.1:8080/{z}/{x}/{y}.png")
    assert conf.load().map_tile_url == "http://127.0.0.1:8080/{z}/{x}/{y}.png"
    monkeypatch.delenv("LINESMAN_MAP_TILE_URL")
    assert conf.load().map_tile_url is None
