"""PropertyImage's rules that need no database: which sizes an image offers while its variants stand in, and the
copies each size is made in."""

from property.models import VARIANT_KEY_FIELDS, PropertyImage, VariantsStatus, configured_variant_formats

THUMBNAIL = {"key": "k_320w.webp", "avif_key": "k_320w.avif", "width": 320, "height": 240}


def image(status: str, variants: dict) -> PropertyImage:
    return PropertyImage(image="k.jpg", width=4000, height=3000, variants_status=status, variants=variants)


def test_a_ready_image_offers_the_variants_it_has_and_no_other():
    ready = image(VariantsStatus.READY, {"thumbnail": THUMBNAIL})
    assert ready.offered_variants() == {"thumbnail": (320, 240, False)}
    assert ready.offered_variants(["medium"]) == {}


def test_while_variants_stand_in_each_configured_one_missing_is_the_original():
    original = (4000, 3000, True)
    for status in (VariantsStatus.PENDING, VariantsStatus.FAILED):
        rebuilding = image(status, {"thumbnail": THUMBNAIL})
        assert rebuilding.offered_variants() == {
            "thumbnail": (320, 240, False),
            "medium": original,
            "large": original,
        }
        assert rebuilding.offered_variants(["large"]) == {"large": original}


def test_the_urls_of_a_copy_follow_the_same_rule():
    pending = image(VariantsStatus.PENDING, {"thumbnail": THUMBNAIL})
    ready = image(VariantsStatus.READY, {"thumbnail": THUMBNAIL})
    copies = [(None, "key"), ("thumbnail", "avif_key"), ("large", "key")]
    pending_urls, ready_urls = pending.secure_urls(copies), ready.secure_urls(copies)
    assert [url.split("?")[0].rsplit("/", 1)[1] for url in pending_urls] == ["k.jpg", "k_320w.avif", "k.jpg"]
    assert ready_urls[2] is None and ready_urls[:2] == pending_urls[:2]


def test_each_size_is_made_in_the_configured_format_and_in_avif_when_it_is_on(settings):
    settings.PROPERTY_IMAGE_VARIANT_FORMAT = "JPEG"
    settings.PROPERTY_IMAGE_VARIANT_AVIF = True
    assert configured_variant_formats() == {"key": "JPEG", "avif_key": "AVIF"}
    assert VARIANT_KEY_FIELDS == ("key", "avif_key")  # the row entries' fields, in the order answers sign them
    settings.PROPERTY_IMAGE_VARIANT_AVIF = False
    assert configured_variant_formats() == {"key": "JPEG"}
