"""Periodic housekeeping: devices that stopped informing turn Down, overdue operations time
out, abandoned sessions, expired Digest nonces and device log rows past their retention
are cleared. Runs in every `serve` (with
worker) and `worker` process; each sweep is idempotent, so several nodes sweeping is
harmless."""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections

log = logging.getLogger(__name__)


def sweep_once(*, after_restart: bool = False) -> dict[str, int]:
    """One sweep; `after_restart` on a process's first, which also re-sends the connection
    requests a crashed process may have lost."""
    from django.utils import timezone

    from linesman.cwmp.models import CwmpSession
    from linesman.cwmp.queue import requeue_unanswered
    from linesman.cwmp.replay import purge as purge_nonces
    from linesman.cwmp.session import SESSION_TIMEOUT
    from linesman.inventory.services import mark_silent_devices_down
    from linesman.operations import engine
    from linesman.operations.models import ACTIVE_STATES, Operation

    now = timezone.now()
    down = mark_silent_devices_down(now=now)
    from linesman.metrics.services import purge as purge_metrics

    purge_metrics(now)  # metric points past retention (whole days on PostgreSQL)
    expired = 0
    for pk in Operation.objects.filter(state__in=ACTIVE_STATES, deadline__lte=now).values_list(
        "pk", flat=True
    ):
        engine.expire(pk)
        expired += 1
    stale = list(
        CwmpSession.objects.filter(last_activity__lt=now - SESSION_TIMEOUT * 2).values_list(
            "pk", "device_id"
        )
    )
    for pk, device_id in stale:
        requeue_unanswered(device_id)
        CwmpSession.objects.filter(pk=pk).delete()
    from linesman.operations.bulk.services import resume_jobs

    # Bulk jobs: top up, record lost outcomes, restart lost starts.
    resume_jobs(now, after_restart=after_restart)
    nonces = purge_nonces(now.timestamp())
    from linesman.devicelog.services import purge_if_due

    log_rows = purge_if_due(now)
    return {
        "down": down,
        "expired": expired,
        "stale_sessions": len(stale),
        "nonces": nonces,
        "device_log_rows": log_rows,
    }


class Housekeeper(threading.Thread):
    def __init__(self, interval: float):
        super().__init__(name="linesman-housekeeping", daemon=True)
        self.interval = interval
        self.stopping = threading.Event()

    def run(self) -> None:
        first = True
        while not self.stopping.wait(self.interval):
            try:
                sweep_once(after_restart=first)
                first = False
            except Exception:  # a failed sweep must not end the thread; the next one retries
                log.exception("housekeeping sweep failed")
            finally:
                close_old_connections()

    def stop(self) -> None:
        self.stopping.set()
