"""The API's answers to GETs of lists and details, kept while nothing they show changes, and conditional GETs.

Building a page of photos signs seven URLs for each photo and reads every row; a client that asks again (an app
polling, an index page reloaded) would pay that again for the same bytes. An answer depends on the rows of a few
models (each view's `answer_depends_on`), on the request's URL (its links), and on the time its URLs were signed
at: the storage signs every URL at the start of its stable window (AWS_PRESIGNED_URL_STABLE_WINDOW), so within a
window the same rows give the same bytes. So an answer is kept in the cache (CACHES["lists"]) under its URL, the
versions of those models (versions.py: renewed once any write of them commits) and that signing time, and served
again as it was built. Each carries an ETag of that key: a client that sends it back (If-None-Match) gets 304 and no
body, without a row read, until a write or the next window changes it.

A kept answer is the same for every user the view lets read it (authentication and the view's permissions still run
on every request; object permissions, which GETs of these views pass for any signed-in user, do not run again): a
view whose answers differ by user must not keep them.

Only JSON answers of 200 up to API_ANSWER_CACHE_MAX_BYTES (512 KiB) are kept (a page of 100 photos, 330 kB, is; a
page of 20 houses with `?include=images` of 30 photos each, 2.7 MB, is not: a crawl of those would fill the cache);
with the signer unable to give stable URLs (botocore's path), or API_ANSWER_CACHE off, every answer is built. An
answer too large to keep still carries its ETag, and a client that has it still gets 304.
"""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import caches
from django.http import HttpResponse
from django.utils.cache import get_conditional_response
from rest_framework.request import Request

from backend.presigner import stable_signing_time
from backend.storage_backends import private_media_storage

from .versions import versions_of


def signing_time() -> int | None:
    """When the URLs an answer built now carry were signed (the start of the stable window); None when the storage
    signs each URL at its own time."""
    storage = private_media_storage()
    if storage.presigned_url_stable_window <= 0 or (storage.fast_presigner is None and storage.cdn is None):
        return None
    return stable_signing_time(int(time.time()), storage.querystring_expire, storage.presigned_url_stable_window)[0]


if TYPE_CHECKING:  # what the mixin is mixed into, for the type checker
    from rest_framework.viewsets import ReadOnlyModelViewSet as ViewSet
else:
    ViewSet = object


class KeptAnswers(ViewSet):
    """A viewset mixin: list() and retrieve() answered from the cache while nothing they show has changed, and 304
    to a client that has them; another GET action is kept by answering `self.kept_or_built(build, request, ...)`."""

    answer_depends_on: tuple = ()
    # The GET actions answered this way: their ETag, If-None-Match and 304 are in the schema (backend.schema).
    conditional_actions: tuple[str, ...] = ("list", "retrieve")

    def list(self, request: Request, *args, **kwargs):
        return self.kept_or_built(super().list, request, *args, **kwargs)

    def retrieve(self, request: Request, *args, **kwargs):
        return self.kept_or_built(super().retrieve, request, *args, **kwargs)

    def answer_key(self, request: Request) -> str | None:
        if not settings.API_ANSWER_CACHE or request.accepted_renderer.format != "json":
            return None
        signed_at = signing_time()
        if signed_at is None:
            return None
        versions = versions_of(*self.answer_depends_on)
        wanted = f"{request.build_absolute_uri()} {request.accepted_media_type} {versions} {signed_at}"
        return hashlib.sha256(wanted.encode()).hexdigest()

    def kept_or_built(self, build, request: Request, *args, **kwargs):
        key = self.answer_key(request)
        if key is None:
            return build(request, *args, **kwargs)
        etag = f'"{key[:32]}"'
        not_modified = get_conditional_response(request._request, etag=etag)
        if not_modified is not None:
            not_modified["ETag"] = etag  # a 304 names what the client still has (RFC 9110, 15.4.5)
            return not_modified
        body = caches["lists"].get(f"answer:{key}")
        if body is None:
            response = build(request, *args, **kwargs)
            if response.status_code != 200:
                return response
            body = request.accepted_renderer.render(
                response.data, request.accepted_media_type, self.get_renderer_context()
            )
            if len(body) <= settings.API_ANSWER_CACHE_MAX_BYTES:
                caches["lists"].set(f"answer:{key}", body, timeout=settings.AWS_PRESIGNED_URL_STABLE_WINDOW)
        answer = HttpResponse(body, content_type=request.accepted_renderer.media_type)
        answer["ETag"] = etag
        return answer
