"""The private S3 storage for property images: django-storages' S3Storage with the fast presigner (or CloudFront
signed URLs), private writes, and the original file name as the download name. The other S3 operations are in
backend/s3.py."""

from __future__ import annotations

import logging
import re
import threading
import time
from functools import cached_property
from typing import cast

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.utils import determine_content_length
from django.conf import DEFAULT_STORAGE_ALIAS, settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files import File
from django.core.files.storage import storages
from django.utils.http import content_disposition_header
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from .buckets import s3_error_code
from .cloudfront import CloudFrontSigner
from .metrics import count_s3_calls
from .presigner import S3QueryPresigner, frozen_credentials_source, stable_signing_time

logger = logging.getLogger(__name__)

# S3's answer to an ACL sent to a bucket whose Object Ownership is "bucket owner enforced".
ACLS_NOT_SUPPORTED = "AccessControlListNotSupported"
# Makes the switch to writing without an ACL, and its warning, happen once however many uploads are refused.
_acl_fallback_lock = threading.Lock()
# A key that clean_name() and safe_join() would leave as it is: no "." or ".." segments, no "//", no "\\".
NORMAL_KEY = re.compile(r"[A-Za-z0-9_~-][A-Za-z0-9_.~-]*(?:/[A-Za-z0-9_~-][A-Za-z0-9_.~-]*)*")


class ObjectContent(File):
    """A file to write as an object, with the object's Content-Type and download name (its Content-Disposition
    file name). django-storages reads `content_type` from the file it writes; PrivateMediaStorage reads
    `download_name` too."""

    def __init__(self, file, *, name: str, content_type: str, download_name: str | None = None) -> None:
        super().__init__(file, name=name)
        self.content_type = content_type
        self.download_name = download_name


class PrivateMediaStorage(S3Storage):
    """S3 storage whose objects are always private and whose URLs are always signed: S3 presigned URLs, or
    CloudFront signed URLs on AWS_S3_CUSTOM_DOMAIN when a CloudFront key pair is configured too.

    These class attributes win over the AWS_* settings (django-storages applies a
    setting only where the class has no value), so no setting can make a file public.
    """

    default_acl = "private"
    querystring_auth = True
    file_overwrite = False
    # Set once the bucket has refused an ACL (Object Ownership "bucket owner enforced"): from then on
    # objects are written without one, which on such a bucket is the only way they are written at all.
    bucket_refuses_acls = False

    def __init__(self, **settings) -> None:
        super().__init__(**settings)
        if not self.cloudfront_keys:
            self.custom_domain = None  # without CloudFront signing a custom domain would hand out unsigned URLs
        elif self.cloudfront_active_key_id not in self.cloudfront_keys:
            raise ImproperlyConfigured(
                f"AWS_CLOUDFRONT_ACTIVE_KEY_ID {self.cloudfront_active_key_id!r} names neither AWS_CLOUDFRONT_KEY_ID "
                "nor AWS_CLOUDFRONT_SECOND_KEY_ID"
            )
        self.use_active_cloudfront_key()

    def use_active_cloudfront_key(self) -> None:
        """django-storages' own signer (for the URLs url() leaves to it) signs with the active key too."""
        if self.custom_domain:
            key_id = self.cloudfront_active_key_id
            self.cloudfront_signer = self.get_cloudfront_signer(key_id, self.cloudfront_keys[key_id])

    def get_default_settings(self) -> dict:
        defaults = super().get_default_settings()
        pairs = [
            (defaults["cloudfront_key_id"], defaults["cloudfront_key"]),
            (
                getattr(settings, "AWS_CLOUDFRONT_SECOND_KEY_ID", None),
                getattr(settings, "AWS_CLOUDFRONT_SECOND_KEY", None),
            ),
        ]
        return {
            **defaults,
            "presigned_url_stable_window": getattr(settings, "AWS_PRESIGNED_URL_STABLE_WINDOW", 600),
            # The key pairs of the distribution's key group, and the one that signs (key rotation: README).
            "cloudfront_keys": {key_id: key for key_id, key in pairs if key_id and key},
            "cloudfront_active_key_id": getattr(settings, "AWS_CLOUDFRONT_ACTIVE_KEY_ID", None)
            or defaults["cloudfront_key_id"],
        }

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        # They hold credentials, keys or connections: rebuilt on first use.
        for cached in ("fast_presigner", "quick_client", "cdn", "cloudfront_signer"):
            state.pop(cached, None)
        return state

    def __setstate__(self, state: dict) -> None:
        super().__setstate__({"cloudfront_signer": None, **state})
        self.use_active_cloudfront_key()

    def signed_urls(
        self, names: list[str | None], expire: int | None = None, *, ends_at: int | None = None
    ) -> list[str | None]:
        """url() of each name (None for None) signed at one time, as an image's copies are: the signer and the
        signing time looked up once. With `ends_at` (epoch seconds), URLs that stop working then and no later (a
        share link's), whatever the stable window. None for the lot when they cannot be signed (no credentials, a
        bad setting): logged, never raised."""
        try:
            signed = self.fast_urls(names, expire, ends_at=ends_at)
            if signed is None:  # botocore's, signed now
                expire = expire if ends_at is None else max(1, ends_at - int(time.time()))
                signed = [None if name is None else self.url(name, expire=expire) for name in names]
            return signed
        except (BotoCoreError, ClientError, ValueError) as error:
            logger.error("Could not presign keys=%s error=%s", names, type(error).__name__)
            return [None] * len(names)

    def url(self, name: str, parameters: dict | None = None, expire: int | None = None, http_method=None) -> str:
        """A presigned GET URL (S3's or CloudFront's), stable within AWS_PRESIGNED_URL_STABLE_WINDOW; botocore
        for anything unusual."""
        signed = self.fast_urls([name], expire) if not parameters and http_method in (None, "GET") else None
        url = None if signed is None else signed[0]
        if url is None:
            return super().url(name, parameters=parameters, expire=expire, http_method=http_method)
        return url

    def fast_urls(
        self, names: list[str | None], expire: int | None, *, ends_at: int | None = None
    ) -> list[str | None] | None:
        """GET URLs of the names (None for None) from the CloudFront or the fast SigV4 signer, at one stable signing
        time, or ending at `ends_at` (signed_urls); None when neither signer is available (botocore's url() then)."""
        if self.cdn is not None:
            sign = self.cdn.url
        elif self.fast_presigner is not None:
            sign = self.fast_presigner.presign_get
        else:
            return None
        now = int(time.time())
        if ends_at is None:
            expires_in = self.querystring_expire if expire is None else int(expire)
            signed_at, url_expires_in = stable_signing_time(now, expires_in, self.presigned_url_stable_window)
        else:  # signed at the start of the minute (a minute's answers carry the same URLs), outside the window memo
            signed_at = now - now % 60
            url_expires_in = max(1, ends_at - signed_at)
        remember = ends_at is None
        return [
            None
            if name is None
            else sign(self.normal_key(name), signed_at=signed_at, expires_in=url_expires_in, remember=remember)
            for name in names
        ]

    def normal_key(self, name: str) -> str:
        """The object key of `name`: keys this app writes are already normal; only others pay for django-storages'
        normalisation."""
        return name if not self.location and NORMAL_KEY.fullmatch(name) else self._normalize_name(clean_name(name))

    @cached_property
    def cdn(self) -> CloudFrontSigner | None:
        """CloudFront's signer when the images are served through a distribution (AWS_S3_CUSTOM_DOMAIN)."""
        if not self.custom_domain:
            return None
        return CloudFrontSigner(
            domain=self.custom_domain,
            keys=self.cloudfront_keys,
            active_key_id=self.cloudfront_active_key_id,
            protocol=self.url_protocol,
        )

    @cached_property
    def fast_presigner(self) -> S3QueryPresigner | None:
        """The hand-tuned presigner, or None where this configuration needs botocore's own."""
        config = self.client_config
        s3_options = config.s3 or {}
        unsupported = (
            config.signature_version not in ("s3v4", "v4")
            or not self.region_name
            or any(s3_options.get(option) for option in ("use_accelerate_endpoint", "use_dualstack_endpoint"))
            or ":" in (self.bucket_name or "")  # access points and other ARNs
        )
        if unsupported:
            return None
        # The URL of a key without a signature, from botocore itself: every endpoint rule it applies is kept.
        unsigned_url = self.unsigned_connection.meta.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket_name, "Key": "k"}
        )
        if not unsigned_url.endswith("/k"):
            return None
        return S3QueryPresigner(
            base_url=unsigned_url[:-1], region=self.region_name, credentials=frozen_credentials_source(self)
        )

    @cached_property
    def quick_client(self):
        """A client for this bucket that gives up after 2 s and one attempt: for health checks."""
        config = self.client_config.merge(
            Config(connect_timeout=2, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 1})
        )
        return self._create_session().client(
            "s3",
            region_name=self.region_name,
            endpoint_url=self.endpoint_url,
            config=config,
            use_ssl=self.use_ssl,
            verify=self.verify,
        )

    def _create_session(self):
        session = super()._create_session()
        # Where botocore's own handler adds the header (every S3 call), and after it.
        session.events.register_last("before-call.s3", send_small_bodies_without_waiting)
        count_s3_calls(session)
        return session

    def _save(self, name: str, content) -> str:
        """Write the object with the guide's private ACL, or without any on a bucket that has ACLs disabled.

        Such a bucket (AWS's default for new buckets, and what ensure_bucket creates) refuses every ACL but
        bucket-owner-full-control with AccessControlListNotSupported; its objects are private through Block
        Public Access and the bucket policy, never through ACLs. The first refusal is logged and remembered;
        an upload refused for its ACL is always sent again without it.
        """
        sent_acl = not self.bucket_refuses_acls
        try:
            return super()._save(name, content)
        except ClientError as error:
            # Uploads running side by side may all have sent the ACL before the first refusal: each retries.
            if not sent_acl or s3_error_code(error) != ACLS_NOT_SUPPORTED:
                raise
        with _acl_fallback_lock:
            first_refusal = not self.bucket_refuses_acls
            self.bucket_refuses_acls = True
        if first_refusal:
            logger.warning(
                "Bucket %s has ACLs disabled (Object Ownership: bucket owner enforced): writing objects without "
                "an ACL from now on; they are private through the bucket's public access block and policy",
                self.bucket_name,
            )
        return super()._save(name, content)

    def _get_write_parameters(self, name: str, content=None) -> dict:
        """Add the download name of an ObjectContent (and leave out a refused ACL)."""
        params = super()._get_write_parameters(name, content)
        if self.bucket_refuses_acls:
            params.pop("ACL", None)
        if isinstance(content, ObjectContent) and content.download_name:
            params["ContentDisposition"] = content_disposition_header(
                as_attachment=False, filename=content.download_name
            )
        return params


def private_media_storage() -> PrivateMediaStorage:
    """The default storage (STORAGES["default"]: PrivateMediaStorage, settings/storage.py), typed as what it is.
    The storage itself rather than Django's lazy default_storage proxy: each attribute read through the proxy
    costs more than signing a URL."""
    return cast(PrivateMediaStorage, storages[DEFAULT_STORAGE_ALIAS])


# Bodies up to this size are sent without first waiting for S3's `100 Continue`.
SMALL_BODY_SIZE = 1024 * 1024


def send_small_bodies_without_waiting(params: dict, **kwargs) -> None:
    """botocore asks S3 for a `100 Continue` before sending any file-like body, which costs a whole
    round trip before the first byte (our thumbnails and most variants are a few dozen KB). A small body
    is sent straight away: if S3 refuses the request, little was sent in vain."""
    headers = params.get("headers", {})
    if headers.get("Expect") == "100-continue":
        size = determine_content_length(params.get("body"))
        if size is not None and size <= SMALL_BODY_SIZE:
            del headers["Expect"]
