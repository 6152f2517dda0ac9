"""A worker that ties itself to its parent only after the parent died (granian killed while a
worker was still loading the application) must still exit, not serve on as an orphan."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap

from tests.bulk.procs import alive
from tests.e2e.live import wait_until

# The parent starts a multiprocessing child (as granian starts its workers), prints its pid
# and waits to be killed; the child waits for the go file, then ties itself to its parent.
_PARENT = textwrap.dedent(
    """
    import multiprocessing, os, sys, time

    def worker(go):
        while not os.path.exists(go):
            time.sleep(0.02)
        from linesman.core import lifeline
        lifeline.die_with_parent()
        open(go + ".tied", "w").close()
        time.sleep(60)

    if __name__ == "__main__":
        child = multiprocessing.get_context("fork").Process(target=worker, args=(sys.argv[1],))
        child.start()
        print(child.pid, flush=True)
        time.sleep(60)
    """
)


def _start(go) -> tuple[subprocess.Popen, int]:
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT, str(go)], stdout=subprocess.PIPE, text=True
    )
    return parent, int(parent.stdout.readline())


def test_a_worker_whose_parent_died_before_it_tied_itself_exits(tmp_path):
    go = tmp_path / "go"
    parent, worker = _start(go)
    try:
        parent.kill()
        parent.wait()  # the worker is re-parented by now
        go.touch()
        wait_until(lambda: not alive(worker), timeout=10, what="the orphaned worker to exit")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker, signal.SIGKILL)


def test_a_worker_lives_as_long_as_its_parent(tmp_path):
    go = tmp_path / "go"
    parent, worker = _start(go)
    try:
        go.touch()
        wait_until((tmp_path / "go.tied").exists, timeout=10, what="the worker to tie itself")
        assert alive(worker)
        parent.kill()
        parent.wait()
        wait_until(lambda: not alive(worker), timeout=10, what="the worker to exit")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker, signal.SIGKILL)
        parent.kill()
        parent.wait()
