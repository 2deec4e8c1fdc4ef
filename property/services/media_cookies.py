"""Signed cookies for a house's photos on the CloudFront distribution: one custom policy covers its whole folder,
so a gallery loads every photo and variant with plain CDN URLs."""

from __future__ import annotations

import time

from django.conf import settings

from backend.exceptions import ApplicationError
from backend.presigner import stable_signing_time
from backend.storage_backends import private_media_storage

from ..models import House, house_model_name, property_images_folder


class CdnNotConfigured(ApplicationError):
    status_code = 404
    message = (
        "Photos are not served through CloudFront here (AWS_S3_CUSTOM_DOMAIN and AWS_CLOUDFRONT_KEY are not set): "
        "use each image's secure_url"
    )


def cloudfront_is_on() -> bool:
    """Whether the storage serves images through CloudFront (AWS_S3_CUSTOM_DOMAIN with a key pair)."""
    return private_media_storage().cdn is not None


def media_cookies_issue(*, house: House) -> dict:
    """The three CloudFront cookie values for every object under the house's folder, with where they apply
    (`resource`, and the cookie `path` on the distribution) and until when (`expires`, epoch seconds).

    The expiry is AWS_CLOUDFRONT_COOKIE_EXPIRE from the start of the stable window, plus the window, as URLs'.
    """
    storage = private_media_storage()
    cdn = storage.cdn
    if cdn is None:
        raise CdnNotConfigured
    signed_at, expires_in = stable_signing_time(
        int(time.time()), settings.AWS_CLOUDFRONT_COOKIE_EXPIRE, storage.presigned_url_stable_window
    )
    expires = signed_at + expires_in
    folder = property_images_folder(model_name=house_model_name(house), property_id=house.pk)
    resource = f"{cdn.resource(folder)}*"
    return {
        "cookies": cdn.cookies(resource, expires=expires),
        "resource": resource,
        "path": f"/{folder}",
        "expires": expires,
    }
