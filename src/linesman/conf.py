"""Linesman's configuration: every environment variable it reads, its default and its check.

Settings are read once, validated, and the derived values (database, queue, URLs) are
computed here so that `settings.py`, the CLI and the docs all agree. An invalid value
raises `ConfigError` with a message that names the variable and says what is expected.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse


class ConfigError(ValueError):
    """A configuration value is missing or invalid; the message is meant for the operator."""


#: (variable, default, description) — the single source for README's configuration table,
#: in its order. tests/test_readme.py checks that every variable read below is listed here
#: and that README's table matches.
VARIABLES: list[tuple[str, str, str]] = [
    (
        "LINESMAN_HOME",
        "./linesman-data",
        "data directory: SQLite database, queue, firmware files, secret key",
    ),
    (
        "DATABASE_URL",
        "sqlite:///$LINESMAN_HOME/linesman.sqlite3",
        "database; `postgres://user:pass@host:5432/name` for PostgreSQL",
    ),
    (
        "REDIS_URL",
        "(unset)",
        "when set, the task queue runs on Redis instead of SQLite",
    ),
    (
        "LINESMAN_SECRET_KEY",
        "generated into `$LINESMAN_HOME/secret_key`",
        "signs sessions and URLs; derives the key that encrypts device passwords",
    ),
    (
        "LINESMAN_BIND",
        "127.0.0.1:8000",
        "host:port that `linesman serve` listens on",
    ),
    (
        "LINESMAN_PUBLIC_URL",
        "http://$LINESMAN_BIND",
        "base URL devices and clients use to reach this server",
    ),
    (
        "LINESMAN_PAGE_SIZE",
        "50",
        "default page size of list endpoints",
    ),
    (
        "LINESMAN_MAX_PAGE_SIZE",
        "1000",
        "largest `limit` a client may ask for",
    ),
    (
        "LINESMAN_DEBUG",
        "false",
        "Django debug mode; never in production",
    ),
    (
        "LINESMAN_ALLOWED_HOSTS",
        "*",
        "comma-separated host names the server answers to",
    ),
    (
        "LINESMAN_SERVER",
        "granian",
        "HTTP server of `linesman serve`: granian (Rust, multi-process) or waitress (pure Python)",
    ),
    (
        "LINESMAN_PROCESSES",
        "number of CPU cores",
        "HTTP server processes (granian only)",
    ),
    (
        "LINESMAN_THREADS",
        "8, at most 2 x cores + 1",
        "HTTP worker threads per server process (more threads, more GIL contention)",
    ),
    (
        "LINESMAN_WORKERS",
        "4",
        "task worker threads (in `serve`, or `linesman worker`)",
    ),
    (
        "LINESMAN_STATUS_GRACE",
        "60",
        "seconds beyond a device's `update_frequency` before it is marked Down",
    ),
    (
        "LINESMAN_LAST_SEEN_BATCH_MS",
        "250",
        "milliseconds a server process gathers devices' last-seen stamps (and device log "
        "rows) before writing them in one statement; 0 writes each at once",
    ),
    (
        "LINESMAN_DEVICE_LOG_RETENTION_DAYS",
        "7",
        "days the device log keeps its rows (housekeeping deletes older ones); a device "
        "type's connection profile may set its own",
    ),
    (
        "LINESMAN_SWEEP_INTERVAL",
        "15",
        "seconds between housekeeping sweeps (status Down, operation time-outs)",
    ),
    (
        "LINESMAN_METRIC_RETENTION_DAYS",
        "7",
        "days of metric points kept; housekeeping deletes older ones by whole time range",
    ),
    (
        "LINESMAN_METRIC_COLLECTION_INTERVAL",
        "3600",
        "seconds between readings of metrics the Informs do not carry (GetParameterValues "
        "in the device's own session); 0 reads only what Informs carry",
    ),
    (
        "LINESMAN_OPERATION_TIMEOUT",
        "per kind (15 min to 1 h)",
        "seconds before an operation the device never completes becomes `timed_out`",
    ),
    (
        "LINESMAN_RPC_MAX_ATTEMPTS",
        "3",
        "times an RPC is sent to a device that breaks the session (drops it, crashes, "
        "informs anew) before its operation fails; nothing more is sent for it",
    ),
    (
        "LINESMAN_QUEUE_NAME",
        "linesman",
        "task queue name; installations sharing one Redis need different names",
    ),
    (
        "LINESMAN_AUTO_REGISTER_ORG",
        "(unset)",
        "organization (id or name) unknown devices are registered into; unset refuses them",
    ),
    (
        "LINESMAN_AUTO_REGISTER_TYPE",
        "(unset)",
        "device type (id or short name) for auto-registered devices",
    ),
    (
        "LINESMAN_CONNREQ_ALLOWED_NETWORKS",
        "0.0.0.0/0,::/0",
        "comma-separated networks (CIDR) connection requests may go to; link-local, the "
        "metadata addresses, multicast, unspecified and broadcast never",
    ),
    (
        "LINESMAN_CONNREQ_ALLOW_LOOPBACK",
        "false",
        "allow connection requests to loopback addresses (the simulator on 127.0.0.1)",
    ),
    (
        "LINESMAN_METRICS_TOKEN",
        "(unset)",
        "bearer token that opens `GET /metrics` from any address (at least 16 characters)",
    ),
    (
        "LINESMAN_METRICS_ALLOWED_NETWORKS",
        "127.0.0.0/8,::1/128",
        "comma-separated networks (CIDR) that may read `GET /metrics` without the token",
    ),
    (
        "LINESMAN_THROTTLE_WINDOW",
        "60",
        "seconds of the ACS's and the API's failure-counting windows; a key beyond its limit "
        "is refused until its window ends",
    ),
    (
        "LINESMAN_ACS_AUTH_FAILURES_PER_IDENTITY",
        "10",
        "failed device authentications per username a window before the ACS answers that "
        "username 503 (Retry-After) without checking its credentials",
    ),
    (
        "LINESMAN_ACS_AUTH_FAILURES_PER_ADDRESS",
        "300",
        "failed device authentications per source address a window before the ACS answers "
        "that address 503; high, because a CGNAT address carries many devices",
    ),
    (
        "LINESMAN_ACS_MAX_SESSIONS",
        "1024",
        "CWMP sessions open at once in one server process beyond which it is saturated and "
        "answers new sessions 503 (Retry-After); 0 never refuses",
    ),
    (
        "LINESMAN_ACS_SHED_DELAY_MS",
        "500",
        "milliseconds a device's request may wait, on average, to reach a server process "
        "after its InformResponse before the process counts as saturated and answers new "
        "sessions 503 (Retry-After); 0 never refuses for it",
    ),
    (
        "LINESMAN_ACS_SHED_RETRY_AFTER",
        "60",
        "seconds a refused new session is told to wait (Retry-After, spread at random over "
        "half to one and a half times this)",
    ),
    (
        "LINESMAN_API_BAD_TOKENS",
        "60",
        "unknown or expired API tokens per source address a window before the API answers "
        "429; valid tokens are never refused",
    ),
    (
        "LINESMAN_LOGIN_FAILURES",
        "5",
        "failed dashboard/admin logins per username within `LINESMAN_LOGIN_WINDOW` before "
        "that username is locked out (429) until the window ends",
    ),
    (
        "LINESMAN_LOGIN_FAILURES_PER_ADDRESS",
        "50",
        "failed dashboard/admin logins per source address within `LINESMAN_LOGIN_WINDOW` "
        "before that address is locked out",
    ),
    (
        "LINESMAN_LOGIN_WINDOW",
        "900",
        "seconds of the login lockout window",
    ),
    (
        "LINESMAN_SECURE_COOKIES",
        "auto",
        "`Secure` session and CSRF cookies: `auto` when `LINESMAN_PUBLIC_URL` is https://, "
        "else `true` or `false`",
    ),
    (
        "LINESMAN_TRUSTED_PROXY_HEADER",
        "(unset)",
        "header a TLS-terminating proxy sets to `https` (e.g. `X-Forwarded-Proto`); set it "
        "only when that proxy overwrites the header on every request",
    ),
    (
        "LINESMAN_STUN_BIND",
        "0.0.0.0:3478",
        "host:port (UDP) of the STUN server `linesman serve` runs for devices behind NAT "
        "(TR-111); `off` runs none",
    ),
    (
        "LINESMAN_STUN_SERVER_ADDRESS",
        "the host of `LINESMAN_PUBLIC_URL`",
        "host name or address devices are given as their STUN server (the port is "
        "`LINESMAN_STUN_BIND`'s)",
    ),
    (
        "LINESMAN_XMPP_JID",
        "(unset)",
        "the ACS's XMPP account (`acs@example.net`) for XMPP connection requests; unset "
        "disables them",
    ),
    (
        "LINESMAN_XMPP_PASSWORD",
        "(unset)",
        "the password of `LINESMAN_XMPP_JID`",
    ),
    (
        "LINESMAN_XMPP_SERVER",
        "the JID's domain, port 5222",
        "host:port of the XMPP server, when it is not the JID's domain",
    ),
    (
        "LINESMAN_MAP_TILE_URL",
        "(unset)",
        "map tiles under the dashboard's map, e.g. `https://tile.example.net/{z}/{x}/{y}.png` "
        "(http(s), with `{z}`, `{x}` and `{y}`); unset: borders only, no outside request",
    ),
    (
        "LINESMAN_MAP_TILE_ATTRIBUTION",
        "(unset)",
        "the credit line the tile provider asks for, shown under the map",
    ),
]


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def _int(name: str, default: int, lo: int, hi: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name}={value} is out of range ({lo} to {hi})")
    return value


def _bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (use true or false)")


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _env(name, default)
    if value not in choices:
        raise ConfigError(f"{name}={value!r} must be one of: {', '.join(choices)}")
    return value


def _networks(name: str, default: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    raw = _env(name, default)
    networks = []
    for part in raw.split(","):
        if not part.strip():
            continue
        try:
            networks.append(ipaddress.ip_network(part.strip(), strict=False))
        except ValueError:
            raise ConfigError(
                f"{name}: {part.strip()!r} is not a network in CIDR notation (e.g. 10.0.0.0/8)"
            ) from None
    if not networks:
        raise ConfigError(f"{name} names no network")
    return tuple(networks)


def parse_bind(value: str, source: str = "LINESMAN_BIND") -> tuple[str, int]:
    """Split `host:port` (IPv6 as `[::1]:8000`) and check both parts."""
    host, sep, port_text = value.rpartition(":")
    if not sep or not host:
        raise ConfigError(f"{source}={value!r} must be host:port, e.g. 127.0.0.1:8000")
    host = host.strip("[]")
    try:
        port = int(port_text)
    except ValueError:
        raise ConfigError(f"{source}={value!r}: port {port_text!r} is not a number") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"{source}={value!r}: port must be 0-65535")
    return host, port


@dataclass(frozen=True)
class Config:
    home: Path
    database_url: str
    redis_url: str | None
    secret_key: str
    bind_host: str
    bind_port: int
    public_url: str
    page_size: int
    max_page_size: int
    debug: bool
    allowed_hosts: list[str]
    server: str
    processes: int
    threads: int
    workers: int
    status_grace: int
    last_seen_batch_ms: int
    device_log_retention_days: int
    sweep_interval: int
    queue_name: str
    operation_timeout: int | None
    rpc_max_attempts: int
    auto_register_org: str | None
    auto_register_type: str | None
    connreq_allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    connreq_allow_loopback: bool
    throttle_window: int = 60
    acs_auth_failures_per_identity: int = 10
    acs_max_sessions: int = 1024
    acs_shed_retry_after: int = 60
    acs_shed_delay: float = 0.5
    acs_auth_failures_per_address: int = 300
    api_bad_tokens: int = 60
    login_failures: int = 5
    login_failures_per_address: int = 50
    login_window: int = 900
    metric_retention_days: int = 7
    metric_collection_interval: int = 3600
    secure_cookies: bool = False
    trusted_proxy_header: str | None = None
    stun_bind: tuple[str, int] | None = None
    stun_server_address: str = ""
    xmpp_jid: str | None = None
    xmpp_password: str = ""
    xmpp_server: tuple[str, int] | None = None
    map_tile_url: str | None = None
    map_tile_attribution: str | None = None
    metrics_token: str | None = None
    metrics_allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def queue_path(self) -> Path:
        return self.home / "queue.sqlite3"

    @property
    def firmware_dir(self) -> Path:
        return self.home / "firmware"


def _tile_url(value: str | None) -> str | None:
    """A tile URL template: http(s), a host, and the {z}, {x} and {y} placeholders."""
    if value is None:
        return None
    parsed = urlparse(value)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise ConfigError(f"LINESMAN_MAP_TILE_URL={value!r} must be an http(s) URL")
    if any(part not in value for part in ("{z}", "{x}", "{y}")) or any(c in value for c in "'\" ;"):
        raise ConfigError(
            f"LINESMAN_MAP_TILE_URL={value!r} must contain {{z}}, {{x}} and {{y}} "
            "(and no quotes, spaces or semicolons)"
        )
    return value


def _secret_key(home: Path) -> str:
    explicit = _env("LINESMAN_SECRET_KEY")
    if explicit is not None:
        if len(explicit) < 32:
            raise ConfigError("LINESMAN_SECRET_KEY must be at least 32 characters long")
        return explicit
    key_file = home / "secret_key"
    if key_file.exists():
        key = key_file.read_text().strip()
        if len(key) < 32:  # e.g. truncated when the disk filled up as it was written
            raise ConfigError(
                f"LINESMAN_SECRET_KEY is unset and {key_file} holds no usable key; "
                "restore it from a backup, or delete it to generate a new one "
                "(stored device passwords then become unreadable)"
            )
        return key
    key = secrets.token_urlsafe(50)
    # Created with 0600 so other local users cannot read it: it decrypts device passwords.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def load() -> Config:
    """Read and validate the environment; create the data directory if needed."""
    home = Path(_env("LINESMAN_HOME", "linesman-data")).expanduser().resolve()
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"LINESMAN_HOME={home}: cannot create the data directory ({exc})"
        ) from None

    database_url = _env("DATABASE_URL", f"sqlite:///{home / 'linesman.sqlite3'}")
    scheme = urlparse(database_url).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ConfigError(
            f"DATABASE_URL scheme {scheme!r} is not supported (use sqlite:/// or postgres://)"
        )

    redis_url = _env("REDIS_URL")
    if redis_url is not None and urlparse(redis_url).scheme not in {"redis", "rediss", "unix"}:
        raise ConfigError(f"REDIS_URL={redis_url!r} must start with redis:// or rediss://")

    bind_host, bind_port = parse_bind(_env("LINESMAN_BIND", "127.0.0.1:8000"))
    public_url = _env("LINESMAN_PUBLIC_URL")
    if public_url is None:
        shown_host = "127.0.0.1" if bind_host in {"0.0.0.0", "::", ""} else bind_host
        public_url = f"http://{shown_host}:{bind_port}"
    elif urlparse(public_url).scheme not in {"http", "https"}:
        raise ConfigError(f"LINESMAN_PUBLIC_URL={public_url!r} must be an http(s) URL")

    page_size = _int("LINESMAN_PAGE_SIZE", 50, 1, 1000)
    max_page_size = _int("LINESMAN_MAX_PAGE_SIZE", 1000, 1, 10000)
    if page_size > max_page_size:
        raise ConfigError("LINESMAN_PAGE_SIZE must not exceed LINESMAN_MAX_PAGE_SIZE")

    secure = _choice("LINESMAN_SECURE_COOKIES", "auto", ("auto", "true", "false"))
    proxy_header = _env("LINESMAN_TRUSTED_PROXY_HEADER")
    if proxy_header is not None and not re.fullmatch(r"[A-Za-z0-9-]{1,100}", proxy_header):
        raise ConfigError(
            f"LINESMAN_TRUSTED_PROXY_HEADER={proxy_header!r} must be a header name, "
            "e.g. X-Forwarded-Proto"
        )

    stun_raw = _env("LINESMAN_STUN_BIND", "0.0.0.0:3478")
    stun_bind = None if stun_raw.lower() == "off" else parse_bind(stun_raw, "LINESMAN_STUN_BIND")
    stun_address = _env("LINESMAN_STUN_SERVER_ADDRESS") or urlparse(public_url).hostname or ""
    xmpp_jid = _env("LINESMAN_XMPP_JID")
    xmpp_password = _env("LINESMAN_XMPP_PASSWORD", "")
    xmpp_server = None
    if xmpp_jid is not None:
        if not re.fullmatch(r"[^@/\s]+@[^@/\s]+", xmpp_jid):
            raise ConfigError(
                f"LINESMAN_XMPP_JID={xmpp_jid!r} must be a bare JID, e.g. acs@xmpp.example.net"
            )
        if not xmpp_password:
            raise ConfigError("LINESMAN_XMPP_JID is set: LINESMAN_XMPP_PASSWORD is needed too")
        server_raw = _env("LINESMAN_XMPP_SERVER")
        xmpp_server = (
            parse_bind(server_raw, "LINESMAN_XMPP_SERVER")
            if server_raw
            else (xmpp_jid.split("@", 1)[1], 5222)
        )
    metrics_token = _env("LINESMAN_METRICS_TOKEN")
    if metrics_token is not None and len(metrics_token) < 16:
        raise ConfigError("LINESMAN_METRICS_TOKEN must be at least 16 characters long")

    return Config(
        home=home,
        database_url=database_url,
        redis_url=redis_url,
        secret_key=_secret_key(home),
        bind_host=bind_host,
        bind_port=bind_port,
        public_url=public_url.rstrip("/"),
        page_size=page_size,
        max_page_size=max_page_size,
        debug=_bool("LINESMAN_DEBUG", False),
        allowed_hosts=[
            h.strip() for h in _env("LINESMAN_ALLOWED_HOSTS", "*").split(",") if h.strip()
        ],
        server=_choice("LINESMAN_SERVER", "granian", ("granian", "waitress")),
        processes=_int("LINESMAN_PROCESSES", os.cpu_count() or 1, 1, 256),
        threads=_int("LINESMAN_THREADS", default_threads(), 1, 512),
        workers=_int("LINESMAN_WORKERS", 4, 1, 256),
        status_grace=_int("LINESMAN_STATUS_GRACE", 60, 0, 86400),
        metric_retention_days=_int("LINESMAN_METRIC_RETENTION_DAYS", 7, 1, 3650),
        metric_collection_interval=_int("LINESMAN_METRIC_COLLECTION_INTERVAL", 3600, 0, 30 * 86400),
        last_seen_batch_ms=_int("LINESMAN_LAST_SEEN_BATCH_MS", 250, 0, 10000),
        device_log_retention_days=_int("LINESMAN_DEVICE_LOG_RETENTION_DAYS", 7, 1, 3650),
        sweep_interval=_int("LINESMAN_SWEEP_INTERVAL", 15, 1, 3600),
        queue_name=_env("LINESMAN_QUEUE_NAME", "linesman"),
        operation_timeout=(
            _int("LINESMAN_OPERATION_TIMEOUT", 0, 1, 7 * 86400)
            if _env("LINESMAN_OPERATION_TIMEOUT")
            else None
        ),
        rpc_max_attempts=_int("LINESMAN_RPC_MAX_ATTEMPTS", 3, 1, 100),
        auto_register_org=_env("LINESMAN_AUTO_REGISTER_ORG"),
        auto_register_type=_env("LINESMAN_AUTO_REGISTER_TYPE"),
        connreq_allowed_networks=_networks("LINESMAN_CONNREQ_ALLOWED_NETWORKS", "0.0.0.0/0,::/0"),
        connreq_allow_loopback=_bool("LINESMAN_CONNREQ_ALLOW_LOOPBACK", False),
        throttle_window=_int("LINESMAN_THROTTLE_WINDOW", 60, 1, 86400),
        acs_auth_failures_per_identity=_int(
            "LINESMAN_ACS_AUTH_FAILURES_PER_IDENTITY", 10, 1, 1_000_000
        ),
        acs_auth_failures_per_address=_int(
            "LINESMAN_ACS_AUTH_FAILURES_PER_ADDRESS", 300, 1, 1_000_000
        ),
        acs_max_sessions=_int("LINESMAN_ACS_MAX_SESSIONS", 1024, 0, 1_000_000),
        acs_shed_retry_after=_int("LINESMAN_ACS_SHED_RETRY_AFTER", 60, 1, 86400),
        acs_shed_delay=_int("LINESMAN_ACS_SHED_DELAY_MS", 500, 0, 600_000) / 1000,
        api_bad_tokens=_int("LINESMAN_API_BAD_TOKENS", 60, 1, 1_000_000),
        login_failures=_int("LINESMAN_LOGIN_FAILURES", 5, 1, 10_000),
        login_failures_per_address=_int("LINESMAN_LOGIN_FAILURES_PER_ADDRESS", 50, 1, 1_000_000),
        login_window=_int("LINESMAN_LOGIN_WINDOW", 900, 1, 86400),
        secure_cookies=(
            secure == "true" or (secure == "auto" and public_url.startswith("https://"))
        ),
        trusted_proxy_header=proxy_header,
        stun_bind=stun_bind,
        stun_server_address=stun_address,
        xmpp_jid=xmpp_jid,
        xmpp_password=xmpp_password,
        xmpp_server=xmpp_server,
        map_tile_url=_tile_url(_env("LINESMAN_MAP_TILE_URL")),
        map_tile_attribution=_env("LINESMAN_MAP_TILE_ATTRIBUTION"),
        metrics_token=metrics_token,
        metrics_allowed_networks=_networks(
            "LINESMAN_METRICS_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128"
        ),
    )


def default_threads(cores: int | None = None) -> int:
    """8 HTTP threads a process, but no more than 2 x cores + 1: beyond that the threads
    only queue for the GIL (4 and 8 served the same sessions a second on 2 cores, 16
    fewer), and granian warns of it at start."""
    cores = cores or os.cpu_count() or 1
    return min(8, 2 * cores + 1)
