"""Fixtures of the dashboard's Django test-client tests: logged-in clients per role."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.fixture(autouse=True)
def _fast_static(no_static_finders):
    """Test clients skip WhiteNoise's scan of every app's static files."""


@pytest.fixture
def login():
    """login(actor) -> a Django test client with that actor's user logged in."""

    def make(actor) -> Client:
        client = Client()
        client.force_login(actor.user)
        return client

    return make
