"""CPU cost of one CWMP session in the ACS, without HTTP: the WSGI app called in-process.

    python bench/inform_cpu.py [--mode challenged|preemptive|challenge]
                               [--phase steady|first-contact] [--sessions 1000]
                               [--rounds 7] [--profile pyinstrument|cprofile] [--queries]

Runs the three requests of a periodic session (challenged: 401, Inform with nc=1 and a
fresh client nonce, empty POST) against `linesman.wsgi.application` on a fresh SQLite or
PostgreSQL database of 2,000 devices, and prints the process CPU time per session. CPU time
rather than wall time: the figure then hardly moves with the load of a shared machine, so
it compares one change to the code with the next. `--mode challenge`: the 401 alone.
`--profile` prints where the time goes; `--queries` the SQL statements of one session.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import fixtures, loadgen  # noqa: E402

DEVICES = 2000


def _request(
    app, body: bytes, authorization: str = "", cookie: str = ""
) -> tuple[str, dict, bytes]:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/cwmp/",
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "7547",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "text/xml; charset=utf-8",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
    }
    if authorization:
        environ["HTTP_AUTHORIZATION"] = authorization
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    answer: dict = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = status
        answer["headers"] = {k.lower(): v for k, v in headers}

    reply = b"".join(app(environ, start_response))
    return answer["status"], answer["headers"], reply


def _session(app, device: loadgen.Device, mode: str, phase: str = "steady") -> None:
    body = loadgen.INFORM.format(serial=device.serial, event=loadgen.EVENTS[phase]).encode()
    if mode != "preemptive" or not device.nonce:
        status, headers, _ = _request(app, body)
        assert status.startswith("401"), status
        loadgen._take_nonce(device, headers)
    if mode == "challenge":
        return  # the 401 alone: what answering the challenge costs
    device.nc += 1
    auth = loadgen._authorization(device, "/cwmp/")[len("Authorization: ") : -2]
    status, headers, _ = _request(app, body, auth)
    assert status.startswith("200"), status
    cookie = headers["set-cookie"].split(";", 1)[0]
    answer = b""
    while True:  # the empty POST, then the answers to the ACS's RPCs (first contact)
        device.nc += 1
        auth = loadgen._authorization(device, "/cwmp/")[len("Authorization: ") : -2]
        status, _, reply = _request(app, answer, auth, cookie)
        if status.startswith("204"):
            return
        assert status.startswith("200") and reply, status
        answer = loadgen.rpc_answer(reply)


def devices(args) -> int:
    """The fleet: 2,000, or for first contact one device a session and 200 to warm up."""
    return args.rounds * args.sessions + 200 if args.phase == "first-contact" else DEVICES


def run(args) -> None:
    """In the child process (Django set up against the seeded database)."""
    from linesman.wsgi import application

    fleet = [
        loadgen.Device(f"BENCH{i:07d}", loadgen._md5(f"BENCH{i:07d}:Linesman ACS:{args.password}"))
        for i in range(devices(args))
    ]
    first = args.phase == "first-contact"
    fresh = fleet[200:] if first else []  # first contact: each device once, never again
    for device in fleet[:200]:  # warm caches and connections
        _session(application, device, args.mode, args.phase)
    if args.queries:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from linesman.core import hotsql

        # On PostgreSQL the hot path's prepared statements bypass Django's query log.
        hot: list[str] = []
        execute = hotsql._execute

        def logged_execute(cursor, sql, params):
            hot.append(sql)
            execute(cursor, sql, params)

        hotsql._execute = logged_execute
        with CaptureQueriesContext(connection) as queries:
            device = fresh.pop() if first else random.choice(fleet)
            _session(application, device, args.mode, args.phase)
        hotsql._execute = execute
        logged = [query["sql"] for query in queries]
        if connection.vendor != "postgresql":
            hot = []  # Django logged them already
        print(f"{len(logged) + len(hot)} SQL statements in one session:")
        for sql in logged + [f"(prepared) {sql}" for sql in hot]:
            print(" ", sql[:200])
        return
    profiler = None
    if args.profile == "pyinstrument":
        import pyinstrument

        profiler = pyinstrument.Profiler(interval=0.0005)
        profiler.start()
    elif args.profile == "cprofile":
        import cProfile

        profiler = cProfile.Profile(time.process_time)  # CPU time: where the cores go
        profiler.enable()
    # Rounds, and their best: on a shared machine other processes inflate a round's CPU time
    # (caches, frequency), never deflate it, so the minimum is the steadiest figure.
    per_session = []
    for _ in range(args.rounds):
        started = time.process_time()
        for _ in range(args.sessions):
            device = fresh.pop() if first else random.choice(fleet)
            _session(application, device, args.mode, args.phase)
        per_session.append((time.process_time() - started) / args.sessions * 1e6)
    per_session.sort()
    print(
        f"{args.mode}: {per_session[0]:.0f} us CPU per session, best of {args.rounds} rounds "
        f"of {args.sessions} (median {per_session[len(per_session) // 2]:.0f} us; "
        f"{1e6 / per_session[0]:.0f} sessions/s per core)",
        flush=True,
    )
    if args.profile == "pyinstrument":
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    elif args.profile == "cprofile":
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--mode", choices=("challenged", "preemptive", "challenge"), default="challenged"
    )
    parser.add_argument("--phase", choices=("steady", "first-contact"), default="steady")
    parser.add_argument("--sessions", type=int, default=1000, help="per round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--profile", choices=("pyinstrument", "cprofile"), default=None)
    parser.add_argument(
        "--queries", action="store_true", help="print the SQL statements of one session"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--password", default=fixtures.PASSWORD, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run(args)
        return
    home = Path(tempfile.mkdtemp(prefix="linesman-bench-"))
    database = fixtures.fresh_database(home)
    try:
        env = fixtures.environment(home, database)
        first = args.phase == "first-contact"
        fixtures.seed_devices(env, devices(args), new=first)
        one, five, _ = os.getloadavg()
        print(f"{'PostgreSQL' if database.startswith('postgres') else 'SQLite'}; load {one:.2f}")
        subprocess.run(
            [sys.executable, __file__, "--child", *sys.argv[1:]],
            env={**env, "DJANGO_SETTINGS_MODULE": "linesman.settings"},
            check=True,
        )
    finally:
        fixtures.drop_database(database)


if __name__ == "__main__":
    main()
