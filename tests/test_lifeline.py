"""A worker tied to its parent exits when the parent dies, whatever its own signal handlers do:
also when it tied itself only after the parent died (granian killed while a worker was still
loading the application), and when it catches SIGTERM (granian's forked workers inherit the
main process's handler while they load the application, and granian's handlers deadlock when
the several SIGTERMs a dying multi-threaded parent sends arrive one inside another)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from tests.bulk.procs import alive
from tests.e2e.live import wait_until

# The parent starts a multiprocessing child (as granian starts its workers), prints its pid
# and waits to be killed; the child waits for the go file, then ties itself to its parent
# (with a SIGTERM handler that swallows the signal when the second argument is "catch").
_PARENT = textwrap.dedent(
    """
    import multiprocessing, os, signal, sys, time

    def worker(go):
        if sys.argv[2] == "catch":
            signal.signal(signal.SIGTERM, lambda *args: None)
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


def _start(go, handler: str) -> tuple[subprocess.Popen, int]:
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT, str(go), handler], stdout=subprocess.PIPE, text=True
    )
    return parent, int(parent.stdout.readline())


@pytest.mark.parametrize("handler", ["default", "catch"])
def test_a_worker_whose_parent_died_before_it_tied_itself_exits(tmp_path, handler):
    go = tmp_path / "go"
    parent, worker = _start(go, handler)
    try:
        parent.kill()
        parent.wait()  # the worker is re-parented by now
        go.touch()
        wait_until(lambda: not alive(worker), timeout=10, what="the orphaned worker to exit")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker, signal.SIGKILL)


@pytest.mark.parametrize("handler", ["default", "catch"])
def test_a_worker_lives_as_long_as_its_parent(tmp_path, handler):
    go = tmp_path / "go"
    parent, worker = _start(go, handler)
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
