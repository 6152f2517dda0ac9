"""`linesman diag DEVICE KIND TARGET [--wait]` on the local database."""

from __future__ import annotations

import pytest
from django.utils import timezone

from linesman.cli import diag as cli_diag
from linesman.cwmp.models import DeviceTask, TaskState
from linesman.operations import engine
from linesman.operations.models import Operation
from tests.cli.conftest import Run
from tests.conftest import make_device

pytestmark = pytest.mark.django_db

PING = "Device.IP.Diagnostics.IPPing."


@pytest.fixture
def run(db):
    return Run()


@pytest.fixture
def gateway(org_a, device_type):
    return make_device(org_a, device_type, "CLI0001", name="gw-cli")


def _answer(task: DeviceTask, response: dict) -> None:
    engine.on_task_sent(task)
    task.state, task.response, task.finished_at = TaskState.DONE, response, timezone.now()
    task.save(update_fields=["state", "response", "finished_at"])
    engine.on_task_response(task, response)


@pytest.fixture
def device_pings(monkeypatch, gateway):
    """While the CLI waits, the device runs the ping: 2 of 4 answered, RTT 5/8/11 ms."""

    def step(_seconds: float) -> None:
        task = DeviceTask.objects.filter(device=gateway, state=TaskState.QUEUED).first()
        if task is None:
            return
        if task.method == "SetParameterValues":
            _answer(task, {"status": 0})
            engine.on_inform(gateway, [("8 DIAGNOSTICS COMPLETE", "")])
            return
        values = {"DiagnosticsState": "Complete", "Host": "10.1.1.1", "SuccessCount": "2"}
        values |= {"FailureCount": "2", "MinimumResponseTime": "5"}
        values |= {"AverageResponseTime": "8", "MaximumResponseTime": "11"}
        _answer(task, {"parameters": [{"name": PING + k, "value": v} for k, v in values.items()]})

    monkeypatch.setattr(cli_diag, "_sleep", step)


def test_ping_wait_prints_rtt_and_loss(run, gateway, device_pings):
    result = run(
        "diag", "gw-cli", "ping", "10.1.1.1", "--param", "number_of_repetitions=4", "--wait"
    )
    assert result.exit_code == 0, result.output
    assert "10.1.1.1: reachable, 4 sent, 2 received, 50% loss" in result.stdout
    assert "rtt min/avg/max = 5/8/11 ms" in result.stdout
    op = Operation.objects.get(device=gateway)
    assert op.params["inputs"] == {"host": "10.1.1.1", "number_of_repetitions": "4"}


def test_without_wait_it_queues_and_json_is_the_api_object(run, gateway):
    result = run("diag", "CLI0001", "traceroute", "example.test", "--json")
    assert result.exit_code == 0, result.output
    body = result.json()
    assert body["operation"] == "traceroute" and body["status"] == "initiated"
    assert body["object"] == "Device.IP.Diagnostics.TraceRoute."


def test_usage_errors_and_refusals(run, gateway):
    assert run("diag", "gw-cli", "ping").exit_code == 2  # no host
    assert run("diag", "gw-cli", "wifi", "x").exit_code == 2  # wifi takes none
    assert run("diag", "gw-cli", "ping", "h", "--param", "nope").exit_code == 2
    bad = run("diag", "gw-cli", "ping", "h", "--param", "timeout=soon")
    assert bad.exit_code == 1 and "timeout" in bad.stderr
    assert run("diag", "nobody", "ping", "h").exit_code == 1
    assert run("diag", "gw-cli", "ping", "h").exit_code == 0
    busy = run("diag", "gw-cli", "ping", "h")
    assert busy.exit_code == 1 and "is initiated on this device" in busy.stderr


def test_wait_timeout_exits_3_while_it_still_runs(run, gateway, monkeypatch):
    monkeypatch.setattr(cli_diag, "_sleep", lambda s: None)
    result = run("diag", "gw-cli", "ping", "h", "--wait", "--timeout", "0")
    assert result.exit_code == 3 and "still initiated" in result.stderr
