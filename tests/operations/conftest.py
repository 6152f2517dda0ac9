"""Fixtures of the operation engine's tests: a device past its first contact."""

from __future__ import annotations

import pytest

from linesman.core import crypto
from tests.conftest import make_device
from tests.operations.cpe import SERIAL, session


@pytest.fixture
def device(org_a, device_type):
    """A device past its first contact (bootstrap provisioning and tree read answered).
    Modules with a device of their own (test_attempts.py) override it."""
    device = make_device(
        org_a, device_type, SERIAL, username="cpe", password_encrypted=crypto.encrypt("pw")
    )
    session(events=("0 BOOTSTRAP", "1 BOOT"))
    device.refresh_from_db()
    return device
