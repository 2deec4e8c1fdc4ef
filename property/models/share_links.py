"""Links that show a house's photos to someone without an account."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from .images import HOUSE_CONTENT_TYPES

# The longest label of a share link (whom it is for).
SHARE_LINK_LABEL_MAX_LENGTH = 100


class ShareLink(models.Model):
    """A link that shows one house's photos to someone without an account (a buyer, a photographer): it carries its
    own permission until it expires or is revoked, and counts its views.

    Only a hash of its token is stored (SHA-256: the token is 256 random bits, so no slow hash is needed), so a copy
    of the database gives no working link; the token itself is shown once, when the link is made.
    """

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, limit_choices_to=HOUSE_CONTENT_TYPES)
    object_id = models.PositiveBigIntegerField()
    house = GenericForeignKey("content_type", "object_id")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    label = models.CharField(max_length=SHARE_LINK_LABEL_MAX_LENGTH, blank=True, default="")
    allow_download = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    views = models.PositiveIntegerField(default=0)
    last_viewed_at = models.DateTimeField(null=True, blank=True)
    # A new link's token and where it opens: set on it for its creation's answer alone (NewShareLinkSerializer).
    token: str
    url: str
    page_url: str

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "-created_at"], name="property_share_link_house")]

    def __str__(self) -> str:
        return self.label or f"share link {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
