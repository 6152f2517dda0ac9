"""The Digest challenge to an Inform without credentials, answered without the database.

Most CPEs start every session without credentials and take the ACS's 401 (issue #17), so
the challenge is a third of a periodic session's requests. Its answer is the same for every
serial (`session._refused`: unknown serials, missing and wrong credentials all read alike),
and it needs the database only to learn whether this serial is one the ACS serves without
credentials: a device recorded with neither username nor password, or any unknown serial
while auto-registration is on. Where neither can be (auto-registration off, and no device
without credentials), the answer is the challenge, decided with no query at all.

Whether such a device exists is read at most every `RECHECK` seconds per process, and
again at once after a device is saved or deleted in this process. So a device recorded
without credentials by another process (or by a bulk insert) may be challenged for up to
`RECHECK` seconds after it was recorded; it is served at its next try.
"""

from __future__ import annotations

import time

from django.conf import settings

from linesman.cwmp import digest, soap
from linesman.cwmp.session import Reply

#: Seconds a process trusts what it learnt about devices without credentials.
RECHECK = 10.0

_known: dict[str, float | bool] = {"at": float("-inf"), "all_challenged": False}


def forget(**_: object) -> None:
    """Read the devices again at the next request (a device was saved or deleted)."""
    _known["at"] = float("-inf")


def connect() -> None:
    """Forget on every save and delete of a device in this process (AppConfig.ready)."""
    from django.db.models.signals import post_delete, post_save

    from linesman.inventory.models import Device

    post_save.connect(forget, sender=Device, dispatch_uid="cwmp-challenge-forget-save")
    post_delete.connect(forget, sender=Device, dispatch_uid="cwmp-challenge-forget-delete")


def every_inform_challenged() -> bool:
    """Whether every Inform without credentials gets the challenge, whoever sends it."""
    if settings.LINESMAN_AUTO_REGISTER_ORG and settings.LINESMAN_AUTO_REGISTER_TYPE:
        return False  # an unknown serial may be registered, and served, without credentials
    now = time.monotonic()
    if now - _known["at"] >= RECHECK:
        from linesman.inventory.models import Device

        open_devices = Device.objects.filter(username="", password_encrypted="").exists()
        _known["all_challenged"], _known["at"] = not open_devices, now
    return bool(_known["all_challenged"])


def answer(body: bytes) -> Reply | None:
    """The challenge, if `body` (sent without an Authorization header) is an Inform and
    every Inform without credentials is challenged; None: serve the request as usual."""
    if not every_inform_challenged() or not soap.is_inform(body):
        return None  # the session engine answers it (a stray POST, a fault, a 400)
    # The same bytes as `session._refused` for a request without credentials.
    return Reply(401, b"", {"WWW-Authenticate": digest.challenge()})
