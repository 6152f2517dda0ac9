"""The parameter catalogue learns each entry's type from the values devices read, once:
later reads of typed entries cost no catalogue query, and an entry an administrator sets
back to the default type is refined again by the next read."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linesman.cwmp.parameters import merge_values
from linesman.inventory.models import Parameter
from tests.conftest import make_device

pytestmark = pytest.mark.django_db

NAME = "Device.Ethernet.Interface.1.Stats.BytesSent"


def _read(device, value="10"):
    merge_values(device.pk, [{"name": NAME, "value": value, "type": "xsd:unsignedLong"}])


def _catalogue_queries(queries) -> int:
    return sum("inventory_parameter" in q["sql"] for q in queries.captured_queries)


def test_a_read_types_the_entry_once(org_a, device_type):
    Parameter.objects.create(name="Bytes sent", variable_name=NAME)
    a = make_device(org_a, device_type, "CT-A")
    b = make_device(org_a, device_type, "CT-B")
    _read(a)
    assert Parameter.objects.get(variable_name=NAME).data_type == "xsd:unsignedLong"
    with CaptureQueriesContext(connection) as queries:
        _read(b, "20")
    assert _catalogue_queries(queries) == 0
    assert b.parameters.values[NAME][:2] == ["20", "xsd:unsignedLong"]


def test_an_entry_set_back_to_the_default_type_is_refined_again(org_a, device_type):
    entry = Parameter.objects.create(name="Bytes sent", variable_name=NAME)
    device = make_device(org_a, device_type, "CT-C")
    _read(device)
    entry.refresh_from_db()
    entry.data_type = "xsd:string"
    entry.save()  # an administrator's edit
    _read(device, "30")
    assert Parameter.objects.get(variable_name=NAME).data_type == "xsd:unsignedLong"


def test_a_name_read_before_it_is_catalogued_is_typed_when_read_after(org_a, device_type):
    device = make_device(org_a, device_type, "CT-D")
    _read(device)  # a provisioning write's echo: not in the catalogue yet
    Parameter.objects.bulk_create([Parameter(name="Bytes sent", variable_name=NAME)])
    _read(device, "40")
    assert Parameter.objects.get(variable_name=NAME).data_type == "xsd:unsignedLong"


def test_a_types_second_device_adds_its_names_without_a_catalogue_query(org_a, device_type):
    from linesman.cwmp.parameters import merge_names

    names = [{"name": NAME, "writable": False}, {"name": "Device.X.Enable", "writable": True}]
    merge_names(make_device(org_a, device_type, "CT-E").pk, names)
    assert set(Parameter.objects.values_list("variable_name", "read_only")) == {
        (NAME, True),
        ("Device.X.Enable", False),
    }
    second = make_device(org_a, device_type, "CT-F")
    with CaptureQueriesContext(connection) as queries:
        merge_names(second.pk, names)
    assert _catalogue_queries(queries) == 0
    assert second.parameters.values["Device.X.Enable"] == ["", "xsd:string", True]
    # Reported writable now: the entry is looked up again and becomes writable.
    merge_names(second.pk, [{"name": NAME, "writable": True}])
    assert Parameter.objects.get(variable_name=NAME).read_only is False


def test_an_entry_deleted_in_this_process_is_catalogued_again(org_a, device_type):
    from linesman.cwmp.parameters import merge_names

    device = make_device(org_a, device_type, "CT-G")
    merge_names(device.pk, [{"name": NAME, "writable": True}])
    Parameter.objects.get(variable_name=NAME).delete()  # an administrator's delete
    merge_names(device.pk, [{"name": NAME, "writable": True}])
    entry = Parameter.objects.get(variable_name=NAME)
    assert list(entry.device_types.values_list("pk", flat=True)) == [device_type.pk]
