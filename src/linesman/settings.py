"""Django settings, derived from the environment by `linesman.conf` (where defaults live)."""

from __future__ import annotations

import os
import tempfile

import dj_database_url

from linesman import conf

# pytest sets PYTEST_VERSION: unit tests get a throwaway data directory and run tasks inline.
# End-to-end tests start real servers with their own environment, without that variable.
TESTING = "PYTEST_VERSION" in os.environ
if TESTING and "LINESMAN_HOME" not in os.environ:
    os.environ["LINESMAN_HOME"] = tempfile.mkdtemp(prefix="linesman-test-")

CONFIG = conf.load()

SECRET_KEY = CONFIG.secret_key
DEBUG = CONFIG.debug
ALLOWED_HOSTS = CONFIG.allowed_hosts
LINESMAN_PUBLIC_URL = CONFIG.public_url
LINESMAN_STATUS_GRACE = CONFIG.status_grace
# Tests in this process run inside transactions that a writer thread could not see into.
LINESMAN_LAST_SEEN_BATCH = (
    0.0
    if TESTING and "LINESMAN_LAST_SEEN_BATCH_MS" not in os.environ
    else CONFIG.last_seen_batch_ms / 1000
)
LINESMAN_AUTO_REGISTER_ORG = CONFIG.auto_register_org
LINESMAN_AUTO_REGISTER_TYPE = CONFIG.auto_register_type

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
    "linesman.dashboard",
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
]

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
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
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
        "BulkJobStatusEnum": "linesman.operations.bulk_models.BulkJobStatus",
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
    HUEY["immediate"] = True

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
