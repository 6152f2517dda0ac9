"""Shared fixtures: organizations, users of every role with API tokens, API clients."""

from __future__ import annotations

import os
import shutil

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from linesman.inventory.models import Device, DeviceType, Location
from linesman.tenancy import services as tenancy
from linesman.tenancy.models import Role

# The process that loaded the settings. A runner that forks a test run from it (mutmut runs
# each mutant so, several at once) must not share its files: see django_db_modify_db_settings.
_SETTINGS_LOADED_IN = os.getpid()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """A test run forked from the process that loaded the settings gets its own SQLite test
    database, queue file and cache directory. Parallel runs sharing them break each other's
    tests, and a mutation tester then counts that breakage as mutants killed."""
    if os.getpid() == _SETTINGS_LOADED_IN:
        yield
        return
    from django.conf import settings
    from django.core.cache import caches
    from django.core.cache.backends.filebased import FileBasedCache
    from huey.contrib.djhuey import HUEY

    suffix = f"-{os.getpid()}"
    test = settings.DATABASES["default"].get("TEST", {})
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and test.get("NAME"):
        test["NAME"] += suffix
    own_files = []
    storage = HUEY.storage
    if hasattr(storage, "filename"):
        storage.filename += suffix
        storage._conn = None  # the parent's connection, to the parent's file
        storage.initialize_schema()
        own_files += [storage.filename, storage.filename + "-wal", storage.filename + "-shm"]
    cache = settings.CACHES["default"]
    if cache["BACKEND"].endswith("FileBasedCache"):
        cache["LOCATION"] += suffix
        for made in caches.all(initialized_only=True):
            if isinstance(made, FileBasedCache):
                made._dir = cache["LOCATION"]
        own_files.append(cache["LOCATION"])
    yield
    for path in own_files:
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.exists(path):
            os.remove(path)


class Actor:
    """A user with a token, and an API client that sends it."""

    def __init__(self, user, token: str | None):
        self.user = user
        self.token = token
        self.client = APIClient()
        if token:
            self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture(autouse=True)
def _fresh_throttle():
    """Brute-force counters start empty in every test: they live in a cache that outlasts
    tests, and whole modules' worth of failures from 127.0.0.1 would add up."""
    from linesman.core import throttle

    throttle.forget()


@pytest.fixture
def org_a(db):
    return tenancy.create_organization("Org A")


@pytest.fixture
def org_b(db):
    return tenancy.create_organization("Org B")


def make_actor(username: str, org=None, role: str = Role.VIEWER, superuser: bool = False):
    user = tenancy.create_user(username, organization=org, role=role, superuser=superuser)
    return Actor(user, tenancy.create_token(user).clear)


@pytest.fixture
def admin_a(org_a):
    return make_actor("admin_a", org_a, Role.ADMIN)


@pytest.fixture
def operator_a(org_a):
    return make_actor("operator_a", org_a, Role.OPERATOR)


@pytest.fixture
def viewer_a(org_a):
    return make_actor("viewer_a", org_a, Role.VIEWER)


@pytest.fixture
def admin_b(org_b):
    return make_actor("admin_b", org_b, Role.ADMIN)


@pytest.fixture
def superuser(db):
    return make_actor("root", superuser=True)


@pytest.fixture
def anonymous(db):
    return Actor(None, None)


@pytest.fixture
def device_type(db):
    return DeviceType.objects.create(
        short_name="enterprise_router", name="Enterprise router", manufacturer="Zequenze Systems"
    )


@pytest.fixture
def location_a(org_a):
    return Location.objects.create(
        organization=org_a,
        name="New York Branch Office",
        short_name="ny_branch",
        latitude="40.7128",
        longitude="-74.0060",
    )


def make_device(org, device_type, serial: str, **fields) -> Device:
    fields.setdefault("name", f"dev-{serial}")
    return Device.objects.create(organization=org, type=device_type, serial_number=serial, **fields)


@pytest.fixture
def device_a(org_a, device_type):
    return make_device(org_a, device_type, "ZEQ240100001", name="Router-Branch-Office-001")


@pytest.fixture
def device_b(org_b, device_type):
    return make_device(org_b, device_type, "ZEQ240200001", name="Router-B-001")


# --- Fixtures added for the acceptance and tenancy tests ---------------------------------


@pytest.fixture
def second_type(db):
    """Another shared device type (the seed's PUT example moves a device to type 15)."""
    return DeviceType.objects.create(
        short_name="enterprise_router_v2", name="Enterprise router v2", manufacturer="Zequenze"
    )


@pytest.fixture
def firmware_image(device_type):
    """A firmware image of `device_type` (the seed's firmware image 47)."""
    from linesman.inventory.models import FirmwareImage

    return FirmwareImage.objects.create(
        device_type=device_type,
        version="2.5.0",
        file="firmware/enterprise_router/fw-2.5.0.bin",
        size=4,
        checksum="0" * 64,
    )


@pytest.fixture
def no_static_finders(settings):
    """Skip WhiteNoise's scan of every app's static files when a test client starts.

    Each APIClient loads the middleware on its first request, and the scan (thousands of
    Swagger UI files) costs tens of milliseconds: noticeable over hundreds of API tests
    that never fetch a static file.
    """
    settings.WHITENOISE_USE_FINDERS = False


# --- The real task queue ----------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    """Caches a process keeps of the database (forgotten on a change signal, which a test's
    rollback never sends) start empty in every test."""
    from linesman.cwmp import challenge, endpoint, parameters

    parameters.forget_catalogued()
    endpoint._open_sessions = None  # sessions other tests opened and never ended
    challenge.forget()


@pytest.fixture(autouse=True)
def _empty_task_queue():
    """Each test starts with the real task storage empty: nothing scheduled by another."""
    from huey.contrib.djhuey import HUEY

    HUEY.flush()
    yield


@pytest.fixture
def task_clock():
    """Time that moves only when the test says, with the due tasks run (tests/taskclock.py)."""
    import time_machine

    from tests.taskclock import TaskClock

    with time_machine.travel(timezone.now(), tick=True) as traveller:
        yield TaskClock(traveller)


def pytest_ignore_collect(collection_path, config):
    """Under mutmut, leave out the schema fuzz: mutmut runs each mutant's tests by node id,
    and the cases schemathesis generates cannot be selected so (pytest exits with a usage
    error and the whole run stops). The fuzz still runs in every normal test run."""
    if "MUTANT_UNDER_TEST" in os.environ and collection_path.name == "test_schema_fuzz.py":
        return True
    return None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Under mutmut, a mutant's tests run quickest first. Its run stops at the first test
    that fails (`-x`), so a mutant some quick test kills is settled in seconds instead of
    after whichever slow tests collection order put before it. The durations are the ones
    mutmut measured in its own clean run (in the process every mutant's run is forked
    from); a normal test run keeps pytest's order."""
    if "__mutmut_" not in os.environ.get("MUTANT_UNDER_TEST", ""):
        return
    try:
        from mutmut.state import state
    except ImportError:
        return
    durations = state().duration_by_test
    items.sort(key=lambda item: durations.get(item.nodeid, float("inf")))


def needs_logged_hot_statements() -> None:
    """Skip a statement-count test where core.hotsql's statements bypass Django's query
    log (PostgreSQL, where they run as prepared statements)."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("on PostgreSQL the hot path's statements (core.hotsql) bypass the query log")
