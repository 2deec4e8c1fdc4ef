"""Factories for houses, and for photo rows without their objects; a photo with its objects is made through the
real upload service (property_images_store)."""

from decimal import Decimal

import factory
from django.conf import settings
from django.contrib.auth import get_user_model

from property.models import HouseForRent, HouseForSale, PropertyImage, VariantsStatus, property_image_key
from property.variants import variant_key


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct-horse-battery")


class HouseForSaleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HouseForSale

    title = factory.Sequence(lambda n: f"House {n}")
    address = factory.Sequence(lambda n: f"{n} Calle Mayor")
    city = "Alicante"
    bedrooms = 3
    bathrooms = 2
    area = Decimal("120.50")
    price = Decimal("250000.00")
    owner = factory.SubFactory(UserFactory)


class HouseForRentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HouseForRent

    title = factory.Sequence(lambda n: f"Flat {n}")
    address = factory.Sequence(lambda n: f"{n} Avenida del Mar")
    city = "Alicante"
    bedrooms = 2
    bathrooms = 1
    area = Decimal("75.00")
    monthly_rent = Decimal("950.00")
    owner = factory.SubFactory(UserFactory)


def variant_entries(original_key: str, width: int, height: int) -> dict:
    """The `variants` of a row whose variants were made: each configured size, in WebP and AVIF, beside the key."""
    return {
        name: {
            "key": variant_key(original_key, nominal_width=nominal, image_format="WEBP"),
            "avif_key": variant_key(original_key, nominal_width=nominal, image_format="AVIF"),
            "width": min(nominal, width),
            "height": round(height * min(nominal, width) / width),
        }
        for name, nominal in settings.PROPERTY_IMAGE_VARIANT_WIDTHS.items()
    }


class PropertyImageFactory(factory.django.DjangoModelFactory):
    """A photo row as an upload and its variants leave it (key, sizes, variants, placeholder), without objects: for
    tests of what the API answers and who may change it, which need no S3. `variants_status="pending"` with
    `variants={}` is a photo whose variants are still being made."""

    class Meta:
        model = PropertyImage

    content_object = factory.SubFactory(HouseForSaleFactory)
    image = factory.LazyAttribute(
        lambda row: property_image_key(
            model_name=row.content_object._meta.model_name, property_id=row.content_object.pk, extension="jpg"
        )
    )
    original_filename = "photo.jpg"
    width = 1200
    height = 900
    size = 350_000
    mime_type = "image/jpeg"
    order = factory.Sequence(int)
    thumbhash = "nqsCBYBvaZh3iId4iHd3d3+HiPd3"
    color = "#c97829"
    variants_status = VariantsStatus.READY
    variants = factory.LazyAttribute(lambda row: variant_entries(row.image, row.width, row.height))
