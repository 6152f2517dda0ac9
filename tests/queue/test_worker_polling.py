"""The task worker's idle polling: on the SQLite queue a worker that found nothing waits at
most half a second before looking again (Huey's default grows to 10 s, which left a bulk
job's next connection request waiting 5 s on average); on Redis it blocks on the queue."""

from __future__ import annotations

import dataclasses

from linesman import server


def test_an_idle_sqlite_worker_looks_again_within_half_a_second(settings):
    settings.CONFIG = dataclasses.replace(settings.CONFIG, redis_url=None)
    worker = server._consumer(1)._create_worker()
    assert worker.max_delay <= 0.5
    assert worker.default_delay <= 0.1
