"""Share links' services: only the token's hash kept, the lifetime's bounds, revocation kept once, no link to a house
deleted meanwhile."""

import hashlib

import pytest
from django.utils import timezone

from property.models import ShareLink
from property.services.image_updates import PropertyNotFound
from property.services.share_links import (
    SHARE_LINK_MAX_SECONDS,
    ShareLinkNotFound,
    share_link_create,
    share_link_find,
    share_link_revoke,
)
from property.tests.factories import HouseForSaleFactory

pytestmark = pytest.mark.django_db


def test_only_the_tokens_hash_is_stored(owner):
    link, token = share_link_create(house=HouseForSaleFactory(owner=owner), created_by=owner, expires_in=60)
    stored = ShareLink.objects.filter(pk=link.pk).values().get()
    assert token not in str(stored) and stored["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert share_link_find(token=token) == link


@pytest.mark.parametrize("expires_in", [0, -1, SHARE_LINK_MAX_SECONDS + 1])
def test_a_lifetime_out_of_bounds_makes_no_link(owner, expires_in):
    with pytest.raises(ValueError, match="expires_in"):
        share_link_create(house=HouseForSaleFactory(owner=owner), created_by=owner, expires_in=expires_in)
    assert not ShareLink.objects.exists()


def test_a_link_revoked_twice_keeps_its_first_revocation(owner):
    link, token = share_link_create(house=HouseForSaleFactory(owner=owner), created_by=owner, expires_in=60)
    first = share_link_revoke(link=link).revoked_at
    assert first is not None and first <= timezone.now()
    assert share_link_revoke(link=link).revoked_at == first
    with pytest.raises(ShareLinkNotFound):
        share_link_find(token=token)


def test_no_link_is_made_to_a_house_deleted_meanwhile(owner):
    house = HouseForSaleFactory(owner=owner)
    type(house).objects.filter(pk=house.pk).delete()  # another request deleted it after this one found it
    with pytest.raises(PropertyNotFound):
        share_link_create(house=house, created_by=owner, expires_in=60)
    assert not ShareLink.objects.exists()
