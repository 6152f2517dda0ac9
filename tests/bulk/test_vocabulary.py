"""One name per operation: the API's bulk jobs take `firmware` (a device's operation name)
for `firmware_upgrade`, and show `firmware_upgrade`."""

from __future__ import annotations

import pytest

from linesman.cli.jobs import OPERATION_ALIASES
from linesman.inventory.models import FirmwareImage
from linesman.operations.bulk.models import OPERATION_TYPE_ALIASES
from tests.bulk.conftest import URL

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("key", ["operation_type", "operation"])
def test_firmware_is_accepted_for_firmware_upgrade(noc, seed_fleet, types, key):
    image = FirmwareImage.objects.create(device_type=types["router"], version="9.9.9", file="f.bin")
    body = {
        key: "firmware",
        "device_filters": {"serial_numbers": ["RT101A"]},
        "firmware_image": image.pk,
        "schedule": {"execute_at": "2031-01-01T00:00:00Z"},
    }
    response = noc.client.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["operation_type"] == "firmware_upgrade"


def test_the_command_line_knows_the_same_aliases():
    assert OPERATION_ALIASES == OPERATION_TYPE_ALIASES
