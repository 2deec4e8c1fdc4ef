"""Photos of houses: private objects in S3 (an original and its variants), and their rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple, cast

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..announcements import ChangeAnnouncingModel, ChangeAnnouncingQuerySet

if TYPE_CHECKING:
    from backend.storage_backends import PrivateMediaStorage


class VariantCopy(NamedTuple):
    """The copy of every size variant in one format."""

    key_field: str  # where a variant's row entry keeps the copy's key
    url_field: str  # where an image's answer gives the copy's URL: variants.<name>.<url_field>
    format: str | None  # Pillow's name for its format (FORMAT_DETAILS: extension, content type); None: the
    # configured one, PROPERTY_IMAGE_VARIANT_FORMAT
    enabled_by: str | None  # the setting that turns it on; None: always made
    description: str  # for the schema


# The copies of each size variant (PROPERTY_IMAGE_VARIANT_WIDTHS names the sizes and their widths), in the order an
# answer signs and gives them: the one declaration that the rows' keys, the variants task, the serializer and the
# schema read, as Zulip's THUMBNAIL_OUTPUT_FORMATS.
VARIANT_COPIES = (
    VariantCopy(
        key_field="key",
        url_field="url",
        format=None,
        enabled_by=None,
        description="The copy in WebP (or JPEG, as configured).",
    ),
    VariantCopy(
        key_field="avif_key",
        url_field="avif_url",
        format="AVIF",
        enabled_by="PROPERTY_IMAGE_VARIANT_AVIF",
        description="The copy in AVIF; null when AVIF copies are off.",
    ),
)
VARIANT_KEY_FIELDS = tuple(copy.key_field for copy in VARIANT_COPIES)


def configured_variant_formats() -> dict[str, str]:
    """The formats the settings ask each size variant in, by the field of its row entry that keeps the key."""
    return {
        copy.key_field: copy.format or settings.PROPERTY_IMAGE_VARIANT_FORMAT
        for copy in VARIANT_COPIES
        if copy.enabled_by is None or getattr(settings, copy.enabled_by)
    }


def variant_entry_keys(entry: dict) -> list[str]:
    """The keys of the copies a variant's row entry points at."""
    return [entry[field] for field in VARIANT_KEY_FIELDS if entry.get(field)]


# Every image object (originals and variants) lives under this prefix.
IMAGES_PREFIX = "properties/"


def property_images_folder(*, model_name: str, property_id: int) -> str:
    """`properties/{houseforsale|houseforrent}/{property_id}/`: where a house's photos and their variants are."""
    return f"{IMAGES_PREFIX}{model_name}/{property_id}/"


def property_image_key(*, model_name: str, property_id: int, extension: str) -> str:
    """`properties/{houseforsale|houseforrent}/{property_id}/{YYYYMMDD_HHMMSS}_{8 hex}.{ext}`."""
    stamp = timezone.now().strftime("%Y%m%d_%H%M%S")
    folder = property_images_folder(model_name=model_name, property_id=property_id)
    return f"{folder}{stamp}_{uuid.uuid4().hex[:8]}.{extension}"


# The two kinds of house, as clients name them, by their models' names (houses.HOUSE_MODELS is built from it).
PROPERTY_KIND_BY_MODEL_NAME = {"houseforsale": "house_for_sale", "houseforrent": "house_for_rent"}


def house_model_name(house: type[models.Model] | models.Model) -> str:
    """A house model's (or a house's) model name, as content types and object keys spell it: "houseforsale"."""
    name = house._meta.model_name
    assert name is not None, "Django names every model"  # the stubs allow None
    return name


def property_kind_of(house: type[models.Model] | models.Model) -> str:
    """`house_for_sale` or `house_for_rent`, as clients name a house model's (or a house's) kind."""
    return PROPERTY_KIND_BY_MODEL_NAME[house_model_name(house)]


# What a photo, a share link or a change may belong to: a house of either kind.
HOUSE_CONTENT_TYPES = {"app_label": "property", "model__in": list(PROPERTY_KIND_BY_MODEL_NAME)}

# The largest order PositiveIntegerField holds on every database (PostgreSQL's integer).
MAX_ORDER = 2_147_483_647


class VariantsStatus(models.TextChoices):
    PENDING = "pending", "pending: being made, the original stands in for them"
    READY = "ready", "ready"
    FAILED = "failed", "failed: could not be made, the original stands in for them"


class ImageCategory(models.TextChoices):
    """What a photo shows, after RESO's Media `ImageOf` (portals use it to pick the cover, put floor plans last and
    group rooms)."""

    EXTERIOR = "exterior", "exterior"
    LIVING_ROOM = "living_room", "living room"
    KITCHEN = "kitchen", "kitchen"
    BEDROOM = "bedroom", "bedroom"
    BATHROOM = "bathroom", "bathroom"
    FLOOR_PLAN = "floor_plan", "floor plan"
    VIEW = "view", "view"
    GARDEN = "garden", "garden"
    POOL = "pool", "pool"
    OTHER = "other", "other"


# The longest `description` (alt text, RESO's LongDescription) a photo takes.
DESCRIPTION_MAX_LENGTH = 1024


class OfferedSize(NamedTuple):
    """One size an image offers (PropertyImage.offered_variants): a variant's, or the original's standing in."""

    width: int
    height: int
    is_original: bool


class PropertyImage(ChangeAnnouncingModel):
    """One photo of a house, stored privately in S3 and reachable only through presigned URLs."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, limit_choices_to=HOUSE_CONTENT_TYPES)
    object_id = models.PositiveBigIntegerField()
    content_object = GenericForeignKey("content_type", "object_id")

    # The storage is the default one: backend.storage_backends.PrivateMediaStorage (settings.STORAGES). The key
    # (property_image_key) is always set by the services, never made from the client's file name.
    image = models.ImageField(max_length=255)
    caption = models.CharField(max_length=255, blank=True, default="")
    # Unset until someone says what the photo shows: null, as the API answers and takes it (not "" in the database
    # and null in JSON, two spellings of one thing).
    category = models.CharField(  # noqa: DJ001
        max_length=20, choices=ImageCategory.choices, null=True, blank=True, default=None
    )
    # A long text alternative for the photo (what a screen reader says), beside the short caption.
    description = models.TextField(max_length=DESCRIPTION_MAX_LENGTH, blank=True, default="")
    is_main = models.BooleanField(default=False)
    order = models.PositiveIntegerField(default=0)
    original_filename = models.CharField(max_length=255, blank=True, default="")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    size = models.PositiveBigIntegerField(default=0, help_text="Size of the stored object in bytes")
    mime_type = models.CharField(max_length=50, default="image/jpeg")
    # What a page paints before the photo arrives (property.images.image_placeholder): its ThumbHash in base64 and
    # its average colour, #rrggbb. Blank for an image stored before they were made, until its variants task runs.
    thumbhash = models.CharField(max_length=64, blank=True, default="")
    color = models.CharField(max_length=7, blank=True, default="")
    # {"thumbnail": {"key": ..., "avif_key": ..., "width": 320, "height": 240}, "medium": ..., "large": ...}: `key`
    # is the copy in the configured format (WebP), `avif_key` the AVIF one (VARIANT_KEY_FIELDS).
    variants = models.JSONField(default=dict, blank=True)
    # Where the background task that makes the variants stands (property.tasks.make_image_variants).
    variants_status = models.CharField(
        max_length=10, choices=VariantsStatus.choices, default=VariantsStatus.READY, db_index=True
    )
    # When the variants were last asked for (upload, retry, rebuild): a pending image much older than this was
    # lost by its worker and is enqueued again.
    variants_requested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # update() and bulk_create() announce themselves, as save() and delete() do (announcements.py).
    objects = ChangeAnnouncingQuerySet.as_manager()

    class Meta:
        ordering = ["order", "id"]
        indexes = [
            # A house's photos, in order; and the whole list in its order (a page of it read from the index).
            models.Index(fields=["content_type", "object_id", "order", "id"], name="property_image_owner_order"),
            models.Index(fields=["order", "id"], name="property_image_order"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id"],
                condition=models.Q(is_main=True),
                name="unique_main_image_per_property",
            )
        ]

    def __str__(self) -> str:
        return f"{self.original_filename or self.image.name} ({self.property_kind} {self.object_id})"

    @property
    def property_kind(self) -> str:
        """`house_for_sale` or `house_for_rent`, as clients name it."""
        return PROPERTY_KIND_BY_MODEL_NAME[ContentType.objects.get_for_id(self.content_type_id).model]

    @property
    def original_key(self) -> str:
        """The stored original's object key (every saved photo has one)."""
        key = self.image.name
        assert key, "a saved photo has its original"
        return key

    @property
    def object_keys(self) -> list[str]:
        """The keys of the original and of each variant."""
        variant_keys = [key for variant in self.variants.values() for key in variant_entry_keys(variant)]
        return [key for key in [self.image.name, *variant_keys] if key]

    @property
    def variants_stand_in(self) -> bool:
        """Whether the original stands in for the variants the image does not have: while they are being made,
        or when they could not be."""
        return self.variants_status != VariantsStatus.READY

    def offered_variants(self, names: Iterable[str] | None = None) -> dict[str, OfferedSize]:
        """The sizes the image offers, of `names` or all. Each variant it has; while the original stands in for them
        (variants_stand_in), each configured one it lacks is the original. The one place of the stand-in rule: the
        serializers and the secure_url action ask here."""
        offered = {
            name: OfferedSize(variant["width"], variant["height"], False)
            for name, variant in self.variants.items()
            if names is None or name in names
        }
        if self.variants_stand_in:
            for name in settings.PROPERTY_IMAGE_VARIANT_WIDTHS if names is None else names:
                offered.setdefault(name, OfferedSize(self.width, self.height, True))
        return offered

    def secure_urls(
        self, copies: list[tuple[str | None, str]], expiration: int | None = None, *, ends_at: int | None = None
    ) -> list[str | None]:
        """Presigned URLs valid for `expiration` seconds (or until `ends_at`, epoch seconds, and no later) of copies of
        the image, from its storage: `(None, "key")` is the original, `(name, "key")` or `(name, "avif_key")` variant
        `name` in the configured format or in AVIF.

        Of a copy the image does not have, the original's while it stands in for them (variants_stand_in); else None
        (an image made before variants existed, or with them turned off: see rebuild_variants). None too for a URL
        that cannot be signed.
        """
        image = self.image  # one trip through the FileField descriptor: this runs for every image of a list
        keys = []
        for variant, key_field in copies:
            key = image.name if variant is None else self.variants.get(variant, {}).get(key_field)
            keys.append(key or (image.name if self.variants_stand_in else None))
        storage = cast("PrivateMediaStorage", image.storage)  # the default storage (settings.STORAGES)
        return storage.signed_urls(keys, expire=expiration, ends_at=ends_at)

    def get_secure_url(self, expiration: int | None = None, variant: str | None = None) -> str | None:
        """secure_urls() of the original, or of one variant in the configured format."""
        return self.secure_urls([(variant, "key")], expiration)[0]


# What an index page shows of a house: its main image, else its first.
COVER_ORDER = ("-is_main", "order", "id")


def cover_images() -> models.QuerySet[PropertyImage]:
    """Each house's cover image (at most one per house), for a Prefetch over a page of houses."""
    first = PropertyImage.objects.filter(
        content_type=models.OuterRef("content_type"), object_id=models.OuterRef("object_id")
    ).order_by(*COVER_ORDER)
    return PropertyImage.objects.filter(pk=models.Subquery(first.values("pk")[:1]))


def image_count(model: type[models.Model]) -> Coalesce:
    """The number of images of each house of `model`, as a subquery for annotate(): counted per house from the
    images' (content_type, object_id, order) index, for the rows a query returns."""
    images = (
        PropertyImage.objects.filter(
            content_type=ContentType.objects.get_for_model(model), object_id=models.OuterRef("pk")
        )
        .order_by()
        .values("object_id")
        .annotate(count=models.Count("pk"))
        .values("count")
    )
    return Coalesce(models.Subquery(images), 0)
