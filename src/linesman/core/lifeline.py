"""Processes that must not outlive the one that started them.

`linesman serve` runs granian as a child, and granian forks its HTTP worker processes. If
either parent dies abruptly (SIGKILL, an out-of-memory kill), an orphaned worker would keep
the listening port and serve on with nobody supervising it. On Linux a process can ask the
kernel to send it a signal when its parent dies (`prctl(PR_SET_PDEATHSIG)`); elsewhere this
is a no-op and a killed parent leaves its children running.

The signal is SIGKILL, not SIGTERM: a parent that died abruptly had no chance to stop its
children gracefully, and they cannot be trusted to stop themselves on SIGTERM. The kernel
sends the signal once for every thread of the dying parent the child is handed to on its way
to init, and granian's handlers deadlock when those SIGTERMs arrive one inside another (its
main process stayed up, with its workers serving on); a granian worker still loading the
application runs the handler it inherited from granian's main process, which swallows
SIGTERM. Work in flight ends as in a power cut: its database transaction rolls back and the
device's CWMP session breaks, which the operation engine counts as a broken session.
"""

from __future__ import annotations

import os
import signal

#: Set by `linesman serve` in its HTTP server's environment: its workers tie themselves to
#: granian's main process when they load the WSGI application.
ENV = "LINESMAN_DIE_WITH_PARENT"
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int | None = None) -> None:
    """Be killed when the parent process dies (at once, if it already has).

    `parent` is the process id of the parent this process was started by; by default the
    multiprocessing parent (granian forks its workers with multiprocessing), else the current
    one. It must be known from before this call: a worker still loading the application when
    its parent was killed has already been re-parented, and taking the current parent would
    tie it to its adoptive one and leave it serving on.
    """
    import ctypes

    if parent is None:
        parent = _multiprocessing_parent() or os.getppid()
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request was made
        os.kill(os.getpid(), signal.SIGKILL)


def _multiprocessing_parent() -> int | None:
    import multiprocessing

    process = multiprocessing.parent_process()
    return process.pid if process is not None else None
