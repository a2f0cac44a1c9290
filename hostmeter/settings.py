"""Settings, read from HOSTMETER_* environment variables with safe embedded defaults."""

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("HOSTMETER_DATA_DIR", BASE_DIR.parent / "var")).resolve()


def _env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """The configured key, or one generated once and kept in the data directory."""
    if key := os.environ.get("HOSTMETER_SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("HOSTMETER_DEBUG")
ALLOWED_HOSTS = os.environ.get("HOSTMETER_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("HOSTMETER_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

INSTALLED_APPS = [
    "hostmeter.apps.HostmeterAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "hostmeter.accounts",
    "hostmeter.tenancy",
    "hostmeter.metering",
    "hostmeter.reports",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "hostmeter.api",
]

MIDDLEWARE = [
    "hostmeter.request_body.RequestBodyLengthMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "hostmeter.middleware.ViewerTimeZoneMiddleware",
]

ROOT_URLCONF = "hostmeter.urls"
WSGI_APPLICATION = "hostmeter.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hostmeter.reports.context_processors.navigation",
            ],
        },
    },
]

# Database: SQLite in the data directory unless HOSTMETER_DATABASE_URL says otherwise.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("HOSTMETER_DATABASE_URL", f"sqlite:///{DATA_DIR / 'hostmeter.sqlite3'}"),
        conn_max_age=int(os.environ.get("HOSTMETER_DB_CONN_MAX_AGE", "0")),
    )
}
if test_name := os.environ.get("HOSTMETER_TEST_DB_NAME"):
    # one test database per run, so that runs side by side do not drop each other's
    DATABASES["default"]["TEST"] = {"NAME": test_name}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the pages read while the worker writes; IMMEDIATE avoids
        # lock-upgrade deadlocks between the web server, worker and scheduler.
        # threads: a sort too big for memory (a usage update's roll-ups group every
        # usage row) may sort and merge its runs on a second core; small sorts never do.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA threads=2;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["hostmeter.accounts.backends.LoginLevelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing one
MEDIA_ROOT = Path(os.environ.get("HOSTMETER_MEDIA_ROOT", DATA_DIR / "files"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = _env_bool("HOSTMETER_SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Usage collection.
HOSTMETER = {
    # Root directory holding one folder per organization domain (disk collector).
    "DOCUMENT_ROOT": os.environ.get("HOSTMETER_DOCUMENT_ROOT", ""),
    # Access logs (combined format with the virtual host first) for the web-traffic collector.
    "ACCESS_LOGS": [p for p in os.environ.get("HOSTMETER_ACCESS_LOGS", "").split(",") if p],
    # The scheduler runs the collectors configured above this long before each
    # scheduled usage update, so that their samples fall before its cut-off (0: never;
    # run them from cron instead).
    "COLLECT_LEAD_SECONDS": int(os.environ.get("HOSTMETER_COLLECT_LEAD_SECONDS", "300")),
    # A usage update still "running" this long after it started lost its worker.
    "UPDATE_LEASE_SECONDS": int(os.environ.get("HOSTMETER_UPDATE_LEASE_SECONDS", "3600")),
    # A report "generating" without a heartbeat for this long lost its worker.
    "REPORT_LEASE_SECONDS": int(os.environ.get("HOSTMETER_REPORT_LEASE_SECONDS", "60")),
    # How often the scheduler looks at the schedule.
    "SCHEDULER_INTERVAL_SECONDS": int(os.environ.get("HOSTMETER_SCHEDULER_INTERVAL", "30")),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("HOSTMETER_LOG_LEVEL", "INFO")},
}

# The REST API under /api/v1/ (hostmeter.api): tokens or the session, login levels,
# keyset pagination, an OpenAPI schema with docs served from our own static files.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "hostmeter.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["hostmeter.api.permissions.LevelPermission"],
    "DEFAULT_PAGINATION_CLASS": "hostmeter.api.pagination.KeysetPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_METADATA_CLASS": None,
    "EXCEPTION_HANDLER": "hostmeter.api.exceptions.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "hostmeter API",
    "DESCRIPTION": (
        "Usage, tenancy, reports and usage-sample ingest of the hosting provider's panel, "
        "with the login levels of the pages. Authenticate with `Authorization: Bearer "
        "<token>` (tokens: /api/v1/tokens/ or `hostmeter api_token create`) or the "
        "panel's session. 401 without credentials, 403 when the login level (or an "
        "ingest-only token) may not. Lists are paged with a cursor: follow `next`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ReportKindEnum": "hostmeter.reports.models.Report.Kind",
        "ResourceKindEnum": "hostmeter.tenancy.models.Resource.Kind",
        "LimitKindEnum": "hostmeter.api.serializers.LIMIT_KINDS",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "hostmeter.api.schema.add_error_responses",
    ],
}
HOSTMETER_API = {
    # Largest ingest request: rows and bytes (413 beyond, nothing stored).
    "INGEST_MAX_ROWS": int(os.environ.get("HOSTMETER_API_INGEST_MAX_ROWS", "10000")),
    "INGEST_MAX_BYTES": int(os.environ.get("HOSTMETER_API_INGEST_MAX_BYTES", "20000000")),
    # A token's "last used" is written at most this often (not on every request).
    "TOKEN_TOUCH_SECONDS": 60,
}
