"""Metrics end to end: definitions through the API, points recorded from Informs and from
collections over simulated time, read back through the API (filters, cursor pages,
tenancy), counter rates and resets, retention."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from linesman.cwmp import soap
from linesman.cwmp.models import ConnectionRequestLog, DeviceTask
from linesman.metrics import services
from linesman.metrics.models import Metric, MetricLog
from tests.conftest import make_device, needs_logged_hot_statements
from tests.cwmp.acs_client import ScriptedCpe

pytestmark = pytest.mark.django_db

BYTES = "Device.IP.Interface.1.Stats.BytesReceived"
TEMP = "Device.DeviceInfo.TemperatureStatus.TemperatureSensor.1.Value"
UPTIME = "Device.DeviceInfo.UpTime"


@pytest.fixture(autouse=True)
def _fresh_plans():
    services.forget()
    yield
    services.forget()


def _define(actor, **body):
    response = actor.client.post("/api/v1/inventory_metric/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _series(actor, **query):
    response = actor.client.get("/api/v1/inventory_metric_log/", query)
    assert response.status_code == 200, response.content
    return response.json()


#: The one parameter of the tree a first contact reads (not a metric).
TREE_LEAF = "Device.DeviceInfo.ModelName"


def _session(
    cpe: ScriptedCpe,
    serial: str,
    params: dict,
    answers: dict | None = None,
    events=None,
    tree: tuple[str, ...] = (),
):
    """One session: Inform, empty POST, then answer what the ACS asks (values of every
    GetParameterValues from `answers`, success for a SetParameterValues) until it ends the
    session (204). Returns the names of each GetParameterValues."""
    response = cpe.inform(serial, events=events or ("2 PERIODIC",), params=params)
    assert response.status_code == 200
    response = cpe.post(None)
    asked = []
    while response.status_code == 200:
        request = ScriptedCpe.parse(response)
        message = request.body
        if isinstance(message, soap.SetParameterValues):
            answer = soap.SetParameterValuesResponse(0)
        elif isinstance(message, soap.GetParameterNames):
            # A tree read (after a first contact, or a sync): the answered names and one
            # more leaf, so its GetParameterValues tells itself apart from a collection's.
            names = [TREE_LEAF, *tree]
            answer = soap.GetParameterNamesResponse([soap.ParameterInfo(n, False) for n in names])
        else:
            assert isinstance(message, soap.GetParameterValues), message
            if TREE_LEAF not in message.names:
                asked.append(list(message.names))
            answer = soap.GetParameterValuesResponse(
                [soap.ParameterValue(n, (answers or {}).get(n, "0")) for n in message.names]
            )
        envelope = soap.Envelope(answer, cwmp_id=request.cwmp_id, cwmp_ns=cpe.ns)
        response = cpe.post(raw=soap.serialize(envelope))
    assert response.status_code == 204
    return asked


def test_informs_over_time_become_a_series_with_rates_and_a_reset(
    admin_a, viewer_a, org_a, device_type, task_clock, settings
):
    settings.LINESMAN_METRIC_COLLECTION_INTERVAL = 0  # only what Informs carry
    device = make_device(org_a, device_type, "MET0001", name="gw-1")
    _define(
        admin_a,
        name="rx",
        parameter_path=BYTES,
        kind="counter",
        unit="B/s",
        organization_id=org_a.pk,
    )
    _define(
        admin_a,
        name="temp",
        parameter_path=TEMP,
        kind="absolute",
        unit="C",
        organization_id=org_a.pk,
    )
    cpe = ScriptedCpe()
    _session(cpe, device.serial_number, {}, events=("1 BOOT",))  # first contact, no metrics
    readings = [(1000, "40"), (4000, "41"), (10000, "43"), (500, "42")]  # last: a reset
    for rx, temp in readings:
        task_clock.advance(300)
        _session(cpe, device.serial_number, {BYTES: str(rx), TEMP: temp})

    rx = _series(viewer_a, metric__name="rx", device__name="gw-1")["results"]
    assert [p["raw"] for p in rx] == [1000, 4000, 10000, 500]
    assert rx[0]["value"] is None  # no previous reading: no rate yet
    assert rx[1]["value"] == pytest.approx(3000 / 300, rel=1e-3)
    assert rx[2]["value"] == pytest.approx(6000 / 300, rel=1e-3)
    assert rx[3]["value"] is None  # lower than the last: a reset, never a negative rate
    assert {p["origin"] for p in rx} == {"inform"}
    assert {p["serial_number"] for p in rx} == {"MET0001"}
    temps = _series(viewer_a, parameter__variable_name=TEMP)["results"]
    assert [p["value"] for p in temps] == [40, 41, 43, 42]
    times = [dt.datetime.fromisoformat(p["datetime"]) for p in temps]
    assert all(b - a >= dt.timedelta(seconds=300) for a, b in zip(times, times[1:], strict=False))
    window = _series(
        viewer_a,
        metric__name="temp",
        datetime__gte=temps[1]["datetime"],
        datetime__lte=temps[2]["datetime"],
    )["results"]
    assert [p["value"] for p in window] == [41, 43]


def test_metrics_not_in_the_inform_are_collected_in_the_periodic_session(
    admin_a, viewer_a, org_a, device_type, task_clock, settings
):
    settings.LINESMAN_METRIC_COLLECTION_INTERVAL = 900
    device = make_device(org_a, device_type, "MET0002", name="gw-2")
    _define(admin_a, name="uptime", parameter_path="DeviceInfo.UpTime", organization_id=org_a.pk)
    cpe = ScriptedCpe()
    # First contact: collected at once (provisioning's SetParameterValues comes first).
    asked = _session(cpe, device.serial_number, {}, {UPTIME: "0"}, events=("1 BOOT",))
    assert asked == [[UPTIME]]
    for minute in range(1, 13):  # an hour of 5-minute informs
        task_clock.advance(300)
        asked += _session(cpe, device.serial_number, {}, {UPTIME: str(minute * 300)})
    # Once per 15-minute interval (4 in an hour, give or take the device's offset), each
    # asking only for the metric the Inform did not carry, with no connection request.
    assert asked and all(names == [UPTIME] for names in asked)
    assert 5 <= len(asked) <= 6
    points = _series(viewer_a, metric__name="uptime")["results"]
    assert len(points) == len(asked)
    assert {p["origin"] for p in points} == {"collection"}
    assert DeviceTask.objects.filter(device=device, handler="metrics", state="done").count() == (
        len(asked)
    )
    assert not ConnectionRequestLog.objects.filter(device=device).exists()


def test_an_inform_without_metric_values_costs_no_statement(
    org_a, device_type, django_assert_max_num_queries, settings
):
    settings.LINESMAN_METRIC_COLLECTION_INTERVAL = 0
    device = make_device(org_a, device_type, "MET0003")
    Metric.objects.create(organization=org_a, name="rx", parameter_path=BYTES, kind="counter")
    now = timezone.now()
    services.plan_for(device.type_id, device.organization_id)  # warm the cache
    with django_assert_max_num_queries(0):
        services.on_inform(device, {"Device.DeviceInfo.SoftwareVersion": "1"}, "Device.", now)
    with django_assert_max_num_queries(1):
        services.on_inform(device, {BYTES: "10", TEMP: "3"}, "Device.", now)
    assert MetricLog.objects.filter(device=device).count() == 1


def test_cursor_pages_are_stable_while_points_arrive(admin_a, viewer_a, org_a, device_type):
    device = make_device(org_a, device_type, "MET0004", name="gw-4")
    metric = Metric.objects.create(organization=org_a, name="temp", parameter_path=TEMP)
    start = timezone.now() - dt.timedelta(hours=1)
    for i in range(7):  # two points share each time: (time, id) orders them
        services.record(
            device.pk, [(metric.pk, "absolute", float(i))], start + dt.timedelta(minutes=i // 2), 1
        )
    page = _series(viewer_a, limit=3)
    seen = [p["raw"] for p in page["results"]]
    assert page["previous"] is None
    # A point recorded meanwhile, earlier than everything read so far, must not shift pages.
    services.record(device.pk, [(metric.pk, "absolute", 99.0)], start - dt.timedelta(hours=1), 1)
    while page["next"]:
        page = viewer_a.client.get(page["next"]).json()
        seen += [p["raw"] for p in page["results"]]
    assert seen == [0, 1, 2, 3, 4, 5, 6]
    back = viewer_a.client.get(page["previous"]).json()
    assert [p["raw"] for p in back["results"]] == [3, 4, 5]


def test_tenancy_only_the_callers_devices(admin_a, admin_b, viewer_a, org_a, org_b, device_type):
    mine = make_device(org_a, device_type, "MET0005")
    theirs = make_device(org_b, device_type, "MET0006")
    shared = Metric.objects.create(name="temp", parameter_path=TEMP)
    now = timezone.now()
    for device in (mine, theirs):
        services.record(device.pk, [(shared.pk, "absolute", 1.0)], now, 1)
    assert [p["device_id"] for p in _series(viewer_a)["results"]] == [mine.pk]
    assert [p["device_id"] for p in _series(admin_b)["results"]] == [theirs.pk]
    point = MetricLog.objects.get(device=theirs)
    assert viewer_a.client.get(f"/api/v1/inventory_metric_log/{point.pk}/").status_code == 404
    assert (
        viewer_a.client.get("/api/v1/inventory_metric_log/", {"organization": org_b.pk}).status_code
        == 403
    )
    # Shared definitions: everyone reads them, only superusers change them.
    assert (
        admin_a.client.patch(
            f"/api/v1/inventory_metric/{shared.pk}/", {"unit": "C"}, format="json"
        ).status_code
        == 403
    )
    theirs_metric = _define(admin_b, name="rx", parameter_path=BYTES, organization_id=org_b.pk)
    assert admin_a.client.get(f"/api/v1/inventory_metric/{theirs_metric['id']}/").status_code == 404
    assert (
        viewer_a.client.post(
            "/api/v1/inventory_metric/",
            {"name": "x", "parameter_path": BYTES, "organization_id": org_a.pk},
            format="json",
        ).status_code
        == 403
    )


def test_definitions_are_managed_by_admins_and_fill_the_catalogue(admin_a, viewer_a, org_a):
    created = _define(
        admin_a, name="rx", parameter_path=BYTES, kind="c", group="wan", organization_id=org_a.pk
    )
    assert created["kind"] == "counter"
    parameter = viewer_a.client.get(f"/api/v1/inventory_parameter/{created['parameter_id']}/")
    assert parameter.status_code == 200 and parameter.json()["metric"] is True
    listed = viewer_a.client.get("/api/v1/inventory_metric/", {"name": "rx"}).json()
    assert [m["id"] for m in listed["results"]] == [created["id"]]
    url = f"/api/v1/inventory_metric/{created['id']}/"
    assert admin_a.client.patch(url, {"unit": "B/s"}, format="json").json()["unit"] == "B/s"
    assert (
        admin_a.client.put(
            url,
            {"name": "rx2", "parameter_path": BYTES, "kind": "delta", "organization_id": org_a.pk},
            format="json",
        ).json()["kind"]
        == "delta"
    )
    assert admin_a.client.delete(url).status_code == 204
    assert not Metric.objects.filter(pk=created["id"]).exists()


@pytest.mark.parametrize(
    "query",
    [
        {"datetime__gte": "yesterday"},
        {"datetime__lte": "2024-13-40"},
        {"device": "1e5"},
        {"device_id": "٣"},
        {"metric": "-1"},
        {"cursor": "not-a-cursor"},
        {"cursor": "WyJ4IiwgMSwgMF0"},
        {"limit": "0"},
        {"origin": "moon"},
    ],
)
def test_bad_filter_values_are_400_naming_the_parameter(viewer_a, query):
    response = viewer_a.client.get("/api/v1/inventory_metric_log/", query)
    assert response.status_code == 400
    assert next(iter(query)) in response.json()


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "parameter_path": "not a path"},
        {"name": "x", "parameter_path": BYTES, "kind": "gauge"},
        {"name": "", "parameter_path": BYTES},
        {"name": "x", "parameter_path": BYTES, "device_type_id": 999999},
    ],
)
def test_bad_definitions_are_400(admin_a, org_a, body):
    response = admin_a.client.post(
        "/api/v1/inventory_metric/", {**body, "organization_id": org_a.pk}, format="json"
    )
    assert response.status_code == 400, response.content


def test_retention_deletes_old_points(org_a, device_type, settings):
    from linesman.housekeeping import sweep_once

    settings.LINESMAN_METRIC_RETENTION_DAYS = 7
    device = make_device(org_a, device_type, "MET0007")
    metric = Metric.objects.create(organization=org_a, name="temp", parameter_path=TEMP)
    now = timezone.now()
    services.record(device.pk, [(metric.pk, "absolute", 1.0)], now - dt.timedelta(days=8), 1)
    services.record(device.pk, [(metric.pk, "absolute", 2.0)], now - dt.timedelta(days=6), 1)
    sweep_once()
    assert list(MetricLog.objects.values_list("raw", flat=True)) == [2.0]


@pytest.mark.parametrize(
    "moment", ["2000-01-01", "2000-01-01 00:01:00", "2000-01-01 00:01:00+00:00"]
)
def test_datetime_filters_take_the_references_formats(viewer_a, org_a, device_type, moment):
    device = make_device(org_a, device_type, "MET0008")
    metric = Metric.objects.create(organization=org_a, name="temp", parameter_path=TEMP)
    at = dt.datetime(2000, 1, 1, 0, 1, tzinfo=dt.UTC)
    services.record(device.pk, [(metric.pk, "absolute", 1.0)], at - dt.timedelta(days=1), 1)
    services.record(device.pk, [(metric.pk, "absolute", 2.0)], at, 1)
    after = _series(viewer_a, datetime__gte=moment)["results"]
    assert [p["raw"] for p in after] == [2.0]
    before = _series(viewer_a, datetime__lte=moment)["results"]
    assert [p["raw"] for p in before][0] == 1.0


def test_values_an_operation_reads_join_the_series_as_operation_points(
    admin_a, viewer_a, org_a, device_type, settings
):
    settings.LINESMAN_METRIC_COLLECTION_INTERVAL = 0
    device = make_device(org_a, device_type, "MET0009", name="gw-9")
    _define(admin_a, name="uptime", parameter_path=UPTIME, organization_id=org_a.pk)
    cpe = ScriptedCpe()
    _session(cpe, device.serial_number, {}, events=("1 BOOT",))
    response = admin_a.client.patch(
        f"/api/v1/inventory_device/{device.pk}/", {"sync": True}, format="json"
    )
    assert response.status_code == 200, response.content
    _session(
        cpe,
        device.serial_number,
        {},
        {UPTIME: "4242", TEMP: "40"},
        events=("6 CONNECTION REQUEST",),
        tree=(UPTIME, TEMP),
    )
    points = _series(viewer_a, metric__name="uptime")["results"]
    assert [(p["raw"], p["origin"]) for p in points] == [(4242, "operation")]


def test_list_items_equal_the_detail_serializer(viewer_a, org_a, device_type):
    """The list renders plain rows (api.serializers.list_item); each item must be what
    the detail endpoint (the serializer) says of the same point."""
    device = make_device(org_a, device_type, "MET0010", name="gw-10")
    rx = Metric.objects.create(
        organization=org_a, name="rx", parameter_path="IP.Interface.1.Stats.BytesReceived",
        kind="counter", unit="B/s",
    )  # fmt: skip
    temp = Metric.objects.create(organization=org_a, name="temp", parameter_path=TEMP)
    now = timezone.now()
    services.record(device.pk, [(rx.pk, "counter", 10.0), (temp.pk, "absolute", 3.5)], now, 2)
    services.record(device.pk, [(rx.pk, "counter", 70.0)], now + dt.timedelta(seconds=60), 3)
    listed = _series(viewer_a)["results"]
    assert len(listed) == 3
    for item in listed:
        detail = viewer_a.client.get(f"/api/v1/inventory_metric_log/{item['id']}/")
        assert detail.json() == item
    assert [p["value"] for p in listed] == [None, 3.5, pytest.approx(1.0, rel=1e-6)]


def test_admin_pages_link_the_catalogue_and_set_a_types_interval(superuser, device_type):
    from django.test import Client

    from linesman.inventory.models import Parameter

    client = Client()
    client.force_login(superuser.user)
    response = client.post(
        "/admin/metrics/metric/add/",
        {"name": "temp", "parameter_path": TEMP, "kind": "absolute", "group": "", "unit": "C"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    metric = Metric.objects.get(name="temp")
    assert metric.parameter == Parameter.objects.get(variable_name=TEMP, metric=True)
    response = client.post(
        "/admin/metrics/typecollection/add/", {"device_type": device_type.pk, "interval": 600}
    )
    assert response.status_code == 302
    assert services.plan_for(device_type.pk, 0).interval == 600


def test_a_device_that_never_fetches_its_collection_gets_no_pile(org_a, device_type, settings):
    settings.LINESMAN_METRIC_COLLECTION_INTERVAL = 300
    device = make_device(org_a, device_type, "MET0011")
    Metric.objects.create(organization=org_a, name="uptime", parameter_path=UPTIME)
    start = timezone.now()
    for n in range(1, 5):  # four Informs, each past an interval boundary, no empty POST
        at = start + dt.timedelta(seconds=301 * n)
        device.last_connection = at - dt.timedelta(seconds=301)
        services.on_inform(device, {}, "Device.", at)
    assert DeviceTask.objects.filter(device=device, handler="metrics").count() == 1


def test_an_inform_carrying_metric_values_costs_one_statement_more(
    org_a, device_type, second_type, task_clock, settings
):
    """The Inform path's budget: a periodic Inform of a device whose type has metrics, that
    carries their values, costs exactly one statement more than one of a device without
    metrics (the INSERT), and an Inform without metric values costs nothing more."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    needs_logged_hot_statements()
    settings.LINESMAN_METRIC_COLLECTION_INTERVAL = 0
    plain = make_device(org_a, second_type, "MET0012")
    measured = make_device(org_a, device_type, "MET0013")
    Metric.objects.create(organization=org_a, name="rx", parameter_path=BYTES, kind="counter",
                          device_type=device_type)  # fmt: skip
    Metric.objects.create(organization=org_a, name="temp", parameter_path=TEMP,
                          device_type=device_type)  # fmt: skip
    cpe = ScriptedCpe()
    for device in (plain, measured):
        _session(cpe, device.serial_number, {}, events=("1 BOOT",))

    def periodic(device, params) -> int:
        task_clock.advance(300)
        services.plan_for(device.type_id, device.organization_id)  # the per-process cache
        with CaptureQueriesContext(connection) as queries:
            assert cpe.inform(device.serial_number, events=("2 PERIODIC",),
                              params=params).status_code == 200  # fmt: skip
        count = len(queries)  # read before the next request clears the log
        assert cpe.post(None).status_code == 204
        return count

    values = {BYTES: "1000", TEMP: "40"}
    baseline = periodic(plain, values)
    assert baseline > 0
    assert periodic(measured, values) == baseline + 1
    assert periodic(measured, {}) == baseline
    assert MetricLog.objects.filter(device=measured).count() == 2  # one Inform, two values
