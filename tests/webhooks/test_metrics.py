"""`GET /metrics`: Prometheus figures counted from platform events and read from the
database, served to allowed networks or with the metrics token."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from linesman.inventory import services as inventory
from linesman.inventory.models import DeviceStatus
from tests.conftest import make_device

TOKEN = "metrics-token-0123456789"


def _value(text: str, name: str, labels: str = "") -> float:
    pattern = re.escape(name + (("{" + labels + "}") if labels else "")) + r" ([0-9.e+-]+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def _scrape(**extra) -> str:
    response = Client().get("/metrics", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def test_devices_by_organization_and_status(org_a, org_b, device_type):
    make_device(org_a, device_type, "M1", status=DeviceStatus.UP)
    make_device(org_a, device_type, "M2", status=DeviceStatus.DOWN)
    make_device(org_a, device_type, "M3", status=DeviceStatus.DOWN)
    make_device(org_b, device_type, "M4", status=DeviceStatus.UP)
    text = _scrape()
    assert _value(text, "linesman_devices", 'organization="Org A",status="Down"') == 2
    assert _value(text, "linesman_devices", 'organization="Org A",status="Up"') == 1
    assert _value(text, "linesman_devices", 'organization="Org B",status="Up"') == 1
    assert "linesman_task_queue_depth" in text


def test_status_flips_are_counted_across_scrapes(
    org_a, device_type, django_capture_on_commit_callbacks
):
    device = make_device(org_a, device_type, "M5", status=DeviceStatus.UP)
    before = _value(_scrape(), "linesman_device_status_changes_total", 'to="down"')
    with django_capture_on_commit_callbacks(execute=True):
        inventory.set_status(device, up=False)
    after = _value(_scrape(), "linesman_device_status_changes_total", 'to="down"')
    assert after == before + 1


@pytest.mark.parametrize(
    ("remote", "header", "token", "status"),
    [
        ("127.0.0.1", None, None, 200),
        ("::1", None, None, 200),
        ("203.0.113.9", None, None, 403),
        ("203.0.113.9", f"Bearer {TOKEN}", TOKEN, 200),
        ("203.0.113.9", "Bearer wrong-token-0123456789", TOKEN, 403),
        ("203.0.113.9", f"Bearer {TOKEN}", None, 403),
    ],
)
def test_access_is_restricted_by_network_or_token(db, settings, remote, header, token, status):
    settings.LINESMAN_METRICS_TOKEN = token
    extra = {"REMOTE_ADDR": remote}
    if header:
        extra["HTTP_AUTHORIZATION"] = header
    response = Client().get("/metrics", **extra)
    assert response.status_code == status
    if status == 403:
        assert "detail" in response.json()


def test_connection_requests_are_counted_by_outcome(
    org_a, device_type, django_capture_on_commit_callbacks
):
    from linesman.cwmp import connreq
    from tests.cwmp.cr_listeners import recording_listener

    labels_ok = 'method="http",outcome="ok"'
    labels_refused = 'method="http",outcome="address_not_allowed"'
    text = _scrape()
    ok, refused = (
        _value(text, "linesman_connection_requests_total", labels_ok),
        _value(text, "linesman_connection_requests_total", labels_refused),
    )
    with recording_listener(200) as listener:
        reachable = make_device(
            org_a,
            device_type,
            "CR1",
            connection_request_url=f"http://127.0.0.1:{listener.port}/cr",
        )
        with django_capture_on_commit_callbacks(execute=True):
            assert connreq.send(reachable).ok
    metadata = make_device(
        org_a, device_type, "CR2", connection_request_url="http://169.254.169.254/"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert connreq.send(metadata).cause == "address_not_allowed"
    text = _scrape()
    assert _value(text, "linesman_connection_requests_total", labels_ok) == ok + 1
    assert _value(text, "linesman_connection_requests_total", labels_refused) == refused + 1


def test_server_start_removes_only_the_files_of_finished_processes(tmp_path, monkeypatch):
    import os
    import subprocess
    import sys

    from linesman.observability import metrics

    finished_pid = subprocess.Popen([sys.executable, "-c", "pass"])
    finished_pid.wait()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    mine = tmp_path / f"counter_{os.getpid()}.db"
    dead = tmp_path / f"counter_{finished_pid.pid}.db"
    mine.write_bytes(b"x")
    dead.write_bytes(b"x")

    metrics.fresh_dir()

    assert mine.exists() and not dead.exists()


def test_a_session_with_work_is_timed(
    operator_a, org_a, device_type, django_capture_on_commit_callbacks
):
    from linesman.core import crypto
    from linesman.cwmp import soap
    from tests.cwmp.acs_client import ScriptedCpe

    make_device(
        org_a, device_type, "TIMED1", username="cpe", password_encrypted=crypto.encrypt("pw")
    )
    count = "linesman_session_duration_seconds_count"
    before = _value(_scrape(), count)
    cpe = ScriptedCpe("cpe", "pw")
    with django_capture_on_commit_callbacks(execute=True):
        assert cpe.inform("TIMED1", events=("0 BOOTSTRAP", "1 BOOT")).status_code == 200
        response = cpe.post(None)  # bootstrap provisioning, then the tree read
        while response.status_code == 200:
            request = cpe.parse(response).body
            if isinstance(request, soap.GetParameterNames):
                answer = soap.GetParameterNamesResponse([])
            else:
                assert isinstance(request, soap.SetParameterValues), request
                answer = soap.SetParameterValuesResponse(0)
            response = cpe.post(answer)
        assert response.status_code == 204
    assert _value(_scrape(), count) == before + 1
