"""Django settings for the ALCA Real Estate API, read from the environment and `.env`."""

import json
from datetime import timedelta
from pathlib import Path

import environ
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from corsheaders.defaults import default_headers as corsheaders_default_headers
from django.core.exceptions import ImproperlyConfigured

from backend.env import pem_setting, s3_budget_timeouts
from backend.presigner import MAX_PRESIGNED_EXPIRY

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

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
    # Answers compressed for clients that accept gzip (browsers, requests, httpx): a list's signed URLs share most
    # of their text. Django pads each compressed answer with random bytes against BREACH, and the API's credentials
    # are a bearer token or the admin's session cookie (SameSite=Lax, Django's default), which a cross-site page
    # cannot make a browser send with a request whose answer it could measure.
    "django.middleware.gzip.GZipMiddleware",
    # Before anything that can answer: a CORS preflight is answered here, without a token.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The admin's and Swagger UI's files, served by the app itself (gunicorn under `make run`).
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
# DATABASE_POOL_MAX_SIZE connections (one per gunicorn thread), opened as threads need them and closed after 10 idle
# minutes down to DATABASE_POOL_MIN_SIZE (none: a pool that opens one at once opens a second for its first request,
# so a one-thread process such as the worker would hold two).
# Behind PgBouncer, DATABASE_POOL=False keeps one connection per thread instead (README, "Production"). SQLite, and
# PostgreSQL without the pool: one connection per thread, opened again after DATABASE_CONN_MAX_AGE seconds.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool("DATABASE_POOL", default=True):
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps them
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=0),
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=env.int("GUNICORN_THREADS", default=4)),
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

# S3: every property image lives in a private bucket and leaves it only through presigned URLs
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default=None)
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default=None)
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="alca-inmo")
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="us-east-1")
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default=None)
# With no S3 configured, outside production: the local S3 server of `make run` (localdev/run.py writes where it
# answers), so that manage.py commands and the shell run beside it reach the same bucket.
LOCAL_DATA_DIR = Path(env.str("LOCAL_DATA_DIR", default=str(BASE_DIR / ".localdata")))
LOCAL_S3_SERVER_FILE = LOCAL_DATA_DIR / "s3" / "server.json"
if not PRODUCTION and not (AWS_ACCESS_KEY_ID or AWS_S3_ENDPOINT_URL) and LOCAL_S3_SERVER_FILE.exists():
    local_s3 = json.loads(LOCAL_S3_SERVER_FILE.read_text())
    AWS_ACCESS_KEY_ID = local_s3["AWS_ACCESS_KEY_ID"]
    AWS_SECRET_ACCESS_KEY = local_s3["AWS_SECRET_ACCESS_KEY"]
    AWS_S3_ENDPOINT_URL = local_s3["AWS_S3_ENDPOINT_URL"]
    AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default=local_s3["AWS_STORAGE_BUCKET_NAME"])
AWS_S3_SIGNATURE_VERSION = "s3v4"
# S3-compatible servers (SeaweedFS, MinIO) want path-style addressing; AWS prefers virtual-hosted.
AWS_S3_ADDRESSING_STYLE = env.str("AWS_S3_ADDRESSING_STYLE", default="path" if AWS_S3_ENDPOINT_URL else "virtual")
if AWS_S3_ADDRESSING_STYLE not in ("path", "virtual", "auto"):
    raise ImproperlyConfigured("AWS_S3_ADDRESSING_STYLE must be 'path', 'virtual' or 'auto'")
# Every S3 call ends within S3_REQUEST_BUDGET seconds, whether S3 answers, refuses or hangs, so that a request
# that needs S3 answers 503 in time: AWS_S3_MAX_ATTEMPTS tries, and botocore's backoff before each new one (at
# most 1 s, then 2 s, ...); each try waits at most AWS_S3_CONNECT_TIMEOUT to connect and the read timeout
# left by the budget for S3's answer once the request is sent. Sending a large body is not cut short by it:
# each write of the body waits at most the connect timeout for the network to take it.
S3_REQUEST_BUDGET = env.float("S3_REQUEST_BUDGET", default=15.0)


AWS_S3_CLIENT_CONFIG = Config(
    signature_version=AWS_S3_SIGNATURE_VERSION,
    s3={"addressing_style": AWS_S3_ADDRESSING_STYLE},
    **s3_budget_timeouts(
        S3_REQUEST_BUDGET,
        connect_timeout=env.float("AWS_S3_CONNECT_TIMEOUT", default=2.0),
        max_attempts=env.int("AWS_S3_MAX_ATTEMPTS", default=2),
    ),
    # botocore >= 1.36 adds a CRC32 checksum to every upload by default; S3-compatible servers
    # differ in whether they accept it, and over TLS the transport already guards the bytes.
    request_checksum_calculation=env.str("AWS_REQUEST_CHECKSUM_CALCULATION", default="when_required"),
)
AWS_DEFAULT_ACL = "private"
AWS_S3_OBJECT_PARAMETERS = {
    "CacheControl": "max-age=86400",
}
AWS_S3_FILE_OVERWRITE = False
AWS_QUERYSTRING_AUTH = True
AWS_QUERYSTRING_EXPIRE = env.int("AWS_QUERYSTRING_EXPIRE", default=3600)  # 1 hour
# Photos are at most 10 MB: one PUT each, streamed from the calling thread, no multipart parts in memory.
AWS_S3_TRANSFER_CONFIG = TransferConfig(multipart_threshold=64 * 1024 * 1024, use_threads=False)
# CloudFront in front of the private bucket (README, "Photos through CloudFront"): with the distribution's domain
# and a key pair of its key group, image URLs are CloudFront signed URLs; without either, S3 presigned URLs
# (PrivateMediaStorage never hands out an unsigned URL). The private key in PEM, or the path of a file holding it.
AWS_S3_CUSTOM_DOMAIN = env.str("AWS_S3_CUSTOM_DOMAIN", default="") or None
AWS_CLOUDFRONT_KEY_ID = env.str("AWS_CLOUDFRONT_KEY_ID", default="") or None
AWS_CLOUDFRONT_KEY = pem_setting(env, "AWS_CLOUDFRONT_KEY")
# Key rotation: the key group's other key pair, and which of the two signs (default: AWS_CLOUDFRONT_KEY_ID's).
AWS_CLOUDFRONT_SECOND_KEY_ID = env.str("AWS_CLOUDFRONT_SECOND_KEY_ID", default="") or None
AWS_CLOUDFRONT_SECOND_KEY = pem_setting(env, "AWS_CLOUDFRONT_SECOND_KEY")
AWS_CLOUDFRONT_ACTIVE_KEY_ID = env.str("AWS_CLOUDFRONT_ACTIVE_KEY_ID", default="") or AWS_CLOUDFRONT_KEY_ID
# Signed cookies for a whole gallery (GET /api/houses-for-*/{id}/media_cookies/): how long they last, and the
# domain their Set-Cookie names (one the API's and the distribution's hosts share, e.g. ".example.com").
AWS_CLOUDFRONT_COOKIE_EXPIRE = env.int("AWS_CLOUDFRONT_COOKIE_EXPIRE", default=3600)
if not 1 <= AWS_CLOUDFRONT_COOKIE_EXPIRE <= MAX_PRESIGNED_EXPIRY:
    raise ImproperlyConfigured(
        f"AWS_CLOUDFRONT_COOKIE_EXPIRE must be 1 to {MAX_PRESIGNED_EXPIRY} seconds (7 days, as signed URLs)"
    )
AWS_CLOUDFRONT_COOKIE_DOMAIN = env.str("AWS_CLOUDFRONT_COOKIE_DOMAIN", default="") or None
# Within this many seconds the same image and expiry give the same URL, so browsers and CDNs cache it.
AWS_PRESIGNED_URL_STABLE_WINDOW = env.int("AWS_PRESIGNED_URL_STABLE_WINDOW", default=600)

# Use custom private storage backend (Django >= 5.1 reads STORAGES; the guide's name is kept beside it)
DEFAULT_FILE_STORAGE = "backend.storage_backends.PrivateMediaStorage"
STORAGES = {
    "default": {"BACKEND": DEFAULT_FILE_STORAGE},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Property images
PROPERTY_IMAGE_MAX_UPLOAD_SIZE = env.int("PROPERTY_IMAGE_MAX_UPLOAD_SIZE", default=10 * 1024 * 1024)  # 10 MB
PROPERTY_IMAGE_MAX_PIXELS = env.int("PROPERTY_IMAGE_MAX_PIXELS", default=50_000_000)
PROPERTY_IMAGE_MAX_FILES = env.int("PROPERTY_IMAGE_MAX_FILES", default=20)
# Smaller private copies made by a background task after each upload, for srcset: name -> width in pixels
# (never upscaled).
PROPERTY_IMAGE_VARIANTS = env.bool("PROPERTY_IMAGE_VARIANTS", default=True)
PROPERTY_IMAGE_VARIANT_WIDTHS = {"thumbnail": 320, "medium": 1024, "large": 2048}
# The variants a house's `main_image` carries: what a card on an index page draws. Each variant is two signed URLs
# of ~370 bytes, so the largest one is left to the house's own answer, and a page of 20 houses stays under 60 kB.
PROPERTY_IMAGE_COVER_VARIANTS = ["thumbnail", "medium"]
PROPERTY_IMAGE_VARIANT_FORMAT = env.str("PROPERTY_IMAGE_VARIANT_FORMAT", default="WEBP").upper()
if PROPERTY_IMAGE_VARIANT_FORMAT not in ("WEBP", "JPEG"):
    raise ImproperlyConfigured("PROPERTY_IMAGE_VARIANT_FORMAT must be WEBP or JPEG")
# An AVIF copy beside each variant (about 0.65x the bytes of the WebP one at equal SSIM; browsers that take it pick
# it from a <picture> source): the image JSON's `avif_url`.
PROPERTY_IMAGE_VARIANT_AVIF = env.bool("PROPERTY_IMAGE_VARIANT_AVIF", default=True)
# Seconds before each new try of a background task whose S3 call failed: after the last, an image's variants
# are marked failed (rebuild_variants tries those again), and objects still not deleted are left to
# sweep_orphans.
S3_TASK_RETRY_DELAYS = [int(delay) for delay in env.list("S3_TASK_RETRY_DELAYS", default=["10", "60", "300", "1800"])]
# An image whose variants are still pending this many seconds after they were asked for (a worker died, a
# message was lost) is enqueued again by `manage.py enqueue_pending_variants`.
PROPERTY_IMAGE_VARIANTS_STALE_AFTER = env.int("PROPERTY_IMAGE_VARIANTS_STALE_AFTER", default=300)
PRESIGNED_URL_MAX_EXPIRATION = MAX_PRESIGNED_EXPIRY  # 7 days: the SigV4 maximum
# Uploads above this size go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "property.upload_handlers.UploadSizeLimitHandler",  # refuses oversized files while they stream in
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# REST framework
REST_FRAMEWORK = {
    # simplejwt's, with the user row kept a moment in memory (AUTH_USER_CACHE_SECONDS) instead of read per request.
    "DEFAULT_AUTHENTICATION_CLASSES": ["backend.authentication.CachedUserJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "backend.renderers.FastJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # JSON bodies only: a form can say neither null nor a typed number or boolean, and a body stated once is what
    # client generators handle. The upload actions take multipart instead (their own parser_classes).
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PAGINATION_CLASS": "property.pagination.StandardPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "backend.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "backend.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {"token": env.str("TOKEN_THROTTLE_RATE", default="20/min")},
    # Proxies in front of the app: the client address is taken that many hops from the right of
    # X-Forwarded-For, so a client cannot pick its own address to dodge throttling. 0: REMOTE_ADDR only.
    "NUM_PROXIES": env.int("DJANGO_NUM_PROXIES", default=0),
}

# JWT: short-lived access tokens; each refresh gives a new refresh token and blacklists the old one.
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_TOKEN_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_TOKEN_DAYS", default=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "ALGORITHM": "HS256",  # pinned: tokens signed any other way (or not at all) are refused
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,
    # Tokens carry a hash of the password they were issued under: a new password refuses the old tokens.
    "CHECK_REVOKE_TOKEN": True,
}
# How long a process may answer from the user row it read for a token (backend.authentication): a user deactivated or
# with a new password loses access within this time in every process (at once in the one that saved it). At most the
# access token's lifetime.
AUTH_USER_CACHE_SECONDS = env.int("AUTH_USER_CACHE_SECONDS", default=60)
if not 0 <= AUTH_USER_CACHE_SECONDS <= SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds():
    raise ImproperlyConfigured("AUTH_USER_CACHE_SECONDS must be 0 to the access token's lifetime in seconds")

# Background tasks (size variants): Django's Tasks API. The database is the queue by default (`manage.py db_worker`;
# any number of workers share it); TASKS_BACKEND=rq puts it on Redis (`manage.py rqworker`) to scale out.
TASKS_BACKEND = env.str("TASKS_BACKEND", default="database")
if TASKS_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
elif TASKS_BACKEND == "rq":
    TASKS = {"default": {"BACKEND": "backend.task_backends.PriorityRQBackend", "QUEUES": ["default"]}}
else:
    raise ImproperlyConfigured("TASKS_BACKEND must be 'database' or 'rq'")
RQ_QUEUES = {"default": {"URL": env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")}}
# Finished tasks' results on the database queue are forgotten this many days after they finished (`manage.py
# housekeeping`, every minute under `make run`); RQ forgets a finished job's result after 500 s by itself.
TASK_RESULTS_MAX_AGE_DAYS = env.int("TASK_RESULTS_MAX_AGE_DAYS", default=1)
if TASK_RESULTS_MAX_AGE_DAYS < 1:
    raise ImproperlyConfigured("TASK_RESULTS_MAX_AGE_DAYS must be a whole number of days, at least 1")
# The admin's RQ dashboard only where there is an RQ queue to show (it would fail without Redis).
RQ_SHOW_ADMIN_LINK = TASKS_BACKEND == "rq"

# CORS: front ends on other origins (`http://localhost:5173`, `https://www.example.com`) may call the API from a
# browser. None by default: an operator lists them. Tokens travel in the Authorization header, never in cookies,
# so no credentials mode (and never a wildcard with one).
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/(api|health)/"
CORS_ALLOW_HEADERS = [*corsheaders_default_headers, "x-request-id"]
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After"]
CORS_PREFLIGHT_MAX_AGE = 86400

# Cache: the throttle counters, which every process must share or each would allow the whole rate. Without CACHE_URL,
# files under LOCAL_DATA_DIR (every process of `make run` on this machine); in production CACHE_URL (Redis, shared by
# every host) is required.
CACHE_URL = env.str("CACHE_URL", default="")
if PRODUCTION and not CACHE_URL:
    raise ImproperlyConfigured(
        "DJANGO_ENV=production needs CACHE_URL (e.g. redis://cache.internal:6379/0): the throttle counters every "
        "process shares"
    )
CACHES = {
    "default": environ.Env.cache_url_config(CACHE_URL)
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(LOCAL_DATA_DIR / "cache")},
    # Token users (backend.authentication): this process's memory, whatever CACHE_URL says (a shared cache would cost
    # a round trip per request, the query it saves).
    "users": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "users",
        "TIMEOUT": AUTH_USER_CACHE_SECONDS,
        "OPTIONS": {"MAX_ENTRIES": 10000},
    },
}

# Metrics: GET /metrics (backend.metrics) from these client addresses, or from anywhere with METRICS_TOKEN as a bearer
# token (none by default).
METRICS_ALLOWED_ADDRESSES = env.list("METRICS_ALLOWED_ADDRESSES", default=["127.0.0.1", "::1"])
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# Security headers and HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"  # /api/ answers no-referrer (backend.security)
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe, and Prometheus scrapes each host's gunicorn, over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^health/$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
    CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
    # Joining the browsers' HSTS preload list is the domain owner's decision, not a default.
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# OpenAPI
SPECTACULAR_SETTINGS = {
    "TITLE": "ALCA Real Estate API",
    "DESCRIPTION": "Houses for sale and for rent, with private S3 property images served through presigned URLs.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "backend.schema.share_parameter_enums",
        "backend.schema.link_created_resources",
        "backend.schema.declare_image_encodings",
        "backend.schema.add_error_components",
    ],
    # Swagger UI's files come from the sidecar package: no CDN needed.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# Logging
LOG_LEVEL = env.str("DJANGO_LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "backend.request_id.RequestIdFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s request_id=%(request_id)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]},
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
