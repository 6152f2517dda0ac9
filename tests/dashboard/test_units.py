"""The parameter tree renderer and the map projection, without HTTP."""

from __future__ import annotations

import pytest

from linesman.dashboard import mapping, tree
from linesman.inventory.models import Device, DeviceStatus
from tests.conftest import make_device


def test_tree_nests_sorts_instances_numerically_and_escapes():
    html = tree.render(
        {
            "Device.IP.Interface.10.Name": ["wan", "xsd:string", True],
            "Device.IP.Interface.2.Name": ["<lan>", "xsd:string", False],
            "Device.DeviceInfo.SerialNumber": ["S1", "xsd:string", None],
        }
    )
    assert html.index('data-path="Device.IP.Interface.2.Name"') < html.index(
        'data-path="Device.IP.Interface.10.Name"'
    )
    assert html.index("DeviceInfo") < html.index(">IP<")
    assert "&lt;lan&gt;" in html and "<lan>" not in html
    assert html.count('<span class="rw">') == 1
    assert '<details data-path="Device." open>' in html  # the root starts open
    assert '<details data-path="Device.IP.">' in html  # deeper branches start closed
    assert "<span class=count>3</span>" in html


def test_tree_of_nothing_is_empty():
    assert tree.render({}) == ""


def test_tree_survives_a_leaf_that_is_also_a_branch():
    html = tree.render({"A.B": ["1", "xsd:int", False], "A.B.C": ["2", "xsd:int", False]})
    assert 'data-path="A.B.C"' in html


@pytest.mark.django_db
def test_plot_places_merges_and_skips(org_a, device_type, monkeypatch):
    make_device(org_a, device_type, "P1", latitude="10", longitude="20", status=DeviceStatus.UP)
    make_device(org_a, device_type, "P2", latitude="10.0001", longitude="20.0001")
    make_device(org_a, device_type, "P3", latitude="-33.9", longitude="151.2")
    make_device(org_a, device_type, "P4", latitude="abc", longitude="1")
    make_device(org_a, device_type, "P5", latitude="95", longitude="1")
    plot = mapping.plot(Device.objects.all())
    assert plot.placed == 3 and plot.unplaced == 2 and not plot.merged and plot.labelled
    assert {d.css for d in plot.dots} == {"up", "down"}
    assert plot.dots[-1].down == 1  # Down dots are drawn last, on top
    for dot in plot.dots:
        assert 0 <= dot.x <= mapping.WIDTH and 0 <= dot.y <= mapping.HEIGHT
    assert any(g["kind"] == "lat" for g in plot.grid) and any(g["kind"] == "lon" for g in plot.grid)

    monkeypatch.setattr(mapping, "MAX_DOTS", 2)
    merged = mapping.plot(Device.objects.all())
    assert merged.merged and not merged.labelled
    assert sorted(d.count for d in merged.dots) == [1, 2]
    assert {d.css for d in merged.dots} == {"mixed", "down"}


@pytest.mark.django_db
def test_plot_of_one_device_is_centred(org_a, device_type):
    make_device(org_a, device_type, "ONE", latitude="0", longitude="0")
    (dot,) = mapping.plot(Device.objects.all()).dots
    assert abs(dot.x - mapping.WIDTH / 2) < 1 and abs(dot.y - mapping.HEIGHT / 2) < 1
