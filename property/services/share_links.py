"""Share links: made and revoked by a house's owner (or staff), opened by anyone who holds one.

A link's token is 256 random bits (`secrets.token_urlsafe(32)`), shown once when the link is made; the database keeps
only its SHA-256. A token is looked up by that hash: the database compares hashes, which a guesser cannot steer byte
by byte (finding a token whose hash shares a prefix with a real one is a preimage search), so the lookup's timing
says nothing about any real token, and a made-up token costs the same lookup as a real one with a character changed.
Unknown, expired and revoked tokens get one and the same answer (ShareLinkNotFound). Nothing about a link is cached:
a revoked link is refused by the next request, in every process.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from rest_framework.exceptions import NotFound

from ..models import House, ShareLink
from .image_updates import lock_house

# The longest a link may live: 30 days.
SHARE_LINK_MAX_SECONDS = 30 * 24 * 3600


class ShareLinkNotFound(NotFound):
    default_detail = "This link does not exist, has expired or was revoked."


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def share_link_create(
    *, house: House, created_by, expires_in: int, label: str = "", allow_download: bool = False
) -> tuple[ShareLink, str]:
    """A new link to `house`, living `expires_in` seconds, and its token (never stored: shown once).

    PropertyNotFound (a 404) if the house was deleted since the request found it: a link must not outlive it.
    """
    if not 0 < expires_in <= SHARE_LINK_MAX_SECONDS:
        raise ValueError(f"expires_in must be 1 to {SHARE_LINK_MAX_SECONDS} seconds")
    token = secrets.token_urlsafe(32)
    content_type = ContentType.objects.get_for_model(house)
    with transaction.atomic():
        lock_house(content_type=content_type, object_id=house.pk)
        link = ShareLink.objects.create(
            content_type=content_type,
            object_id=house.pk,
            token_hash=token_hash(token),
            label=label,
            allow_download=allow_download,
            created_by=created_by,
            expires_at=timezone.now() + timedelta(seconds=expires_in),
        )
    return link, token


def share_link_revoke(*, link: ShareLink) -> ShareLink:
    """Revoke the link from now on (a link revoked already keeps its first revocation time)."""
    ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    link.refresh_from_db()
    return link


def share_link_find(*, token: str, count_view: bool = False) -> ShareLink:
    """The active link of `token` (with its house), counting one view with `count_view`: the count is one UPDATE
    of the active link, so concurrent opens all count and an expired or revoked link counts none.

    ShareLinkNotFound for a token unknown, expired or revoked alike.
    """
    digest = token_hash(token)
    now = timezone.now()
    active = ShareLink.objects.filter(token_hash=digest, revoked_at__isnull=True, expires_at__gt=now)
    if count_view and not active.update(views=F("views") + 1, last_viewed_at=now):
        raise ShareLinkNotFound
    link = active.select_related("content_type").first()
    if link is None or not hmac.compare_digest(link.token_hash, digest) or link.house is None:
        raise ShareLinkNotFound
    return link


def share_link_urls_end_at(link: ShareLink) -> int:
    """When the photo URLs a link's answer carries stop working (epoch seconds): SHARE_LINK_URL_SECONDS after the
    start of the current minute, and never after the link itself. A revoked link gives no new URL, and the ones it
    gave end within that time."""
    now = int(timezone.now().timestamp())
    return min(now - now % 60 + settings.SHARE_LINK_URL_SECONDS, int(link.expires_at.timestamp()))
