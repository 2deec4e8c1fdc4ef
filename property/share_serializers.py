"""Share links as their owner makes and lists them, and a shared house as anyone holding its link sees it."""

from __future__ import annotations

from functools import cached_property

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .fields import StrictBooleanField, StrictCharField, StrictIntegerField
from .models import HOUSE_MODELS, SHARE_LINK_LABEL_MAX_LENGTH, ShareLink
from .serializers import PropertyImageSerializer
from .services.share_links import SHARE_LINK_MAX_SECONDS


class ShareLinkCreateSerializer(serializers.Serializer):
    """`POST /api/houses-for-sale|rent/{id}/share_links/`."""

    expires_in = StrictIntegerField(
        min_value=1, max_value=SHARE_LINK_MAX_SECONDS, help_text="Seconds the link works, up to 30 days."
    )
    label = StrictCharField(  # type: ignore[assignment]  # a field named as Field.label is (DRF takes it off the class)
        max_length=SHARE_LINK_LABEL_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text="Whom the link is for (e.g. the buyer's name): shown to the owner only.",
    )
    allow_download = StrictBooleanField(
        required=False, default=False, help_text="Whether the link offers the photos as one ZIP."
    )


class ShareLinkSerializer(serializers.ModelSerializer):
    """A link as its house's owner (or staff) sees it; never its token, which only its creation answers."""

    label = serializers.CharField(read_only=True, allow_blank=True)  # type: ignore[assignment]  # "" when the link was made without one
    is_active = serializers.BooleanField(read_only=True, help_text="Neither expired nor revoked.")

    class Meta:
        model = ShareLink
        fields = [
            "id",
            "label",
            "allow_download",
            "created_at",
            "expires_at",
            "revoked_at",
            "is_active",
            "views",
            "last_viewed_at",
        ]
        read_only_fields = fields


class NewShareLinkSerializer(ShareLinkSerializer):
    """A link just made: with its token and where it opens (shown this once: only the token's hash is kept)."""

    token = serializers.CharField(read_only=True, help_text="Shown once; only its hash is kept.")
    url = serializers.URLField(read_only=True, help_text="The API answer anyone holding the link may read.")
    page_url = serializers.URLField(read_only=True, help_text="The page a person opens in a browser.")

    class Meta(ShareLinkSerializer.Meta):
        fields = [*ShareLinkSerializer.Meta.fields, "token", "url", "page_url"]
        read_only_fields = fields


class SharedImageSerializer(PropertyImageSerializer):
    """A photo as a link shows it: placeholder, colour, sizes, WebP and AVIF URLs as a signed-in user sees them
    (their URLs ending with the link or sooner: `urls_end_at` in the context); not where it is stored, its file
    name or its history."""

    class Meta(PropertyImageSerializer.Meta):
        fields = [
            "id",
            "caption",
            "category",
            "description",
            "is_main",
            "order",
            "width",
            "height",
            "thumbhash",
            "color",
            "secure_url",
            "variants",
            "variants_status",
        ]

    @cached_property
    def urls_end_at(self) -> int | None:
        return self.context.get("urls_end_at")

    def to_representation(self, instance) -> dict:
        image = super().to_representation(instance)
        return {name: image[name] for name in self.Meta.fields}


class SharedHouseSerializer(serializers.Serializer):
    """The house's public fields (no owner, no address, nothing internal)."""

    kind = serializers.SerializerMethodField()
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    city = serializers.CharField(allow_blank=True)
    bedrooms = serializers.IntegerField()
    bathrooms = serializers.IntegerField()
    area = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    # A house has one of the two: the other is null (DRF reads a field the house lacks as null when nullable).
    price = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, help_text="For sale: its price; null for rent."
    )
    monthly_rent = serializers.DecimalField(
        max_digits=12, decimal_places=2, allow_null=True, help_text="For rent: its rent; null for sale."
    )

    @extend_schema_field(serializers.ChoiceField(choices=list(HOUSE_MODELS)))
    def get_kind(self, house) -> str:
        return next(kind for kind, model in HOUSE_MODELS.items() if isinstance(house, model))


class SharedSerializer(serializers.Serializer):
    """`GET /api/shared/{token}/`."""

    house = SharedHouseSerializer()
    images = SharedImageSerializer(many=True, help_text="Every photo, in the gallery's order.")
    expires_at = serializers.DateTimeField(help_text="When the link stops working.")
    urls_expire_at = serializers.DateTimeField(help_text="When this answer's photo URLs stop working: ask again.")
    download_url = serializers.URLField(allow_null=True, help_text="The photos as one ZIP; null when not offered.")
