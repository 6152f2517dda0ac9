"""`inventory_connection_profile/`: who sees which profile, its filter, and the values a
device type gets from the profile it points at."""

from __future__ import annotations

import pytest

from linesman.connprofiles.models import ConnectionProfile
from linesman.connprofiles.services import DEFAULT_METRICS_INTERVAL, effective
from linesman.inventory.models import DeviceType

pytestmark = pytest.mark.usefixtures("no_static_finders")

URL = "/api/v1/inventory_connection_profile/"


@pytest.fixture
def profiles(org_a, org_b):
    shared = ConnectionProfile.objects.create(
        name="cwmp-default", connection_request_methods=["udp", "http"], metrics_interval=300
    )
    own_a = ConnectionProfile.objects.create(
        name="a-quiet", organization=org_a, log_level="off", log_retention_days=3
    )
    own_b = ConnectionProfile.objects.create(name="b-profile", organization=org_b)
    return shared, own_a, own_b


def _ids(actor, query=""):
    response = actor.client.get(URL + query)
    assert response.status_code == 200, response.content
    return [p["id"] for p in response.json()["results"]]


def test_members_see_shared_and_their_organizations_profiles(
    profiles, viewer_a, admin_b, superuser, anonymous
):
    shared, own_a, own_b = profiles
    assert _ids(viewer_a) == [shared.pk, own_a.pk]
    assert _ids(admin_b) == [shared.pk, own_b.pk]
    assert _ids(superuser) == [shared.pk, own_a.pk, own_b.pk]
    assert viewer_a.client.get(f"{URL}{own_b.pk}/").status_code == 404
    assert admin_b.client.get(f"{URL}{own_a.pk}/").status_code == 404
    assert viewer_a.client.get(f"{URL}abc/").status_code == 404
    assert anonymous.client.get(URL).status_code == 401


def test_detail_names_the_three_services(profiles, viewer_a):
    shared, _, _ = profiles
    body = viewer_a.client.get(f"{URL}{shared.pk}/").json()
    assert body["name"] == "cwmp-default"
    assert body["organization_id"] is None
    assert body["connection_service"] == {
        "protocol": "cwmp",
        "connection_request_methods": ["udp", "http"],
    }
    assert body["collection_service"] == {"metrics_interval": 300, "log_level": "events"}
    assert body["storage_service"] == {"log_retention_days": None}


def test_filter_by_name(profiles, viewer_a):
    shared, own_a, own_b = profiles
    assert _ids(viewer_a, "?name=a-quiet") == [own_a.pk]
    assert _ids(viewer_a, "?name=b-profile") == []  # another organization's
    assert _ids(viewer_a, "?limit=1&offset=1") == [own_a.pk]


def test_profiles_are_read_only_over_the_api(profiles, admin_a, superuser):
    shared, own_a, _ = profiles
    assert superuser.client.post(URL, {"name": "x"}, format="json").status_code == 405
    assert (
        admin_a.client.patch(f"{URL}{own_a.pk}/", {"name": "y"}, format="json").status_code == 405
    )
    assert admin_a.client.delete(f"{URL}{own_a.pk}/").status_code == 405


def test_a_device_type_points_at_a_visible_profile(profiles, org_a, admin_a):
    shared, own_a, own_b = profiles
    type_a = DeviceType.objects.create(organization=org_a, short_name="type_a", name="A")
    url = f"/api/v1/inventory_type/{type_a.pk}/"
    response = admin_a.client.patch(url, {"connection_profile": own_a.pk}, format="json")
    assert response.status_code == 200 and response.json()["connection_profile"] == own_a.pk
    assert DeviceType.objects.get(pk=type_a.pk).connection_profile_id == own_a.pk
    refused = admin_a.client.patch(url, {"connection_profile": own_b.pk}, format="json")
    assert refused.status_code == 400 and "connection_profile" in refused.json()
    assert DeviceType.objects.get(pk=type_a.pk).connection_profile_id == own_a.pk


def test_the_platform_values_come_from_the_profile_where_set(profiles, settings):
    shared, own_a, _ = profiles
    settings.LINESMAN_DEVICE_LOG_RETENTION_DAYS = 9
    plain = DeviceType.objects.create(short_name="plain", name="Plain")
    assert effective(plain) == effective(None)
    assert effective(plain).log_retention_days == 9
    assert effective(plain).metrics_interval == DEFAULT_METRICS_INTERVAL
    typed = DeviceType.objects.create(short_name="typed", name="T", connection_profile=shared)
    values = effective(typed)
    assert values.connection_request_methods == ("udp", "http")
    assert values.metrics_interval == 300
    assert values.log_retention_days == 9  # the profile sets none
    quiet = DeviceType.objects.create(short_name="quiet", name="Q", connection_profile=own_a)
    assert (effective(quiet).log_level, effective(quiet).log_retention_days) == ("off", 3)
    # a profile without methods leaves the type's own (HTTP by default)
    assert effective(quiet).connection_request_methods == ("http",)


def test_a_profile_without_methods_says_so(profiles, viewer_a):
    _, own_a, _ = profiles
    body = viewer_a.client.get(f"{URL}{own_a.pk}/").json()
    assert body["connection_service"]["connection_request_methods"] is None
    assert body["storage_service"] == {"log_retention_days": 3}
