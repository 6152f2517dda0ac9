"""The session engine where issue #16's second mutation run (mutmut 3.8) over
`linesman.cwmp.session` found it untested: requests of one session served on different
threads, and the exact edges of its time limits.
"""

from __future__ import annotations

import threading

import pytest

from linesman.core import crypto
from linesman.cwmp import soap
from linesman.cwmp.models import DeviceTask, TaskState
from tests.conftest import make_device
from tests.cwmp.acs_client import ScriptedCpe
from tests.cwmp.test_session_exchanges import SERIAL, _provisioned, _reboot

pytestmark = pytest.mark.django_db


@pytest.fixture
def device(org_a, device_type):
    return make_device(
        org_a, device_type, SERIAL, username="cpe", password_encrypted=crypto.encrypt("pw")
    )


def _on_another_thread(request):
    """Serve `request()` on a new thread, as a threaded server may (its own connection)."""
    got: list = []

    def serve():
        from django.db import connection

        try:
            got.append(request())
        finally:
            connection.close()

    thread = threading.Thread(target=serve)
    thread.start()
    thread.join(30)
    assert got, "the request failed on its thread"
    return got[0]


# --- one session, several threads ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_session_goes_on_when_its_requests_are_served_on_other_threads(device, admin_a):
    _provisioned()
    op = _reboot(device, admin_a)
    cpe = ScriptedCpe("cpe", "pw")
    assert cpe.inform(SERIAL, events=("6 CONNECTION REQUEST",)).status_code == 200
    sent = _on_another_thread(lambda: cpe.post(None))
    assert isinstance(cpe.parse(sent).body, soap.Reboot)
    assert _on_another_thread(lambda: cpe.post(soap.RebootResponse())).status_code == 204
    assert DeviceTask.objects.get(operation=op).state == TaskState.DONE
