"""Helpers the tests share (fixtures stay in conftest.py): import them from here, never from conftest."""

from .browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, CHROMIUM_MISSING, chromium_page, static_site
from .cloudfront import cloudfront_settings, cloudfront_url_policy, cloudfront_verified
from .photos import (
    colour_near,
    image_bytes,
    jpeg_upload,
    make_variants_now,
    reorder_requests,
    run_queued_tasks,
    three_photos,
    thumbhash_reference,
)
from .project import BASE_DIR, jwt_client, manage_command
from .s3 import (
    OBJECTS_PER_IMAGE,
    TEST_BUCKET,
    acls_refused,
    object_keys,
    object_writer,
    post_to_s3,
    presigned_url_lifetime,
    puts_denied,
    s3_environment,
    s3_error_answer,
    s3_event_handler,
    storage_on,
)

__all__ = [
    "ARTIFACTS",
    "BASE_DIR",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "CHROMIUM_MISSING",
    "OBJECTS_PER_IMAGE",
    "TEST_BUCKET",
    "acls_refused",
    "chromium_page",
    "cloudfront_settings",
    "cloudfront_url_policy",
    "cloudfront_verified",
    "colour_near",
    "image_bytes",
    "jpeg_upload",
    "jwt_client",
    "make_variants_now",
    "manage_command",
    "object_keys",
    "object_writer",
    "post_to_s3",
    "presigned_url_lifetime",
    "puts_denied",
    "reorder_requests",
    "run_queued_tasks",
    "s3_environment",
    "s3_error_answer",
    "s3_event_handler",
    "static_site",
    "storage_on",
    "three_photos",
    "thumbhash_reference",
]
