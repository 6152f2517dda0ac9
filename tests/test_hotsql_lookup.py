"""`hotsql.Lookup`: a queryset compiled once answers later calls with their own arguments,
with the same instances (related rows included) as the ORM, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from linesman.core import hotsql
from linesman.cwmp.models import CwmpSession
from linesman.inventory.models import Device
from tests.conftest import make_device

pytestmark = pytest.mark.django_db(transaction=True)

BY_SERIAL = hotsql.Lookup(
    lambda serial: Device.objects.select_related("type", "organization").filter(
        serial_number=serial
    )[:1],
    str,
)
SESSION_OF = hotsql.Lookup(
    lambda device_id, key: CwmpSession.objects.select_related("device", "device__type").filter(
        device_id=device_id, key=key
    ),
    int,
    str,
)


def test_each_call_answers_with_its_own_arguments(org_a, device_type):
    a = make_device(org_a, device_type, "HS-A")
    b = make_device(org_a, device_type, "HS-B")
    assert BY_SERIAL.first("HS-A").pk == a.pk
    assert BY_SERIAL.first("HS-B").pk == b.pk
    assert BY_SERIAL.first("HS-NONE") is None


def test_instances_are_the_orms_with_related_rows_and_converted_values(org_a, device_type):
    device_type.settings_template = {"Device.X": "1"}
    device_type.save()
    device = make_device(org_a, device_type, "HS-C", is_active=True)
    stamp = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    CwmpSession.objects.create(key="k-1", device=device, cwmp_ns="urn", last_activity=stamp)
    session = SESSION_OF.first(device.pk, "k-1")
    assert session.last_activity == stamp  # a datetime again, with its zone
    assert session.device.serial_number == "HS-C"
    assert session.device.type.short_name == device_type.short_name
    assert session.device.type.settings_template == {"Device.X": "1"}  # JSON decoded
    assert session.device.is_active is True  # a bool, not SQLite's 1
    assert session._state.adding is False  # saved rows, as the ORM gives them
    assert SESSION_OF.first(device.pk, "k-2") is None
    assert SESSION_OF.first(device.pk + 1, "k-1") is None


def test_each_thread_compiles_for_its_own_connection(org_a, device_type):
    make_device(org_a, device_type, "HS-D")
    found = []

    def lookup():
        try:
            found.append(BY_SERIAL.first("HS-D").serial_number)
        finally:
            from django.db import connection

            connection.close()

    thread = threading.Thread(target=lookup)
    thread.start()
    thread.join(10)
    assert found == ["HS-D"]
    assert BY_SERIAL.first("HS-D").serial_number == "HS-D"


def test_arguments_must_be_ints_or_strings():
    with pytest.raises(TypeError):
        hotsql.Lookup(lambda when: Device.objects.filter(created__gte=when), datetime)


def test_insert_stores_the_instance_as_save_would(org_a, device_type):
    device = make_device(org_a, device_type, "HS-I")
    session = CwmpSession(key="k-ins", device=device, cwmp_ns="urn:x", last_activity=None)
    session.last_activity = datetime(2026, 3, 1, tzinfo=UTC)
    hotsql.insert(session)
    assert session.pk is not None and session._state.adding is False
    stored = CwmpSession.objects.get(pk=session.pk)
    assert (stored.key, stored.device_id, stored.cwmp_ns) == ("k-ins", device.pk, "urn:x")
    assert stored.last_activity == datetime(2026, 3, 1, tzinfo=UTC)
    assert stored.started is not None  # its default, as save() would have stored
    assert stored.rpc_count == 0


def test_update_fields_stamps_auto_now_fields_as_save_would(org_a, device_type):
    from linesman.inventory.models import Setting

    device = make_device(org_a, device_type, "HOT-STAMP")
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    setting = Setting.objects.create(device=device, variable_name="Device.X", value="a")
    Setting.objects.filter(pk=setting.pk).update(updated=long_ago)

    assert hotsql.update_fields(Setting, setting.pk, {"value": "b"}) == 1
    setting.refresh_from_db()
    assert (setting.value, setting.updated > long_ago) == ("b", True)

    # Named by the caller, the caller's value is stored.
    hotsql.update_fields(Setting, setting.pk, {"value": "c", "updated": long_ago})
    setting.refresh_from_db()
    assert (setting.value, setting.updated) == ("c", long_ago)


def test_update_fields_conditions_compare_and_set_by_value_or_by_membership(org_a, device_type):
    from linesman.inventory.models import Setting

    device = make_device(org_a, device_type, "HOT-CAS")
    setting = Setting.objects.create(device=device, variable_name="Device.X", value="a")

    def value() -> str:
        return Setting.objects.get(pk=setting.pk).value

    assert hotsql.update_fields(Setting, setting.pk, {"value": "b"}, {"value": "z"}) == 0
    assert value() == "a"
    assert hotsql.update_fields(Setting, setting.pk, {"value": "b"}, {"value": "a"}) == 1
    assert value() == "b"
    # A tuple: the row changes only while the column holds one of its values.
    assert hotsql.update_fields(Setting, setting.pk, {"value": "c"}, {"value": ("a", "x")}) == 0
    assert value() == "b"
    assert hotsql.update_fields(Setting, setting.pk, {"value": "c"}, {"value": ("a", "b")}) == 1
    assert value() == "c"
    # One value in the tuple, and none (nothing can match: no statement, no change).
    assert hotsql.update_fields(Setting, setting.pk, {"value": "d"}, {"value": ("c",)}) == 1
    assert hotsql.update_fields(Setting, setting.pk, {"value": "e"}, {"value": ()}) == 0
    assert value() == "d"


def test_statements_go_on_after_the_connection_is_closed_and_opened_again(org_a, device_type):
    """On PostgreSQL one cursor serves a connection's statements: a new connection must
    get a cursor of its own, not the closed connection's."""
    from django.db import connection

    make_device(org_a, device_type, "HS-RE")
    assert BY_SERIAL.first("HS-RE").serial_number == "HS-RE"
    connection.close()
    assert BY_SERIAL.first("HS-RE").serial_number == "HS-RE"
    assert hotsql.exists(
        f"SELECT 1 FROM {Device._meta.db_table} WHERE serial_number = %s", ["HS-RE"]
    )


def test_a_failed_statement_leaves_the_next_ones_working(org_a, device_type):
    from django.db import IntegrityError, transaction

    device = make_device(org_a, device_type, "HS-FAIL")
    other = make_device(org_a, device_type, "HS-OTHER")
    with pytest.raises(IntegrityError), transaction.atomic():
        # The serial number is unique: the database refuses the row.
        hotsql.execute(
            f"UPDATE {Device._meta.db_table} SET serial_number = %s WHERE id = %s",
            ["HS-FAIL", other.pk],
        )
    assert BY_SERIAL.first("HS-FAIL").pk == device.pk
    rows = hotsql.fetchone(
        f"SELECT COUNT(*) FROM {Device._meta.db_table} WHERE serial_number LIKE %s", ["HS-%"]
    )
    assert rows == (2,)


def test_update_where_changes_every_matching_row_and_stamps_nothing(org_a, device_type):
    from linesman.inventory.models import Setting

    device = make_device(org_a, device_type, "HOT-WHERE")
    other = make_device(org_a, device_type, "HOT-WHERE-2")
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    rows = [
        Setting.objects.create(device=d, variable_name=name, value=v)
        for d, name, v in [
            (device, "Device.A", "a"),
            (device, "Device.B", "b"),
            (device, "Device.C", "c"),
            (other, "Device.A", "a"),
        ]
    ]
    Setting.objects.update(updated=long_ago)

    # A related row by its instance or its key, and membership.
    changed = hotsql.update_where(
        Setting, {"value": "x"}, {"device": device, "value": ("a", "b", "z")}
    )
    assert changed == 2
    assert hotsql.update_where(Setting, {"value": "y"}, {"device": other.pk, "value": ()}) == 0
    values = dict(Setting.objects.values_list("pk", "value"))
    assert [values[r.pk] for r in rows] == ["x", "x", "c", "a"]
    # As QuerySet.update(): `auto_now` fields keep their value.
    assert set(Setting.objects.values_list("updated", flat=True)) == {long_ago}
    with pytest.raises(ValueError):
        hotsql.update_where(Setting, {"value": "all"}, {})
