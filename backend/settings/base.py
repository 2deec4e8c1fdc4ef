"""Django's own settings (core, database, security headers, logging), read from the environment and `.env`."""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# What `make run` keeps on this machine: the local S3 server's data and address, the throttle counters, metrics.
LOCAL_DATA_DIR = Path(env.str("LOCAL_DATA_DIR", default=str(BASE_DIR / ".localdata")))

# Core
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# "production" turns on HTTPS-only cookies, HSTS and the checks below.
DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in ("development", "production"):
    raise ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'")
PRODUCTION = DJANGO_ENV == "production"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY (`make .env` writes a random one for local use)")
    SECRET_KEY = "django-insecure-development-only"  # noqa: S105 - DEBUG only
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG=True is refused with DJANGO_ENV=production")
if PRODUCTION and (len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured("DJANGO_ENV=production needs a random DJANGO_SECRET_KEY of at least 50 characters")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "storages",
    "rest_framework_simplejwt.token_blacklist",
    "django_tasks",
    "django_tasks_db",
    "django_rq",
    "property",
]

MIDDLEWARE = [
    "backend.metrics.RequestMetricsMiddleware",  # first: it times the others too
    "backend.request_id.RequestIdMiddleware",
    "backend.security.RequestLineLimitMiddleware",
    # Answers compressed for clients that accept gzip (browsers, requests, httpx): a list's signed URLs share most
    # of their text. Django pads each compressed answer with random bytes against BREACH, and the API's credentials
    # are a bearer token or the admin's session cookie (SameSite=Lax, Django's default), which a cross-site page
    # cannot make a browser send with a request whose answer it could measure.
    "backend.compression.GZipUnlessCompressedMiddleware",
    # Before anything that can answer: a CORS preflight is answered here, without a token.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The admin's and Swagger UI's files, served by the app itself (backend.server under `make run`).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "backend.security.ApiReferrerPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "backend.exceptions.DatabaseBusyMiddleware",
]

ROOT_URLCONF = "backend.urls"
WSGI_APPLICATION = "backend.wsgi.application"

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

# Database: SQLite by default, anything else through DATABASE_URL
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite as a server's database (Django's "Database is locked errors" notes): writers take the lock when
    # their transaction begins and wait for each other up to SQLITE_BUSY_TIMEOUT seconds, instead of failing
    # when a read turns into a write; in WAL mode readers never wait for the writer. A writer that still
    # cannot get the lock answers 503 with Retry-After (backend.exceptions.DatabaseBusyMiddleware).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env.float("SQLITE_BUSY_TIMEOUT", default=20.0),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        **DATABASES["default"].get("OPTIONS", {}),
    }
# Connections outlive the request, so a request pays no connect (on PostgreSQL a TCP connect, authentication and a
# server process; on SQLite the PRAGMAs above). Each is checked before a request uses it (CONN_HEALTH_CHECKS), so
# a database restart costs no request an error. PostgreSQL: Django's psycopg pool, one per process, at most
# DATABASE_POOL_MAX_SIZE connections (one per thread of the API server: WEB_THREADS, backend.server), opened as
# threads need them and closed after 10 idle minutes down to DATABASE_POOL_MIN_SIZE (none: a pool that opens one at
# once opens a second for its first request, so a one-thread process such as the worker would hold two).
# Behind PgBouncer, DATABASE_POOL=False keeps one connection per thread instead (README, "Production"). SQLite, and
# PostgreSQL without the pool: one connection per thread, opened again after DATABASE_CONN_MAX_AGE seconds.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, its timestamps read by psycopg's compiled loader (backend/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "backend.postgresql"
if DATABASES["default"]["ENGINE"] == "backend.postgresql" and env.bool("DATABASE_POOL", default=True):
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps them
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=0),
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=env.int("WEB_THREADS", default=4)),
        # A thread waits this long for a free connection, then its request answers 503.
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=600))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The gallery example's photo module and the ThumbHash decoder it imports, which the share link's page uses too:
# /static/gallery/photos.js.
STATICFILES_DIRS = [("gallery", BASE_DIR / "examples" / "gallery" / "shared")]

# Security headers and HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"  # /api/ answers no-referrer (backend.security)
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe, and Prometheus scrapes each host's API server, over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
    CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
    # Joining the browsers' HSTS preload list is the domain owner's decision, not a default.
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# Logging
LOG_LEVEL = env.str("DJANGO_LOG_LEVEL", default="INFO").upper()
# A line per request, with its request id (backend.request_id.RequestIdMiddleware).
ACCESS_LOG = env.bool("ACCESS_LOG", default=True)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "backend.request_id.RequestIdFilter"},
        "redact_tokens": {"()": "backend.redaction.RedactTokensFilter"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s request_id=%(request_id)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id", "redact_tokens"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # botocore logs request URLs (presigned ones included) at DEBUG: keep it quiet.
    "loggers": {
        "botocore": {"level": "WARNING"},
        "boto3": {"level": "WARNING"},
        "s3transfer": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        "django.utils.autoreload": {"level": "WARNING"},
    },
}
