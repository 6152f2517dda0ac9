"""A device type's connection request methods through the API: a list of known methods in
the order to try them, anything else a 400 naming the field."""

from __future__ import annotations

import pytest

from linesman.inventory.models import DeviceType

pytestmark = pytest.mark.django_db


def patch(actor, dtype, value):
    return actor.client.patch(
        f"/api/v1/inventory_type/{dtype.pk}/",
        {"connection_request_methods": value},
        format="json",
    )


def test_default_is_http_only(superuser, device_type):
    body = superuser.client.get(f"/api/v1/inventory_type/{device_type.pk}/").json()
    assert body["connection_request_methods"] == "http"


def test_an_order_of_known_methods_is_stored(superuser, device_type):
    response = patch(superuser, device_type, "xmpp, udp,http")
    assert response.status_code == 200
    assert response.json()["connection_request_methods"] == "xmpp,udp,http"
    assert DeviceType.objects.get(pk=device_type.pk).connection_request_methods == "xmpp,udp,http"


@pytest.mark.parametrize("value", ["carrier-pigeon", "http,http", "", "http,,udp", "HTTP"])
def test_anything_else_is_a_400_naming_the_field(superuser, device_type, value):
    response = patch(superuser, device_type, value)
    assert response.status_code == 400
    assert "connection_request_methods" in response.json()
    assert DeviceType.objects.get(pk=device_type.pk).connection_request_methods == "http"
