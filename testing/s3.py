"""The test bucket and what the tests do with S3 beside the app: its settings, posts, keys, and the faults a real
server is made to answer."""

from __future__ import annotations

from contextlib import contextmanager

import requests
from django.test import override_settings

from localdev.s3server import LocalS3Server

TEST_BUCKET = "alca-test"


def storage_on(server: LocalS3Server, bucket: str, **more_settings) -> override_settings:
    """Settings that point the private storage at `server`; changing STORAGES makes Django rebuild default_storage."""
    from django.conf import settings

    return override_settings(
        **{
            "STORAGES": {**settings.STORAGES},
            "AWS_ACCESS_KEY_ID": server.access_key,
            "AWS_SECRET_ACCESS_KEY": server.secret_key,
            "AWS_S3_ENDPOINT_URL": server.endpoint_url,
            "AWS_STORAGE_BUCKET_NAME": bucket,
            "AWS_S3_REGION_NAME": server.region,
            **more_settings,
        }
    )


def s3_environment(server: LocalS3Server, bucket: str) -> dict[str, str]:
    """The environment that points a process of its own (`manage.py`, the worker) at `server`."""
    return {
        "AWS_S3_ENDPOINT_URL": server.endpoint_url,
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "AWS_STORAGE_BUCKET_NAME": bucket,
    }


def post_to_s3(
    upload: dict, payload: bytes, content_type: str = "image/jpeg", filename: str = "photo.jpg"
) -> requests.Response:
    """Send a file straight to S3 with a presigned POST (`upload_url`'s answer), as a browser form would."""
    return requests.post(
        upload["url"],
        data={**upload["fields"], "Content-Type": content_type},
        files={"file": (filename, payload, content_type)},
        timeout=10,
    )


def presigned_url_lifetime(url: str) -> float:
    """Seconds from now until a SigV4 presigned URL expires."""
    from datetime import UTC, datetime
    from urllib.parse import parse_qs, urlsplit

    query = parse_qs(urlsplit(url).query)
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return signed_at.timestamp() + int(query["X-Amz-Expires"][0]) - datetime.now(UTC).timestamp()


# What a ready image keeps in the bucket: its original, and three sizes in WebP and in AVIF.
OBJECTS_PER_IMAGE = 7


def object_keys(*images) -> list[str]:
    """Every object key of these images, their size variants included, sorted like bucket_keys()."""
    return sorted(key for image in images for key in image.object_keys)


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **kwargs):
        yield self.body


def s3_error_answer(request, *, status: int, code: str, message: str):
    """The response S3 gives for an error, built here instead of sent: see the fault injectors below."""
    from botocore.awsrequest import AWSResponse

    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>'
    ).encode()
    return AWSResponse(request.url, status, {"Content-Type": "application/xml"}, _RawBody(body))


@contextmanager
def s3_event_handler(client, event: str, handler):
    """`handler` on `client`'s botocore event `event` (e.g. `before-send.s3.PutObject`) for the block."""
    client.meta.events.register(event, handler)
    try:
        yield
    finally:
        client.meta.events.unregister(event, handler)


def object_writer():
    """The client the default storage writes objects with: django-storages uploads through its one shared
    Bucket, whatever thread does the upload."""
    from backend.s3 import S3ImageService

    return S3ImageService().storage.bucket.meta.client


@contextmanager
def acls_refused(client):
    """Make `client`'s bucket answer like an AWS bucket with ACLs disabled (Object Ownership "bucket owner
    enforced"): any request carrying an ACL gets 400 AccessControlListNotSupported.

    A stand-in for one fault the real server cannot produce: SeaweedFS stores that ownership setting but
    never enforces it. Only requests with an ACL are answered here; the others go to the real server.
    Yields the ACL each request carried (None for none), in order.
    """
    sent_acls = []

    def answer(request, **kwargs):
        acl = request.headers.get("x-amz-acl")
        sent_acls.append(acl.decode() if isinstance(acl, bytes) else acl)
        if acl is None:
            return None
        return s3_error_answer(
            request, status=400, code="AccessControlListNotSupported", message="The bucket does not allow ACLs"
        )

    with s3_event_handler(client, "before-send.s3", answer):
        yield sent_acls


@contextmanager
def puts_denied(client, *, key_suffix: str):
    """Answer 403 AccessDenied to every PutObject of a key ending in `key_suffix`, as a bucket policy
    denying those keys would.

    A stand-in for a fault the shared test server cannot be given for one key at one moment: a write that
    fails partway through a series of uploads. Every other request goes to the real server.
    """

    def answer(request, **kwargs):
        if request.method != "PUT" or not request.url.split("?", 1)[0].endswith(key_suffix):
            return None
        return s3_error_answer(request, status=403, code="AccessDenied", message="Access Denied")

    with s3_event_handler(client, "before-send.s3.PutObject", answer):
        yield
