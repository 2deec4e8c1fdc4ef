"""The API: REST framework, JWT, the throttle counters' cache, CORS, metrics and the OpenAPI schema."""

from datetime import timedelta

import environ
from corsheaders.defaults import default_headers as corsheaders_default_headers
from django.core.exceptions import ImproperlyConfigured

from .base import LOCAL_DATA_DIR, PRODUCTION, SECRET_KEY, env

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
    "DEFAULT_THROTTLE_RATES": {
        "token": env.str("TOKEN_THROTTLE_RATE", default="20/min"),
        # Opening a share link (its page's one API call) and downloading its ZIP, per client address.
        "shared": env.str("SHARE_LINK_THROTTLE_RATE", default="60/min"),
    },
    # Proxies in front of the app: the client address is taken that many hops from the right of
    # X-Forwarded-For, so a client cannot pick its own address to dodge throttling. 0: REMOTE_ADDR only.
    "NUM_PROXIES": env.int("DJANGO_NUM_PROXIES", default=0),
}

# How long the photo URLs in a share link's answer work, in seconds (never past the link's end): a revoked link's
# photos stop loading within this time.
SHARE_LINK_URL_SECONDS = env.int("SHARE_LINK_URL_SECONDS", default=300)

# How long the feed of changes (GET /api/changes/) keeps each change, in days: a cursor older than that is answered
# 410 (take a snapshot again). `manage.py housekeeping` prunes what is older.
CHANGES_RETENTION_DAYS = env.int("CHANGES_RETENTION_DAYS", default=30)
if CHANGES_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("CHANGES_RETENTION_DAYS must be a whole number of days, at least 1")

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
    # The models' versions, the lists' counts and the API's kept answers (property/versions.py): apart from the
    # throttle counters, so that answers crowding the local file cache never cull a counter. Shared like them.
    "lists": {**environ.Env.cache_url_config(CACHE_URL), "KEY_PREFIX": "lists"}
    if CACHE_URL
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(LOCAL_DATA_DIR / "cache-lists"),
        "OPTIONS": {"MAX_ENTRIES": 1000},
    },
    # The versions themselves (a few keys, one a model): apart, so that culling the kept answers never drops one.
    "versions": {**environ.Env.cache_url_config(CACHE_URL), "KEY_PREFIX": "versions"}
    if CACHE_URL
    else {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(LOCAL_DATA_DIR / "versions"),
    },
    "users": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "users",
        "TIMEOUT": AUTH_USER_CACHE_SECONDS,
        "OPTIONS": {"MAX_ENTRIES": 10000},
    },
}

# How long a list's `count` may be answered from the cache (property/list_counts.py): every write through the app
# counts again at once; this bounds only what changes behind its back (SQL typed into the database). 0: count every
# page.
LIST_COUNT_CACHE_SECONDS = env.int("LIST_COUNT_CACHE_SECONDS", default=60)
# Answers to GETs of the lists and of a house or an image, kept in the cache while nothing they show changes
# (property/answers.py), with an ETag that If-None-Match turns into a 304.
API_ANSWER_CACHE = env.bool("API_ANSWER_CACHE", default=True)
API_ANSWER_CACHE_MAX_BYTES = env.int("API_ANSWER_CACHE_MAX_BYTES", default=512 * 1024)  # larger ones are built again

# CORS: front ends on other origins (`http://localhost:5173`, `https://www.example.com`) may call the API from a
# browser. None by default: an operator lists them. Tokens travel in the Authorization header, never in cookies,
# so no credentials mode (and never a wildcard with one).
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/(api|health)/"
CORS_ALLOW_HEADERS = [*corsheaders_default_headers, "x-request-id"]
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After"]
CORS_PREFLIGHT_MAX_AGE = 86400

# Metrics: GET /metrics (backend.metrics) from these client addresses, or from anywhere with METRICS_TOKEN as a bearer
# token (none by default).
METRICS_ALLOWED_ADDRESSES = env.list("METRICS_ALLOWED_ADDRESSES", default=["127.0.0.1", "::1"])
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# OpenAPI
SPECTACULAR_SETTINGS = {
    "TITLE": "ALCA Real Estate API",
    "DESCRIPTION": "Houses for sale and for rent, with private S3 property images served through presigned URLs.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The kinds of house, wherever they are named (an image's content_type, a shared house's kind): one enum.
    "ENUM_NAME_OVERRIDES": {"ContentTypeEnum": "property.input_serializers.PROPERTY_KIND_CHOICES"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "backend.schema.share_parameter_enums",
        "backend.schema.link_created_resources",
        "property.schema.declare_image_encodings",
        "backend.schema.add_error_components",
    ],
    # Swagger UI's files come from the sidecar package: no CDN needed.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}
