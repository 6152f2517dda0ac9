"""Django settings, derived from the environment by `linesman.conf` (where defaults live)."""

from __future__ import annotations

import os
import tempfile
from urllib.parse import urlparse

import dj_database_url

from linesman import conf

# pytest sets PYTEST_VERSION: unit tests get a throwaway data directory and run tasks inline.
# End-to-end tests start real servers with their own environment, without that variable.
TESTING = "PYTEST_VERSION" in os.environ
if TESTING and "LINESMAN_HOME" not in os.environ:
    os.environ["LINESMAN_HOME"] = tempfile.mkdtemp(prefix="linesman-test-")
# pytest-xdist's workers inherit the controller's data directory. Each takes its own under
# it (queue file, throttle cache, metrics, firmware), as pytest-django gives each its own
# test database.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "") if TESTING else ""
if _worker and os.path.basename(os.environ["LINESMAN_HOME"]) != _worker:
    os.environ["LINESMAN_HOME"] = os.path.join(os.environ["LINESMAN_HOME"], _worker)

CONFIG = conf.load()

# prometheus-client's multi-process mode (linesman.observability.metrics): every process
# of this data directory writes its counters here; set before the library is imported,
# and always to this home's directory (a child server with another home gets its own).
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(CONFIG.home / "prometheus")
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
LINESMAN_METRICS_TOKEN = CONFIG.metrics_token
LINESMAN_METRICS_ALLOWED_NETWORKS = CONFIG.metrics_allowed_networks

SECRET_KEY = CONFIG.secret_key
DEBUG = CONFIG.debug
ALLOWED_HOSTS = CONFIG.allowed_hosts
LINESMAN_PUBLIC_URL = CONFIG.public_url
LINESMAN_STATUS_GRACE = CONFIG.status_grace
LINESMAN_METRIC_RETENTION_DAYS = CONFIG.metric_retention_days
LINESMAN_METRIC_COLLECTION_INTERVAL = CONFIG.metric_collection_interval
# Tests in this process run inside transactions that a writer thread could not see into.
LINESMAN_LAST_SEEN_BATCH = (
    0.0
    if TESTING and "LINESMAN_LAST_SEEN_BATCH_MS" not in os.environ
    else CONFIG.last_seen_batch_ms / 1000
)
LINESMAN_DEVICE_LOG_RETENTION_DAYS = CONFIG.device_log_retention_days
LINESMAN_AUTO_REGISTER_ORG = CONFIG.auto_register_org
LINESMAN_AUTO_REGISTER_TYPE = CONFIG.auto_register_type
LINESMAN_CONNREQ_ALLOWED_NETWORKS = CONFIG.connreq_allowed_networks
# Tests talk to simulated devices and listeners on 127.0.0.1; a test of the policy itself
# turns loopback off with override_settings.
LINESMAN_CONNREQ_ALLOW_LOOPBACK = CONFIG.connreq_allow_loopback or (
    TESTING and "LINESMAN_CONNREQ_ALLOW_LOOPBACK" not in os.environ
)

# Brute-force limits (`core.throttle`): failures counted per key in fixed windows.
LINESMAN_THROTTLE_WINDOW = CONFIG.throttle_window
LINESMAN_ACS_AUTH_FAILURES_PER_IDENTITY = CONFIG.acs_auth_failures_per_identity
LINESMAN_ACS_MAX_SESSIONS = CONFIG.acs_max_sessions
LINESMAN_ACS_SHED_RETRY_AFTER = CONFIG.acs_shed_retry_after
LINESMAN_ACS_SHED_DELAY = CONFIG.acs_shed_delay
LINESMAN_ACS_AUTH_FAILURES_PER_ADDRESS = CONFIG.acs_auth_failures_per_address
LINESMAN_API_BAD_TOKENS = CONFIG.api_bad_tokens
LINESMAN_LOGIN_FAILURES = CONFIG.login_failures
LINESMAN_LOGIN_FAILURES_PER_ADDRESS = CONFIG.login_failures_per_address
LINESMAN_LOGIN_WINDOW = CONFIG.login_window

# The throttle's counters, shared by every process: Redis (every node) when configured,
# else files under LINESMAN_HOME (every process of this node). Files rather than the
# database cache: cheaper (measured on SQLite: a counted failure 2.0 ms against 3.2 ms, a
# shared check 0.15 ms against 0.6 ms), no competition with the ACS's writes for SQLite's
# one write lock, and no table for `migrate`/`serve` to create first.
if CONFIG.redis_url:
    CACHES = {
        "default": {
            "BACKEND": "linesman.core.rediscache.SharedClientRedisCache",
            "LOCATION": CONFIG.redis_url,
            "KEY_PREFIX": CONFIG.queue_name,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(CONFIG.home / "cache"),
            # Culling lists the directory on every write; entries expire with their window.
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        }
    }

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "huey.contrib.djhuey",
    "linesman.tenancy",
    "linesman.inventory",
    "linesman.operations",
    "linesman.cwmp",
    "linesman.audit",
    "linesman.connprofiles",
    "linesman.devicelog",
    "linesman.dashboard",
    "linesman.metrics",
    "linesman.observability",
    "linesman.webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "linesman.dashboard.security.LoginLockoutMiddleware",
    "linesman.dashboard.security.ContentSecurityPolicyMiddleware",
    # Innermost, so that a write's transaction spans the view and its rendering.
    "linesman.core.middleware.ApiRequestMiddleware",
]

# HTTPS deployments: cookies only over TLS, and (behind a TLS-terminating proxy that sets
# the header on every request) requests are known to be secure by that header.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = CONFIG.secure_cookies
if CONFIG.trusted_proxy_header:
    SECURE_PROXY_SSL_HEADER = (
        "HTTP_" + CONFIG.trusted_proxy_header.upper().replace("-", "_"),
        "https",
    )
LINESMAN_MAP_TILE_URL = CONFIG.map_tile_url
LINESMAN_MAP_TILE_ATTRIBUTION = CONFIG.map_tile_attribution
_public = urlparse(CONFIG.public_url)
CSRF_TRUSTED_ORIGINS = [f"{_public.scheme}://{_public.netloc}"]


ROOT_URLCONF = "linesman.urls"
WSGI_APPLICATION = "linesman.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": dj_database_url.parse(CONFIG.database_url, conn_max_age=600)}
if CONFIG.is_sqlite:
    # WAL lets readers run beside the one writer; IMMEDIATE transactions take the write lock
    # up front so concurrent writers queue on busy_timeout instead of failing mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"]["TEST"] = {"NAME": str(CONFIG.home / "test-linesman.sqlite3")}
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Lets `core.hotsql` run the ACS's hot statements as prepared statements (planned once
    # per connection). The ORM's own queries bind client-side and are never prepared.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = str(CONFIG.home / "static")
os.makedirs(STATIC_ROOT, exist_ok=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False
MEDIA_ROOT = str(CONFIG.home / "media")
LINESMAN_FIRMWARE_DIR = CONFIG.firmware_dir

LOGIN_URL = "/admin/login/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "linesman.tenancy.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "linesman.core.pagination.LimitOffsetPagination",
    "PAGE_SIZE": CONFIG.page_size,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["linesman.core.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        # DRF's, refusing text XML 1.0 cannot carry and lone surrogates (core.textcheck).
        "linesman.core.parsers.JSONParser",
        "linesman.core.parsers.MultiPartParser",
        "linesman.core.parsers.FormParser",
    ],
    "EXCEPTION_HANDLER": "linesman.core.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
LINESMAN_MAX_PAGE_SIZE = CONFIG.max_page_size

SPECTACULAR_SETTINGS = {
    "TITLE": "Linesman API",
    "DESCRIPTION": (
        "Device inventory and remote operations over TR-069/CWMP. "
        "Authenticate with `Authorization: Bearer <token>`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # The bearerAuth scheme comes from linesman.api_schema.ApiTokenScheme.
    "SECURITY": [{"bearerAuth": []}],
    # Several choice sets are called `status`: each gets its own enum name.
    "ENUM_NAME_OVERRIDES": {
        "DeviceStatusEnum": "linesman.inventory.models.DeviceStatus",
        "BulkJobStatusEnum": "linesman.operations.bulk.models.BulkJobStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "linesman.api_schema.add_common_errors",
    ],
}

if CONFIG.redis_url:
    HUEY = {
        "huey_class": "huey.PriorityRedisHuey",
        "name": CONFIG.queue_name,
        "url": CONFIG.redis_url,
        "immediate": False,
        "utc": True,
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": CONFIG.queue_name,
        "filename": str(CONFIG.queue_path),
        "immediate": False,
        "utc": True,
    }
if TESTING:
    # Tests run a task inline when it is queued, on the real storage (the SQLite file, or
    # Redis): a delayed task (a time-out, a retry with backoff, a scheduled start) waits in
    # that storage's schedule until a test moves the clock past it (tests/taskclock.py).
    HUEY["immediate"] = True
    HUEY["immediate_use_memory"] = False
    if CONFIG.redis_url:
        # Test processes running at once (pytest-xdist) share the Redis database: each has
        # its own queue and throttle counters.
        HUEY["name"] = f"{CONFIG.queue_name}-pytest-{os.getpid()}"
        CACHES["default"]["KEY_PREFIX"] = HUEY["name"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "linesman": {"level": os.environ.get("LINESMAN_LOG_LEVEL", "INFO")},
        "huey": {"level": "WARNING"},
    },
}
