"""No orphaned HTTP server: when `linesman serve` or granian's main process is killed
abruptly, the HTTP workers below it exit instead of keeping the port and serving on."""

from __future__ import annotations

import contextlib
import os
import signal

import httpx
import pytest

from tests.bulk.procs import alive, descendants
from tests.e2e.live import wait_until

pytestmark = pytest.mark.e2e


def _serving(url: str) -> bool:
    try:
        return httpx.get(url + "/", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize("killed", ["serve", "granian"])
def test_killing_a_parent_takes_the_http_workers_with_it(server_process, killed):
    server = server_process.start()
    granian = _children(server.proc.pid)
    assert len(granian) == 1, granian
    workers = descendants(granian[0])
    assert len(workers) == int(os.environ.get("LINESMAN_PROCESSES", os.cpu_count() or 1))
    assert _serving(server.url)

    os.kill(server.proc.pid if killed == "serve" else granian[0], signal.SIGKILL)
    try:
        # The kernel kills them at once (lifeline); the timeout is room for a busy CI machine.
        wait_until(
            lambda: not any(alive(p) for p in [*granian, *workers]),
            timeout=20,
            what=f"granian {granian} and its workers {workers} to exit after {killed} was killed",
        )
        assert not _serving(server.url)
    finally:  # never leave a failed run's orphans serving on
        for pid in [*granian, *workers]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as children:
        return [int(c) for c in children.read().split()]
