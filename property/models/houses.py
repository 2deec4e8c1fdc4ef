"""Houses for sale and for rent."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F
from django.db.models.functions import Upper

from ..announcements import ChangeAnnouncingModel, ChangeAnnouncingQuerySet
from .images import PropertyImage, property_kind_of


class House(ChangeAnnouncingModel):
    """What a house for sale and a house for rent have in common."""

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    address = models.CharField(max_length=255)
    city = models.CharField(max_length=100, blank=True, default="")  # indexed as the filter reads it (Meta)
    bedrooms = models.PositiveSmallIntegerField(default=0)
    bathrooms = models.PositiveSmallIntegerField(default=0)
    area = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)], help_text="m²"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="%(class)s_set",
        db_index=False,  # the owner's index (Meta) has the list's order after it
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Deleting a house deletes its image rows; their objects go once the transaction commits (signals.py).
    images = GenericRelation(PropertyImage)
    # And its share links: a link never outlives its house.
    share_links = GenericRelation("ShareLink")

    objects = ChangeAnnouncingQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]
        # A page of the list, whole or filtered, read from an index in the list's order (and counted from one):
        # never a sort or a scan of the whole table, whatever the catalogue's size (test_query_plans).
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="%(app_label)s_%(class)s_newest"),
            # `?city=` compares UPPER(city) (filters.HouseFilter): case-insensitive, from this index on every database.
            models.Index(Upper("city"), F("created_at").desc(), F("id").desc(), name="%(app_label)s_%(class)s_city"),
            models.Index(fields=["owner", "-created_at", "-id"], name="%(app_label)s_%(class)s_owner"),
            models.Index(fields=["bedrooms", "-created_at", "-id"], name="%(app_label)s_%(class)s_bedrooms"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def cover_image(self) -> PropertyImage | None:
        """The main image, else the first: from a `Prefetch(..., to_attr="cover_images")` of cover_images(),
        or from the house's images."""
        covers = getattr(self, "cover_images", None)
        if covers is not None:
            return covers[0] if covers else None
        # COVER_ORDER, in Python.
        return min(self.images.all(), key=lambda image: (not image.is_main, image.order, image.pk), default=None)


class HouseForSale(House):
    """A house offered for sale."""

    price = models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(0)])

    class Meta(House.Meta):
        verbose_name = "house for sale"
        verbose_name_plural = "houses for sale"
        indexes = [*House.Meta.indexes, models.Index(fields=["price"], name="%(app_label)s_%(class)s_price")]


class HouseForRent(House):
    """A house offered for rent."""

    monthly_rent = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])

    class Meta(House.Meta):
        verbose_name = "house for rent"
        verbose_name_plural = "houses for rent"
        indexes = [*House.Meta.indexes, models.Index(fields=["monthly_rent"], name="%(app_label)s_%(class)s_rent")]


HOUSE_MODELS: dict[str, type[House]] = {property_kind_of(model): model for model in (HouseForSale, HouseForRent)}
