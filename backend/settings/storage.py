"""S3 and CloudFront, the property images, and the background tasks that make their variants."""

import json
from typing import Any

from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from django.core.exceptions import ImproperlyConfigured

from backend.env import pem_setting, s3_budget_timeouts
from backend.presigner import MAX_PRESIGNED_EXPIRY

from .base import LOCAL_DATA_DIR, PRODUCTION, env

# S3: every property image lives in a private bucket and leaves it only through presigned URLs
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default=None)
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default=None)
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="alca-inmo")
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="us-east-1")
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default=None)
# With no S3 configured, outside production: the local S3 server of `make run` (localdev/run.py writes where it
# answers), so that manage.py commands and the shell run beside it reach the same bucket.
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
# An AVIF copy beside each variant (fewer bytes than the WebP one at equal SSIM: bench/RESULTS.md, section 9;
# browsers that take it pick it from a <picture> source): the image JSON's `avif_url`.
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

# Background tasks (size variants): Django's Tasks API. The database is the queue by default (`manage.py db_worker`;
# any number of workers share it); TASKS_BACKEND=rq puts it on Redis (`manage.py rqworker`) to scale out.
TASKS_BACKEND = env.str("TASKS_BACKEND", default="database")
TASKS: dict[str, dict[str, Any]]
if TASKS_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
elif TASKS_BACKEND == "rq":
    TASKS = {"default": {"BACKEND": "backend.task_backends.PriorityRQBackend", "QUEUES": ["default"]}}
else:
    raise ImproperlyConfigured("TASKS_BACKEND must be 'database' or 'rq'")
RQ_QUEUES = {"default": {"URL": env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")}}
# Finished tasks' results on the database queue, and RQ's failed jobs, are forgotten this many days after they ended
# (`manage.py housekeeping`, every minute under `make run`); RQ forgets a finished job's result after 500 s by itself.
TASK_RESULTS_MAX_AGE_DAYS = env.int("TASK_RESULTS_MAX_AGE_DAYS", default=1)
if TASK_RESULTS_MAX_AGE_DAYS < 1:
    raise ImproperlyConfigured("TASK_RESULTS_MAX_AGE_DAYS must be a whole number of days, at least 1")
# The admin's RQ dashboard only where there is an RQ queue to show (it would fail without Redis).
RQ_SHOW_ADMIN_LINK = TASKS_BACKEND == "rq"
