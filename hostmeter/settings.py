"""Settings, read from HOSTMETER_* environment variables with safe embedded defaults.

Importing them writes nothing: the `hostmeter` command (hostmeter/__main__.py) creates
the data directory and the secret key file before it loads them.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import django_stubs_ext
import environ

# Django classes that are generic only in django-stubs (Paginator, Prefetch, Field …)
# take type arguments at run time too, as in `class _Paginator(Paginator[_M])`.
django_stubs_ext.monkeypatch()

env = environ.Env()

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env.str("HOSTMETER_DATA_DIR", default=str(BASE_DIR.parent / "var"))).resolve()
SECRET_KEY_FILE = DATA_DIR / "secret_key"


def _secret_key() -> str:
    """HOSTMETER_SECRET_KEY (production), else the key the `hostmeter` command generated
    once into the data directory, else (a process started otherwise before any
    `hostmeter` command ran: a bare WSGI server, a benchmark) a key of the process's own,
    whose sessions and signatures last as long as the process."""
    # os.environ, not env.str(): django-environ reads a value starting with "$" as the
    # name of another variable, and a generated key may start with one.
    if key := os.environ.get("HOSTMETER_SECRET_KEY"):
        return key
    try:
        return SECRET_KEY_FILE.read_text().strip()
    except FileNotFoundError:
        return secrets.token_urlsafe(50)


SECRET_KEY = _secret_key()
DEBUG = env.bool("HOSTMETER_DEBUG", default=False)
ALLOWED_HOSTS = env.list("HOSTMETER_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("HOSTMETER_CSRF_TRUSTED_ORIGINS", default=[])

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
    "hostmeter.usage",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "hostmeter.api",
    "axes",
    "csp",
]

MIDDLEWARE = [
    "hostmeter.request_body.RequestBodyLengthMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "hostmeter.middleware.IdleSessionMiddleware",
    "hostmeter.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "hostmeter.middleware.ViewerTimeZoneMiddleware",
    "csp.middleware.CSPMiddleware",
    # last: it answers a locked-out sign-in (django-axes)
    "axes.middleware.AxesMiddleware",
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
                "hostmeter.context_processors.navigation",
            ],
        },
    },
]

# Database: SQLite in the data directory unless HOSTMETER_DATABASE_URL says otherwise.
DATABASES = {
    "default": env.db_url(
        "HOSTMETER_DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'hostmeter.sqlite3'}"
    )
}
# Connections kept open between requests (one per web server thread) for this many
# seconds: a new one costs the web server and PostgreSQL several ms of CPU a request
# (docs/benchmarks.md, Load). Checked before a request reuses it, so that one the database
# dropped (a restart) is replaced instead of failing the request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("HOSTMETER_DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
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
# AxesStandaloneBackend first: a login locked out after failed passwords is refused
# before its password is even checked (both sign-in pages: /login/ and the admin's).
AUTHENTICATION_BACKENDS = [
    "hostmeter.accounts.backends.LockoutBackend",
    "hostmeter.accounts.backends.LoginLevelBackend",
]
AXES_FAILURE_LIMIT = env.int("HOSTMETER_LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("HOSTMETER_LOGIN_LOCKOUT_MINUTES", default=15))
# Locked: that login from that address (others may still sign in); a success resets it.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLE_ADMIN = False  # accounts.admin registers them with the login levels' grants
# Behind a reverse proxy the client's address is in X-Forwarded-For (docs/deployment.md).
AXES_IPWARE_PROXY_COUNT = env.int("HOSTMETER_PROXY_COUNT", default=0)
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
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
MEDIA_ROOT = Path(env.str("HOSTMETER_MEDIA_ROOT", default=str(DATA_DIR / "files")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "hostmeter.staticfiles.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

SESSION_COOKIE_HTTPONLY = True
# A session ends after this long without a request (hostmeter.middleware.IdleSessionMiddleware).
SESSION_COOKIE_AGE = env.int("HOSTMETER_SESSION_IDLE_SECONDS", default=8 * 3600)
SESSION_COOKIE_SECURE = env.bool("HOSTMETER_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Behind TLS (production; docs/deployment.md): redirect plain HTTP, tell browsers to use
# HTTPS only, and trust the proxy's X-Forwarded-Proto. Off by default for `make run`.
SECURE_SSL_REDIRECT = env.bool("HOSTMETER_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("HOSTMETER_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("HOSTMETER_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("HOSTMETER_HSTS_PRELOAD", default=False)
if env.bool("HOSTMETER_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy: everything from our own origin, nothing inline but style
# attributes (progress bars, chart legends); the API docs pages are exempt (their
# bundled pages start Swagger UI and Redoc with inline scripts).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Usage collection.
HOSTMETER = {
    # Root directory holding one folder per organization domain (disk collector).
    "DOCUMENT_ROOT": env.str("HOSTMETER_DOCUMENT_ROOT", default=""),
    # Access logs (combined format with the virtual host first) for the web-traffic collector.
    "ACCESS_LOGS": env.list("HOSTMETER_ACCESS_LOGS", default=[]),
    # The scheduler runs the collectors configured above this long before each
    # scheduled usage update, so that their samples fall before its cut-off (0: never;
    # run them from cron instead).
    "COLLECT_LEAD_SECONDS": env.int("HOSTMETER_COLLECT_LEAD_SECONDS", default=300),
    # A usage update still queued this long lost its task (and the collectors' runs
    # their worker).
    "UPDATE_LEASE_SECONDS": env.int("HOSTMETER_UPDATE_LEASE_SECONDS", default=3600),
    # A running usage update whose heartbeat is silent this long lost its worker.
    "UPDATE_HEARTBEAT_LEASE_SECONDS": env.int(
        "HOSTMETER_UPDATE_HEARTBEAT_LEASE_SECONDS", default=120
    ),
    # A report "generating" without a heartbeat for this long lost its worker.
    "REPORT_LEASE_SECONDS": env.int("HOSTMETER_REPORT_LEASE_SECONDS", default=60),
    # How often the scheduler looks at the schedule.
    "SCHEDULER_INTERVAL_SECONDS": env.int("HOSTMETER_SCHEDULER_INTERVAL", default=30),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("HOSTMETER_LOG_LEVEL", default="INFO")},
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
    # the schema and its docs pages describe the whole API: for signed-in logins only
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ReportKindEnum": "hostmeter.reports.models.Report.Kind",
        "ResourceKindEnum": "hostmeter.tenancy.models.Resource.Kind",
        "LimitKindEnum": "hostmeter.tenancy.api.serializers.LIMIT_KINDS",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "hostmeter.api.schema.add_error_responses",
    ],
}
HOSTMETER_API = {
    # Largest ingest request: rows and bytes (413 beyond, nothing stored).
    "INGEST_MAX_ROWS": env.int("HOSTMETER_API_INGEST_MAX_ROWS", default=10000),
    "INGEST_MAX_BYTES": env.int("HOSTMETER_API_INGEST_MAX_BYTES", default=20000000),
    # A token's "last used" is written at most this often (not on every request).
    "TOKEN_TOUCH_SECONDS": 60,
}
