"""A clock for tests that drives the real task queue as its consumer would.

In tests, a task runs inline when it is queued, on the real Huey storage (settings.py);
a task with a delay or an eta waits in that storage's schedule. `TaskClock.advance` moves
the process's time forward (time-machine: `time.time`, `datetime.now` and so Django's
`timezone.now` all follow) and runs every task that has fallen due, in eta order, including
tasks those tasks schedule within the new time, the way the consumer's scheduler would.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import time_machine
from huey.contrib.djhuey import HUEY


@dataclass(frozen=True)
class Scheduled:
    name: str
    args: tuple
    eta: dt.datetime  # UTC, naive as Huey keeps it


class TaskClock:
    def __init__(self, traveller: time_machine.Coordinates):
        self._traveller = traveller
        self.ran: list[Scheduled] = []

    @staticmethod
    def scheduled() -> list[Scheduled]:
        """What waits in the schedule, soonest first."""
        tasks = [Scheduled(t.name, tuple(t.args), t.eta) for t in HUEY.scheduled()]
        return sorted(tasks, key=lambda s: s.eta)

    def advance(self, seconds: float) -> list[Scheduled]:
        """Move time forward and run what falls due; returns what ran, in order."""
        self._traveller.shift(dt.timedelta(seconds=seconds))
        ran: list[Scheduled] = []
        while True:
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            due = HUEY.read_schedule(now)  # removes them from the schedule
            if not due:
                break
            for task in sorted(due, key=lambda t: t.eta or now):
                ran.append(Scheduled(task.name, tuple(task.args), task.eta))
                HUEY.execute(task, now)
        self.ran.extend(ran)
        return ran
