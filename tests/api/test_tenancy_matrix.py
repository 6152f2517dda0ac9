"""Who may do what, where: every endpoint and method against every kind of caller.

Two organizations A and B (and an empty C). Each row of `TABLE` is one request; its last
six columns are the expected answer for viewer_a, operator_a, admin_a, superuser, anonymous
and admin_b. An expectation `(200, {...})` on a list also names exactly which objects the
list holds (and counts). Rules the table encodes:

- anonymous: 401 everywhere;
- objects of an organization the caller does not belong to: 404 on detail/update/delete;
- lists never contain nor count another organization's objects; `?organization=<other>`: 403;
- viewer: reads 200, writes 403; operator: reads 200, PATCH with only operation flags or
  debug 200, other writes 403; admin: everything in the own organization (create 201,
  delete 204); superuser: everything everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from linesman.audit import services as audit
from linesman.audit.models import AuditAction, AuditEntry
from linesman.connprofiles.models import ConnectionProfile
from linesman.devicelog.models import DeviceLogEntry
from linesman.inventory.models import Device, DeviceType, FirmwareImage, Location, Setting
from linesman.operations.models import Operation
from linesman.tenancy import services as tenancy
from linesman.tenancy.models import ApiToken, Organization
from linesman.webhooks.models import Delivery, Endpoint
from tests.conftest import make_device

pytestmark = pytest.mark.usefixtures("no_static_finders")

ACTORS = ("viewer_a", "operator_a", "admin_a", "superuser", "anonymous", "admin_b")


@dataclass(frozen=True)
class Multipart:
    """A multipart/form-data body; `file` is added as a small uploaded firmware file."""

    fields: dict


DEV = "/api/v1/inventory_device/"
BY_NAME = "/api/v1/inventory_device_name/"
BY_SERIAL = "/api/v1/inventory_device_serial/"
ORG = "/api/v1/organization/"
TYPE = "/api/v1/inventory_type/"
LOC = "/api/v1/inventory_location/"
FW = "/api/v1/inventory_firmware_image/"
AUDIT = "/api/v1/audit_log/"
LOG = "/api/v1/inventory_device_log/"
PROFILE = "/api/v1/inventory_connection_profile/"
SET_ID = "/api/v1/inventory_device_setting/"
SET_NAME = "/api/v1/inventory_device_name_setting/"
SET_SERIAL = "/api/v1/inventory_device_serial_setting/"
SETTING = {"variable_name": "Device.X.Enable", "value": "1"}
DIAGS = "/api/v1/inventory_device_diags/"
DIAGS_NAME = "/api/v1/inventory_device_name_diags/"
DIAGS_SERIAL = "/api/v1/inventory_device_serial_diags/"
IPPING = "/api/v1/inventory_device_ipping/"
IPPING_NAME = "/api/v1/inventory_device_name_ipping/"
IPPING_SERIAL = "/api/v1/inventory_device_serial_ipping/"
PING = {"operation": "ipping", "parameters": {"host": "127.0.0.1"}}
HOOK = "/api/v1/webhook_endpoint/"
HOOK_LOG = "/api/v1/webhook_delivery/"

NEW_DEVICE_A = {
    "name": "new-device",
    "serial_number": "NEW0001",
    "type": "{type_shared}",
    "organization_id": "{org_a}",
}
NEW_DEVICE_B = {**NEW_DEVICE_A, "organization_id": "{org_b}"}
PUT_DEVICE_A = {
    "name": "renamed",
    "serial_number": "ZEQ240100001",
    "type": "{type_shared}",
    "organization_id": "{org_a}",
}
NEW_HOOK_A = {
    "organization_id": "{org_a}",
    "name": "ops",
    "url": "http://127.0.0.1:9/hook",
    "event_types": ["device.down"],
}
NEW_HOOK_B = {**NEW_HOOK_A, "organization_id": "{org_b}"}
PLAIN = {"description": "changed"}
REBOOT = {"reboot": True}
DEBUG = {"debug": True}

A = {"dev_a"}
ALL_DEVICES = {"dev_a", "dev_b"}

METRIC = "/api/v1/inventory_metric/"
MLOG = "/api/v1/inventory_metric_log/"
NEW_METRIC_A = {"name": "new-metric", "parameter_path": "Device.X.Y", "organization_id": "{org_a}"}
NEW_METRIC_SHARED = {"name": "new-shared", "parameter_path": "Device.X.Z"}
METRICS_A = {"metric_shared", "metric_a"}

# fmt: off
# label, method, url, body, then: viewer_a operator_a admin_a superuser anonymous admin_b
TABLE = [
    # devices by id
    ("list", "GET", DEV, None,                (200, A), (200, A), (200, A), (200, ALL_DEVICES), 401, (200, {"dev_b"})),  # noqa: E501
    ("list own org", "GET", DEV + "?organization={org_a}", None, (200, A), (200, A), (200, A), (200, A), 401, 403),  # noqa: E501
    ("list other org", "GET", DEV + "?organization={org_b}", None, 403, 403, 403, (200, {"dev_b"}), 401, (200, {"dev_b"})),  # noqa: E501
    ("create in A", "POST", DEV, NEW_DEVICE_A, 403, 403, 201, 201, 401, 403),
    ("create in B", "POST", DEV, NEW_DEVICE_B, 403, 403, 403, 201, 401, 201),
    ("detail A", "GET", DEV + "{dev_a}/", None, 200, 200, 200, 200, 401, 404),
    ("detail B", "GET", DEV + "{dev_b}/", None, 404, 404, 404, 200, 401, 200),
    ("put A", "PUT", DEV + "{dev_a}/", PUT_DEVICE_A, 403, 403, 200, 200, 401, 404),
    ("patch field A", "PATCH", DEV + "{dev_a}/", PLAIN, 403, 403, 200, 200, 401, 404),
    ("patch reboot A", "PATCH", DEV + "{dev_a}/", REBOOT, 403, 200, 200, 200, 401, 404),
    ("patch debug A", "PATCH", DEV + "{dev_a}/", DEBUG, 403, 200, 200, 200, 401, 404),
    ("patch field B", "PATCH", DEV + "{dev_b}/", PLAIN, 404, 404, 404, 200, 401, 200),
    ("patch reboot B", "PATCH", DEV + "{dev_b}/", REBOOT, 404, 404, 404, 200, 401, 200),
    ("delete A", "DELETE", DEV + "{dev_a}/", None, 403, 403, 204, 204, 401, 404),
    ("delete B", "DELETE", DEV + "{dev_b}/", None, 404, 404, 404, 204, 401, 204),
    # a body the caller may not send is refused before it is validated: 403, not 400
    ("create invalid", "POST", DEV, {}, 403, 403, 400, 400, 401, 400),
    ("put invalid A", "PUT", DEV + "{dev_a}/", {"name": ""}, 403, 403, 400, 400, 401, 404),
    ("patch invalid A", "PATCH", DEV + "{dev_a}/", {"latitude": "999"}, 403, 403, 400, 400, 401, 404),  # noqa: E501
    ("patch flag+field A", "PATCH", DEV + "{dev_a}/", {"reboot": True, "name": "x"}, 403, 403, 200, 200, 401, 404),  # noqa: E501
    # devices by name
    ("detail A", "GET", BY_NAME + "{name_a}/", None, 200, 200, 200, 200, 401, 404),
    ("detail B", "GET", BY_NAME + "{name_b}/", None, 404, 404, 404, 200, 401, 200),
    ("patch field A", "PATCH", BY_NAME + "{name_a}/", PLAIN, 403, 403, 200, 200, 401, 404),
    ("patch reboot A", "PATCH", BY_NAME + "{name_a}/", REBOOT, 403, 200, 200, 200, 401, 404),
    ("patch field B", "PATCH", BY_NAME + "{name_b}/", PLAIN, 404, 404, 404, 200, 401, 200),
    ("delete A", "DELETE", BY_NAME + "{name_a}/", None, 403, 403, 204, 204, 401, 404),
    ("delete B", "DELETE", BY_NAME + "{name_b}/", None, 404, 404, 404, 204, 401, 204),
    # devices by serial number
    ("detail A", "GET", BY_SERIAL + "{serial_a}/", None, 200, 200, 200, 200, 401, 404),
    ("detail B", "GET", BY_SERIAL + "{serial_b}/", None, 404, 404, 404, 200, 401, 200),
    ("patch field A", "PATCH", BY_SERIAL + "{serial_a}/", PLAIN, 403, 403, 200, 200, 401, 404),
    ("patch reboot A", "PATCH", BY_SERIAL + "{serial_a}/", REBOOT, 403, 200, 200, 200, 401, 404),
    ("patch field B", "PATCH", BY_SERIAL + "{serial_b}/", PLAIN, 404, 404, 404, 200, 401, 200),
    ("delete A", "DELETE", BY_SERIAL + "{serial_a}/", None, 403, 403, 204, 204, 401, 404),
    ("delete B", "DELETE", BY_SERIAL + "{serial_b}/", None, 404, 404, 404, 204, 401, 204),
    # organizations
    ("list", "GET", ORG, None,                (200, {"org_a"}), (200, {"org_a"}), (200, {"org_a"}), (200, {"org_a", "org_b", "org_c"}), 401, (200, {"org_b"})),  # noqa: E501
    ("create", "POST", ORG, {"name": "Org New"}, 403, 403, 403, 201, 401, 403),
    ("detail A", "GET", ORG + "{org_a}/", None, 200, 200, 200, 200, 401, 404),
    ("detail B", "GET", ORG + "{org_b}/", None, 404, 404, 404, 200, 401, 200),
    ("put A", "PUT", ORG + "{org_a}/", {"name": "Org A2"}, 403, 403, 200, 200, 401, 404),
    ("patch A", "PATCH", ORG + "{org_a}/", {"description": "d"}, 403, 403, 200, 200, 401, 404),
    ("patch B", "PATCH", ORG + "{org_b}/", {"description": "d"}, 404, 404, 404, 200, 401, 200),
    ("delete A (has devices)", "DELETE", ORG + "{org_a}/", None, 403, 403, 403, 409, 401, 404),
    ("delete C (empty)", "DELETE", ORG + "{org_c}/", None, 404, 404, 404, 204, 401, 404),
    ("create invalid", "POST", ORG, {}, 403, 403, 403, 400, 401, 403),
    ("patch invalid A", "PATCH", ORG + "{org_a}/", {"name": ""}, 403, 403, 400, 400, 401, 404),
    # device types (shared ones have no organization)
    ("list", "GET", TYPE, None,               (200, {"type_shared", "type_a"}), (200, {"type_shared", "type_a"}), (200, {"type_shared", "type_a"}), (200, {"type_shared", "type_a", "type_b"}), 401, (200, {"type_shared", "type_b"})),  # noqa: E501
    ("list other org", "GET", TYPE + "?organization={org_b}", None, 403, 403, 403, (200, {"type_b"}), 401, (200, {"type_b"})),  # noqa: E501
    ("create in A", "POST", TYPE, {"short_name": "t_new", "name": "T", "organization_id": "{org_a}"}, 403, 403, 201, 201, 401, 403),  # noqa: E501
    ("create shared", "POST", TYPE, {"short_name": "t_shared", "name": "T"}, 403, 403, 403, 201, 401, 403),  # noqa: E501
    ("detail A", "GET", TYPE + "{type_a}/", None, 200, 200, 200, 200, 401, 404),
    ("detail B", "GET", TYPE + "{type_b}/", None, 404, 404, 404, 200, 401, 200),
    ("detail shared", "GET", TYPE + "{type_shared}/", None, 200, 200, 200, 200, 401, 200),
    ("put A", "PUT", TYPE + "{type_a}/", {"short_name": "type_a", "name": "X", "organization_id": "{org_a}"}, 403, 403, 200, 200, 401, 404),  # noqa: E501
    ("patch A", "PATCH", TYPE + "{type_a}/", {"name": "X"}, 403, 403, 200, 200, 401, 404),
    ("patch shared", "PATCH", TYPE + "{type_shared}/", {"name": "X"}, 403, 403, 403, 200, 401, 403),  # noqa: E501
    ("delete A", "DELETE", TYPE + "{type_a}/", None, 403, 403, 204, 204, 401, 404),
    ("delete B", "DELETE", TYPE + "{type_b}/", None, 404, 404, 404, 204, 401, 204),
    ("patch invalid shared", "PATCH", TYPE + "{type_shared}/", {"settings_template": "x"}, 403, 403, 403, 400, 401, 403),  # noqa: E501
    # locations
    ("list", "GET", LOC, None,                (200, {"loc_a"}), (200, {"loc_a"}), (200, {"loc_a"}), (200, {"loc_a", "loc_b"}), 401, (200, {"loc_b"})),  # noqa: E501
    ("list other org", "GET", LOC + "?organization={org_b}", None, 403, 403, 403, (200, {"loc_b"}), 401, (200, {"loc_b"})),  # noqa: E501
    ("create in A", "POST", LOC, {"name": "L", "short_name": "l_new", "organization_id": "{org_a}"}, 403, 403, 201, 201, 401, 403),  # noqa: E501
    ("detail A", "GET", LOC + "{loc_a}/", None, 200, 200, 200, 200, 401, 404),
    ("detail B", "GET", LOC + "{loc_b}/", None, 404, 404, 404, 200, 401, 200),
    ("put A", "PUT", LOC + "{loc_a}/", {"name": "L2", "short_name": "ny_branch", "organization_id": "{org_a}"}, 403, 403, 200, 200, 401, 404),  # noqa: E501
    ("patch A", "PATCH", LOC + "{loc_a}/", {"name": "L3"}, 403, 403, 200, 200, 401, 404),
    ("delete A", "DELETE", LOC + "{loc_a}/", None, 403, 403, 204, 204, 401, 404),
    ("delete B", "DELETE", LOC + "{loc_b}/", None, 404, 404, 404, 204, 401, 204),
    ("create invalid", "POST", LOC, {}, 403, 403, 400, 400, 401, 400),
    ("patch invalid A", "PATCH", LOC + "{loc_a}/", {"latitude": "999"}, 403, 403, 400, 400, 401, 404),  # noqa: E501
    # firmware images (created and replaced as multipart/form-data)
    ("list", "GET", FW, None,                 (200, {"fw_a"}), (200, {"fw_a"}), (200, {"fw_a"}), (200, {"fw_a", "fw_b"}), 401, (200, {"fw_b"})),  # noqa: E501
    ("list other org", "GET", FW + "?organization={org_b}", None, 403, 403, 403, (200, {"fw_b"}), 401, (200, {"fw_b"})),  # noqa: E501
    ("create in A", "POST", FW, Multipart({"device_type": "{type_shared}", "version": "9.9", "organization_id": "{org_a}"}), 403, 403, 201, 201, 401, 403),  # noqa: E501
    ("create for A's type", "POST", FW, Multipart({"device_type": "{type_a}", "version": "9.9"}), 403, 403, 201, 201, 401, 400),  # noqa: E501
    ("detail A", "GET", FW + "{fw_a}/", None, 200, 200, 200, 200, 401, 404),
    ("detail B", "GET", FW + "{fw_b}/", None, 404, 404, 404, 200, 401, 200),
    ("put A", "PUT", FW + "{fw_a}/", Multipart({"device_type": "{type_a}", "version": "1.1"}), 403, 403, 200, 200, 401, 404),  # noqa: E501
    ("patch A", "PATCH", FW + "{fw_a}/", {"description": "d"}, 403, 403, 200, 200, 401, 404),
    ("delete A", "DELETE", FW + "{fw_a}/", None, 403, 403, 204, 204, 401, 404),
    ("delete B", "DELETE", FW + "{fw_b}/", None, 404, 404, 404, 204, 401, 204),
    # metric definitions (shared ones have no organization and apply to all)
    ("list", "GET", METRIC, None,             (200, METRICS_A), (200, METRICS_A), (200, METRICS_A), (200, METRICS_A | {"metric_b"}), 401, (200, {"metric_shared", "metric_b"})),  # noqa: E501
    ("list other org", "GET", METRIC + "?organization={org_b}", None, 403, 403, 403, (200, {"metric_b"}), 401, (200, {"metric_b"})),  # noqa: E501
    ("create in A", "POST", METRIC, NEW_METRIC_A, 403, 403, 201, 201, 401, 403),
    ("create shared", "POST", METRIC, NEW_METRIC_SHARED, 403, 403, 403, 201, 401, 403),
    ("detail A", "GET", METRIC + "{metric_a}/", None, 200, 200, 200, 200, 401, 404),
    ("detail B", "GET", METRIC + "{metric_b}/", None, 404, 404, 404, 200, 401, 200),
    ("detail shared", "GET", METRIC + "{metric_shared}/", None, 200, 200, 200, 200, 401, 200),
    ("patch A", "PATCH", METRIC + "{metric_a}/", {"unit": "B/s"}, 403, 403, 200, 200, 401, 404),
    ("patch shared", "PATCH", METRIC + "{metric_shared}/", {"unit": "B/s"}, 403, 403, 403, 200, 401, 403),  # noqa: E501
    ("delete A", "DELETE", METRIC + "{metric_a}/", None, 403, 403, 204, 204, 401, 404),
    ("delete B", "DELETE", METRIC + "{metric_b}/", None, 404, 404, 404, 204, 401, 204),
    # metric log: the points of the caller's organizations' devices (cursor pages, no count)
    ("list", "GET", MLOG, None,               (200, {"point_a"}), (200, {"point_a"}), (200, {"point_a"}), (200, {"point_a", "point_b"}), 401, (200, {"point_b"})),  # noqa: E501
    ("list other org", "GET", MLOG + "?organization={org_b}", None, 403, 403, 403, (200, {"point_b"}), 401, (200, {"point_b"})),  # noqa: E501
    ("detail A", "GET", MLOG + "{point_a}/", None, 200, 200, 200, 200, 401, 404),
    ("detail B", "GET", MLOG + "{point_b}/", None, 404, 404, 404, 200, 401, 200),
    ("post", "POST", MLOG, {"raw": 1}, 405, 405, 405, 405, 401, 405),
    # audit trail: organization admins only; viewers and operators see an empty list
    ("list", "GET", AUDIT, None,              (200, set()), (200, set()), (200, {"audit_a"}), (200, {"audit_a", "audit_b"}), 401, (200, {"audit_b"})),  # noqa: E501
    ("list by device", "GET", AUDIT + "?device={dev_a}", None, (200, set()), (200, set()), (200, {"audit_a"}), (200, {"audit_a"}), 401, (200, set())),  # noqa: E501
    ("list other org", "GET", AUDIT + "?organization={org_b}", None, 403, 403, 403, (200, {"audit_b"}), 401, (200, {"audit_b"})),  # noqa: E501
    ("detail A", "GET", AUDIT + "{audit_a}/", None, 404, 404, 200, 200, 401, 404),
    ("detail B", "GET", AUDIT + "{audit_b}/", None, 404, 404, 404, 200, 401, 200),
    ("create", "POST", AUDIT, {"action": "create"}, 405, 405, 405, 405, 401, 405),
    ("delete A", "DELETE", AUDIT + "{audit_a}/", None, 405, 405, 405, 405, 401, 405),
    # device log: every role of the device's organization reads it
    ("list", "GET", LOG, None,                (200, {"log_a"}), (200, {"log_a"}), (200, {"log_a"}), (200, {"log_a", "log_b"}), 401, (200, {"log_b"})),  # noqa: E501
    ("list by device", "GET", LOG + "?device={dev_a}", None, (200, {"log_a"}), (200, {"log_a"}), (200, {"log_a"}), (200, {"log_a"}), 401, (200, set())),  # noqa: E501
    ("detail A", "GET", LOG + "{log_a}/", None, 200, 200, 200, 200, 401, 404),
    ("detail B", "GET", LOG + "{log_b}/", None, 404, 404, 404, 200, 401, 200),
    ("create", "POST", LOG, {"action": "inform"}, 405, 405, 405, 405, 401, 405),
    # connection profiles: shared ones and the own organization's, read-only
    ("list", "GET", PROFILE, None,            (200, {"prof_shared", "prof_a"}), (200, {"prof_shared", "prof_a"}), (200, {"prof_shared", "prof_a"}), (200, {"prof_shared", "prof_a", "prof_b"}), 401, (200, {"prof_shared", "prof_b"})),  # noqa: E501
    ("detail shared", "GET", PROFILE + "{prof_shared}/", None, 200, 200, 200, 200, 401, 200),
    ("detail B", "GET", PROFILE + "{prof_b}/", None, 404, 404, 404, 200, 401, 200),
    ("patch A", "PATCH", PROFILE + "{prof_a}/", {"name": "x"}, 405, 405, 405, 405, 401, 405),
    # settings by id, name and serial: the list needs its parent; operators write
    ("list without parent", "GET", SET_ID, None, 400, 400, 400, 400, 401, 400),
    ("list A", "GET", SET_ID + "?parent_id={dev_a}", None, (200, {"set_a"}), (200, {"set_a"}), (200, {"set_a"}), (200, {"set_a"}), 401, (200, set())),  # noqa: E501
    ("list A", "GET", SET_NAME + "?parent__name={name_a}", None, (200, {"set_a"}), (200, {"set_a"}), (200, {"set_a"}), (200, {"set_a"}), 401, (200, set())),  # noqa: E501
    ("list B", "GET", SET_SERIAL + "?parent__serial_number={serial_b}", None, (200, set()), (200, set()), (200, set()), (200, {"set_b"}), 401, (200, {"set_b"})),  # noqa: E501
    ("patch A", "PATCH", SET_NAME + "{name_a}/", SETTING, 403, 200, 200, 200, 401, 404),
    ("put A", "PUT", SET_SERIAL + "{serial_a}/", SETTING, 403, 200, 200, 200, 401, 404),
    ("patch B", "PATCH", SET_SERIAL + "{serial_b}/", SETTING, 404, 404, 404, 200, 401, 200),
    ("patch B", "PATCH", SET_NAME + "{name_b}/", SETTING, 404, 404, 404, 200, 401, 200),
    # diagnostics: everyone reads their organization's; operators and up run them
    ("list", "GET", DIAGS, None,              (200, {"diag_a"}), (200, {"diag_a"}), (200, {"diag_a"}), (200, {"diag_a", "diag_b"}), 401, (200, {"diag_b"})),  # noqa: E501
    ("list device B", "GET", DIAGS + "?device={dev_b}", None, (200, set()), (200, set()), (200, set()), (200, {"diag_b"}), 401, (200, {"diag_b"})),  # noqa: E501
    ("list by name", "GET", DIAGS_NAME + "?name={name_a}", None, (200, {"diag_a"}), (200, {"diag_a"}), (200, {"diag_a"}), (200, {"diag_a"}), 401, (200, set())),  # noqa: E501
    ("list by serial", "GET", DIAGS_SERIAL + "?serial_number={serial_b}", None, (200, set()), (200, set()), (200, set()), (200, {"diag_b"}), 401, (200, {"diag_b"})),  # noqa: E501
    ("ping A", "POST", DIAGS, {"device": "{dev_a}", **PING}, 403, 201, 201, 201, 401, 404),
    ("ping B", "POST", DIAGS, {"device": "{dev_b}", **PING}, 404, 404, 404, 201, 401, 201),
    ("ping A by name", "POST", DIAGS_NAME, {"name": "{name_a}", **PING}, 403, 201, 201, 201, 401, 404),  # noqa: E501
    ("ping A by serial", "POST", DIAGS_SERIAL, {"serial_number": "{serial_a}", **PING}, 403, 201, 201, 201, 401, 404),  # noqa: E501
    ("unknown kind A", "POST", DIAGS, {"device": "{dev_a}", "operation": "bogus"}, 403, 400, 400, 400, 401, 404),  # noqa: E501
    ("ping results A", "GET", IPPING + "{dev_a}/", None, 200, 200, 200, 200, 401, 404),
    ("ping results B", "GET", IPPING + "{dev_b}/", None, 404, 404, 404, 200, 401, 200),
    ("ping results A by name", "GET", IPPING_NAME + "{name_a}/", None, 200, 200, 200, 200, 401, 404),  # noqa: E501
    ("ping results A by serial", "GET", IPPING_SERIAL + "{serial_a}/", None, 200, 200, 200, 200, 401, 404),  # noqa: E501
    ("run ping A", "GET", IPPING + "{dev_a}/?run=true", None, 403, 202, 202, 202, 401, 404),
    # webhook endpoints and their delivery log: organization admins only
    ("list", "GET", HOOK, None,               (200, set()), (200, set()), (200, {"hook_a"}), (200, {"hook_a", "hook_b"}), 401, (200, {"hook_b"})),  # noqa: E501
    ("list other org", "GET", HOOK + "?organization={org_b}", None, 403, 403, 403, (200, {"hook_b"}), 401, (200, {"hook_b"})),  # noqa: E501
    ("create in A", "POST", HOOK, NEW_HOOK_A, 403, 403, 201, 201, 401, 403),
    ("create in B", "POST", HOOK, NEW_HOOK_B, 403, 403, 403, 201, 401, 201),
    ("create invalid", "POST", HOOK, {}, 403, 403, 400, 400, 401, 400),
    ("detail A", "GET", HOOK + "{hook_a}/", None, 404, 404, 200, 200, 401, 404),
    ("detail B", "GET", HOOK + "{hook_b}/", None, 404, 404, 404, 200, 401, 200),
    ("patch A", "PATCH", HOOK + "{hook_a}/", {"name": "renamed"}, 404, 404, 200, 200, 401, 404),
    ("patch invalid A", "PATCH", HOOK + "{hook_a}/", {"event_types": ["x"]}, 404, 404, 400, 400, 401, 404),  # noqa: E501
    ("move A to B", "PATCH", HOOK + "{hook_a}/", {"organization_id": "{org_b}"}, 404, 404, 403, 200, 401, 404),  # noqa: E501
    ("delete A", "DELETE", HOOK + "{hook_a}/", None, 404, 404, 204, 204, 401, 404),
    ("delete B", "DELETE", HOOK + "{hook_b}/", None, 404, 404, 404, 204, 401, 204),
    ("list", "GET", HOOK_LOG, None,           (200, set()), (200, set()), (200, {"delivery_a"}), (200, {"delivery_a", "delivery_b"}), 401, (200, {"delivery_b"})),  # noqa: E501
    ("detail A", "GET", HOOK_LOG + "{delivery_a}/", None, 404, 404, 200, 200, 401, 404),
    ("create", "POST", HOOK_LOG, {"status": "delivered"}, 405, 405, 405, 405, 401, 405),
]
# fmt: on


def _cases():
    for label, method, url, body, *expected in TABLE:
        assert len(expected) == len(ACTORS), label
        for actor, expectation in zip(ACTORS, expected, strict=True):
            status, ids = expectation if isinstance(expectation, tuple) else (expectation, None)
            yield pytest.param(
                actor, method, url, body, status, ids, id=f"{method} {url} {label} as {actor}"
            )


@dataclass
class World:
    ids: dict[str, int | str]
    actors: dict


@pytest.fixture
def world(org_a, org_b, viewer_a, operator_a, admin_a, superuser, anonymous, admin_b, device_type):
    org_c = tenancy.create_organization("Org C")
    type_a = DeviceType.objects.create(organization=org_a, short_name="type_a", name="Type A")
    type_b = DeviceType.objects.create(organization=org_b, short_name="type_b", name="Type B")
    loc_a = Location.objects.create(organization=org_a, name="Loc A", short_name="ny_branch")
    loc_b = Location.objects.create(organization=org_b, name="Loc B", short_name="b_branch")
    fw_a = FirmwareImage.objects.create(
        organization=org_a, device_type=type_a, version="1.0", file="firmware/a/fw.bin", size=1
    )
    fw_b = FirmwareImage.objects.create(
        organization=org_b, device_type=type_b, version="1.0", file="firmware/b/fw.bin", size=1
    )
    dev_a = make_device(org_a, device_type, "ZEQ240100001", name="Router-Branch-Office-001")
    dev_b = make_device(org_b, device_type, "ZEQ240200001", name="Router-B-001")
    from linesman.metrics.models import Metric, MetricLog

    metric_shared = Metric.objects.create(name="temp", parameter_path="Device.T")
    metric_a = Metric.objects.create(organization=org_a, name="rx", parameter_path="Device.R")
    metric_b = Metric.objects.create(organization=org_b, name="rx", parameter_path="Device.R")
    at = timezone.now()
    point_a = MetricLog.objects.create(time=at, device=dev_a, metric=metric_shared, raw=1, origin=1)
    point_b = MetricLog.objects.create(time=at, device=dev_b, metric=metric_shared, raw=2, origin=1)
    audit_a = audit.record(user=None, action=AuditAction.UPDATE, instance=dev_a, device_id=dev_a.pk)
    audit_b = audit.record(user=None, action=AuditAction.UPDATE, instance=dev_b, device_id=dev_b.pk)
    now = timezone.now()
    log_a = DeviceLogEntry.objects.create(device=dev_a, time=now, action="inform", status="ok")
    log_b = DeviceLogEntry.objects.create(device=dev_b, time=now, action="inform", status="ok")
    prof_shared = ConnectionProfile.objects.create(name="shared")
    prof_a = ConnectionProfile.objects.create(name="prof_a", organization=org_a)
    prof_b = ConnectionProfile.objects.create(name="prof_b", organization=org_b)
    set_a = Setting.objects.create(device=dev_a, variable_name="Device.A", value="1")
    set_b = Setting.objects.create(device=dev_b, variable_name="Device.B", value="1")
    diag_a, diag_b = (
        Operation.objects.create(
            device=device,
            kind="diagnostic",
            state="completed",
            params={"diagnostic": "ipping", "object": "Device.IP.Diagnostics.IPPing."},
        )
        for device in (dev_a, dev_b)
    )
    hook_a = Endpoint.objects.create(
        organization=org_a, name="A", url="http://127.0.0.1:9/a", event_types=["device.up"]
    )
    hook_b = Endpoint.objects.create(
        organization=org_b, name="B", url="http://127.0.0.1:9/b", event_types=["device.up"]
    )
    delivery_a = Delivery.objects.create(endpoint=hook_a, event_type="device.up", payload={})
    delivery_b = Delivery.objects.create(endpoint=hook_b, event_type="device.up", payload={})
    ids = {
        "hook_a": hook_a.pk,
        "hook_b": hook_b.pk,
        "delivery_a": delivery_a.pk,
        "delivery_b": delivery_b.pk,
        "org_a": org_a.pk,
        "org_b": org_b.pk,
        "org_c": org_c.pk,
        "metric_shared": metric_shared.pk,
        "metric_a": metric_a.pk,
        "metric_b": metric_b.pk,
        "point_a": point_a.pk,
        "point_b": point_b.pk,
        "type_shared": device_type.pk,
        "type_a": type_a.pk,
        "type_b": type_b.pk,
        "loc_a": loc_a.pk,
        "loc_b": loc_b.pk,
        "fw_a": fw_a.pk,
        "fw_b": fw_b.pk,
        "dev_a": dev_a.pk,
        "dev_b": dev_b.pk,
        "name_a": dev_a.name,
        "name_b": dev_b.name,
        "serial_a": dev_a.serial_number,
        "serial_b": dev_b.serial_number,
        "audit_a": audit_a.pk,
        "audit_b": audit_b.pk,
        "log_a": log_a.pk,
        "log_b": log_b.pk,
        "prof_shared": prof_shared.pk,
        "prof_a": prof_a.pk,
        "prof_b": prof_b.pk,
        "set_a": set_a.pk,
        "set_b": set_b.pk,
        "diag_a": diag_a.pk,
        "diag_b": diag_b.pk,
    }
    actors = {
        "viewer_a": viewer_a,
        "operator_a": operator_a,
        "admin_a": admin_a,
        "superuser": superuser,
        "anonymous": anonymous,
        "admin_b": admin_b,
    }
    return World(ids=ids, actors=actors)


def _resolve(value, ids):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    return value


def _send(client: APIClient, method: str, url: str, body, ids):
    if isinstance(body, Multipart):
        data = {k: _resolve(v, ids) for k, v in body.fields.items()}
        data["file"] = SimpleUploadedFile("fw.bin", b"\x00firmware\x01", "application/octet-stream")
        return getattr(client, method.lower())(url, data, format="multipart")
    if body is None:
        return getattr(client, method.lower())(url)
    data = {k: _resolve(v, ids) for k, v in body.items()}
    return getattr(client, method.lower())(url, data, format="json")


def _state():
    """Everything a request could change (tokens' last_used aside)."""
    from linesman.metrics.models import Metric, MetricLog

    return (
        list(Organization.objects.order_by("pk").values()),
        list(DeviceType.objects.order_by("pk").values()),
        list(Location.objects.order_by("pk").values()),
        list(FirmwareImage.objects.order_by("pk").values()),
        list(Device.objects.order_by("pk").values()),
        list(Operation.objects.order_by("pk").values_list("pk", "device_id", "kind", "state")),
        list(
            Setting.objects.order_by("pk").values_list("pk", "device_id", "variable_name", "value")
        ),
        AuditEntry.objects.count(),
        list(Metric.objects.order_by("pk").values()),
        MetricLog.objects.count(),
        list(Endpoint.objects.order_by("pk").values()),
        Delivery.objects.count(),
    )


@pytest.mark.parametrize(("actor", "method", "url", "body", "status", "ids"), list(_cases()))
def test_access(world, actor, method, url, body, status, ids):
    url = url.format(**world.ids)
    before = _state() if method != "GET" else None

    response = _send(world.actors[actor].client, method, url, body, world.ids)

    assert response.status_code == status, response.content
    if status != 204:
        payload = response.json()
    if status >= 400:
        assert isinstance(payload, dict) and payload, payload
        if status in (401, 403, 404, 405, 409):
            assert isinstance(payload["detail"], str)
    if method != "GET":
        after = _state()
        if status < 300:
            assert after != before, "a successful write changed nothing"
        else:
            assert after == before, "a refused write changed something"
    if ids is not None:
        if "count" in payload:  # cursor pages (the metric log) carry none
            assert payload["count"] == len(ids)
        assert sorted(item["id"] for item in payload["results"]) == sorted(
            world.ids[name] for name in ids
        )
    if status == 201 and isinstance(body, dict | Multipart):
        fields = body.fields if isinstance(body, Multipart) else body
        if "organization_id" in fields:
            assert payload["organization_id"] == _resolve(fields["organization_id"], world.ids)
    if method == "DELETE" and status == 204:
        assert response.content == b""
        assert world.actors[actor].client.get(url).status_code == 404


# --- authentication ------------------------------------------------------------------------


def _client(header: str | None) -> APIClient:
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    return client


@pytest.mark.parametrize("form", ["Bearer {t}", "Token {t}", "{t}", "bearer {t}", "token {t}"])
def test_accepted_authorization_forms(admin_a, device_a, form):
    response = _client(form.format(t=admin_a.token)).get(DEV)
    assert response.status_code == 200
    assert [d["id"] for d in response.json()["results"]] == [device_a.pk]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer lsm_not-a-real-token",
        "Token lsm_not-a-real-token",
        "lsm_not-a-real-token",
        "Bearer",
        "Bearer a b",
        "",
    ],
)
def test_bad_token_is_401(db, header):
    response = _client(header).get(DEV)
    assert response.status_code == 401
    assert isinstance(response.json()["detail"], str)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_expired_token_is_401(admin_a, org_a):
    issued = tenancy.create_token(admin_a.user, expires_at=timezone.now() - timedelta(seconds=1))
    response = _client(f"Bearer {issued.clear}").get(DEV)
    assert response.status_code == 401
    assert isinstance(response.json()["detail"], str)


def test_token_expiring_later_works(admin_a):
    issued = tenancy.create_token(admin_a.user, expires_at=timezone.now() + timedelta(hours=1))
    assert _client(f"Bearer {issued.clear}").get(DEV).status_code == 200


def test_token_of_inactive_user_is_401(admin_a):
    admin_a.user.is_active = False
    admin_a.user.save()
    assert admin_a.client.get(DEV).status_code == 401


def test_revoked_token_is_401(admin_a):
    ApiToken.objects.filter(user=admin_a.user).delete()
    assert admin_a.client.get(DEV).status_code == 401


def test_user_without_membership_sees_nothing(device_a, device_b):
    from tests.conftest import make_actor

    loner = make_actor("loner")
    body = loner.client.get(DEV).json()
    assert body["count"] == 0 and body["results"] == []
    assert loner.client.get(f"{DEV}{device_a.pk}/").status_code == 404


def test_role_in_one_org_gives_nothing_in_another(org_a, org_b, device_a, device_b):
    """An admin of A who is only a viewer of B cannot write in B."""
    from tests.conftest import make_actor

    actor = make_actor("mixed", org_a, "admin")
    tenancy.set_membership(actor.user, org_b, "viewer")
    assert actor.client.get(f"{DEV}{device_b.pk}/").status_code == 200
    assert actor.client.patch(f"{DEV}{device_b.pk}/", PLAIN, format="json").status_code == 403
    assert actor.client.delete(f"{DEV}{device_b.pk}/").status_code == 403
    moved = actor.client.patch(f"{DEV}{device_a.pk}/", {"organization_id": org_b.pk}, format="json")
    assert moved.status_code == 403
    assert Device.objects.get(pk=device_a.pk).organization_id == org_a.pk
