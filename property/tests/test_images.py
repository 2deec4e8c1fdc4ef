"""Upload checking and re-encoding: only decoded pixels, upright and without metadata, are kept (JPEG and PNG as
they are; WebP and a phone's HEIC/HEIF as JPEG, or PNG with transparency)."""

import base64
import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageCms, ImageDraw

from property.images import ImageRejected, clean_original_filename, sanitize_image
from property.tests.phone_photos import (
    CLOSE_ENOUGH,
    PHONE_PHOTOS,
    UPRIGHT_SIZE,
    mean_difference,
    phone_photo,
    references,
)
from property.tests.photos import PHOTOS
from property.variants import make_variants
from testing import image_bytes, thumbhash_reference

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def upload(name: str, payload: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, payload, content_type="image/jpeg")


def jpeg_with_gps_and_orientation() -> bytes:
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # rotate 90° clockwise to display
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (38.0, 20.0, 41.0), 3: "W", 4: (0.0, 29.0, 25.0)})
    buffer = io.BytesIO()
    Image.new("RGB", (80, 40), (10, 200, 30)).save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def decoded(sanitized) -> Image.Image:
    sanitized.content.seek(0)
    return Image.open(io.BytesIO(sanitized.content.read()))


def test_jpeg_is_accepted_and_described():
    sanitized = sanitize_image(upload("living room.jpg", image_bytes("JPEG", (64, 48))))
    assert (sanitized.format, sanitized.mime_type, sanitized.extension) == ("JPEG", "image/jpeg", "jpg")
    assert (sanitized.width, sanitized.height) == (64, 48)
    assert sanitized.original_filename == "living room.jpg"
    assert sanitized.size == len(sanitized.content.read())


def test_png_is_accepted_whatever_its_name_says():
    sanitized = sanitize_image(upload("photo.jpg", image_bytes("PNG", (10, 20))))
    assert (sanitized.format, sanitized.mime_type, sanitized.extension) == ("PNG", "image/png", "png")
    assert decoded(sanitized).format == "PNG"


def test_exif_orientation_is_applied_and_gps_removed():
    source = jpeg_with_gps_and_orientation()
    assert Image.open(io.BytesIO(source)).getexif().get_ifd(GPS_IFD)  # the fixture really carries GPS
    sanitized = sanitize_image(upload("gps.jpg", source))
    stored = decoded(sanitized)
    assert stored.size == (40, 80)  # rotated upright
    assert (sanitized.width, sanitized.height) == (40, 80)
    assert not stored.getexif()
    assert "exif" not in stored.info


def test_jpeg_comment_is_not_kept():
    sanitized = sanitize_image(upload("c.jpg", image_bytes("JPEG", comment=b"<script>alert(1)</script>")))
    sanitized.content.seek(0)
    assert b"<script>" not in sanitized.content.read()


def test_png_text_chunks_are_not_kept():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "home address: 1 Calle Secreta")
    sanitized = sanitize_image(upload("t.png", image_bytes("PNG", pnginfo=info)))
    sanitized.content.seek(0)
    assert b"Calle Secreta" not in sanitized.content.read()


def test_bytes_appended_after_the_image_are_dropped():
    polyglot = image_bytes("JPEG") + b"<html><script>steal()</script></html>"
    sanitized = sanitize_image(upload("polyglot.jpg", polyglot))
    sanitized.content.seek(0)
    assert b"<html>" not in sanitized.content.read()


@pytest.mark.parametrize(
    ("name", "payload", "reason"),
    [
        ("empty.jpg", b"", "the file is empty"),
        ("truncated.jpg", image_bytes("JPEG", (200, 200))[:300], "the image is truncated or corrupt"),
        ("anim.jpg", image_bytes("GIF"), "not a JPEG, PNG, WebP, HEIC or HEIF image"),
        ("doc.jpg", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "not a JPEG, PNG, WebP, HEIC or HEIF image"),
        ("page.png", b"<!doctype html><html><body>hi</body></html>", "not a JPEG, PNG, WebP, HEIC or HEIF image"),
        (
            "vector.png",
            b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
            "not a JPEG, PNG, WebP, HEIC or HEIF image",
        ),
        ("magic.jpg", b"\xff\xd8\xff\xe0" + b"<html>not really a jpeg</html>" * 10, None),
    ],
)
def test_files_that_are_not_clean_images_are_rejected_with_their_name(name, payload, reason):
    with pytest.raises(ImageRejected) as rejection:
        sanitize_image(upload(name, payload))
    assert rejection.value.filename == name
    if reason:
        assert rejection.value.reason == reason
    assert str(rejection.value).startswith(f"{name}: ")


def png_claiming_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def test_decompression_bomb_is_rejected_before_decoding():
    with pytest.raises(ImageRejected) as rejection:
        sanitize_image(upload("bomb.png", png_claiming_size(60000, 60000)))
    assert rejection.value.reason == "the image has too many pixels (decompression bomb)"


def test_image_below_pillows_bomb_limit_but_over_our_cap_is_rejected_before_decoding():
    with pytest.raises(ImageRejected) as rejection:
        sanitize_image(upload("huge.png", png_claiming_size(9000, 9000)))
    assert rejection.value.reason == "the image is 9000x9000 pixels, more than the 50,000,000 pixels allowed"


def test_png_text_chunk_bomb_is_rejected():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "A" * 20_000_000, zip=True)  # a few KB on disk, 20 MB once inflated
    payload = image_bytes("PNG", (4, 4), pnginfo=info)
    assert len(payload) < 100_000
    with pytest.raises(ImageRejected) as rejection:
        sanitize_image(upload("text-bomb.png", payload))
    assert rejection.value.reason == "the image is truncated or corrupt"


def test_image_over_the_pixel_cap_is_rejected(settings):
    settings.PROPERTY_IMAGE_MAX_PIXELS = 100
    with pytest.raises(ImageRejected) as rejection:
        sanitize_image(upload("big.png", image_bytes("PNG", (11, 10))))
    assert rejection.value.reason == "the image is 11x10 pixels, more than the 100 pixels allowed"


def test_file_one_byte_over_the_limit_is_rejected(settings):
    payload = image_bytes("JPEG")
    settings.PROPERTY_IMAGE_MAX_UPLOAD_SIZE = len(payload) - 1
    with pytest.raises(ImageRejected) as rejection:
        sanitize_image(upload("big.jpg", payload))
    assert "larger than" in rejection.value.reason


def test_file_exactly_at_the_limit_is_accepted(settings):
    payload = image_bytes("JPEG")
    settings.PROPERTY_IMAGE_MAX_UPLOAD_SIZE = len(payload)
    assert sanitize_image(upload("ok.jpg", payload)).format == "JPEG"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd.jpg", "passwd.jpg"),
        ("C:\\Users\\ana\\casa.jpg", "casa.jpg"),
        ("piso\x00\x1f.jpg", "piso.jpg"),
        ("..hidden.png", "hidden.png"),
        ("", "image"),
        (None, "image"),
        ("ático ☀.jpg", "ático ☀.jpg"),
        ("a" * 300 + ".jpg", "a" * 251 + ".jpg"),
    ],
)
def test_original_file_name_is_reduced_to_a_safe_display_name(given, kept):
    assert clean_original_filename(given) == kept


def half_transparent_palette_png(size: tuple[int, int] = (800, 400)) -> bytes:
    """Left half opaque red, right half fully transparent, through a palette and a tRNS chunk."""
    picture = Image.new("P", size, 0)
    picture.putpalette([200, 30, 30, 0, 0, 0])
    picture.paste(1, (size[0] // 2, 0, size[0], size[1]))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", transparency=1)
    return buffer.getvalue()


def variant_pixels(sanitized, name: str, key_field: str = "key") -> Image.Image:
    """The variant `name` as the variants task makes it, from the stored (sanitised) original: its copy in the
    configured format (`key`) or its AVIF one (`avif_key`)."""
    sanitized.content.seek(0)
    with Image.open(io.BytesIO(sanitized.content.read())) as original:
        original.load()
        made = make_variants(original)
        (variant,) = [variant for variant in made if (variant.name, variant.key_field) == (name, key_field)]
    variant.content.seek(0)
    return Image.open(io.BytesIO(variant.content.read()))


def test_palette_png_keeps_its_transparency_in_webp_variants():
    sanitized = sanitize_image(upload("plan.png", half_transparent_palette_png()))
    thumbnail = variant_pixels(sanitized, "thumbnail")
    assert (thumbnail.format, thumbnail.mode, thumbnail.size) == ("WEBP", "RGBA", (320, 160))
    assert thumbnail.getpixel((10, 80))[3] == 255 and thumbnail.getpixel((310, 80))[3] == 0
    red, green, blue, _ = thumbnail.getpixel((10, 80))
    assert red > 180 and green < 60 and blue < 60
    assert decoded(sanitized).info.get("transparency") == 1  # the original keeps its own transparency


def test_transparent_png_is_laid_on_white_in_jpeg_variants(settings):
    settings.PROPERTY_IMAGE_VARIANT_FORMAT = "JPEG"
    thumbnail = variant_pixels(sanitize_image(upload("plan.png", half_transparent_palette_png())), "thumbnail")
    assert (thumbnail.format, thumbnail.mode) == ("JPEG", "RGB")
    assert all(channel > 240 for channel in thumbnail.getpixel((310, 80)))  # white, not black, where it was clear
    red, green, blue = thumbnail.getpixel((10, 80))
    assert red > 180 and green < 60 and blue < 60


def test_palette_png_variants_are_resized_smoothly_not_by_nearest_neighbour():
    stripes = Image.new("P", (1000, 100), 0)
    stripes.putpalette([0, 0, 0, 255, 255, 255])
    for x in range(1, 1000, 2):
        stripes.paste(1, (x, 0, x + 1, 100))  # one-pixel black and white stripes
    buffer = io.BytesIO()
    stripes.save(buffer, format="PNG")
    thumbnail = variant_pixels(sanitize_image(upload("stripes.png", buffer.getvalue())), "thumbnail")
    # Resampled, the stripes blend into grey; by nearest neighbour each pixel would stay black or white.
    assert 90 < thumbnail.convert("L").getpixel((160, 16)) < 170


def test_a_small_photo_keeps_its_colour_profile_when_its_variants_are_not_resized():
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 120, 200)).save(buffer, format="JPEG", icc_profile=profile)
    sanitized = sanitize_image(upload("small.jpg", buffer.getvalue()))
    assert decoded(sanitized).info.get("icc_profile") == profile
    assert variant_pixels(sanitized, "large").info.get("icc_profile") == profile
    assert variant_pixels(sanitized, "large", "avif_key").info.get("icc_profile") == profile


def test_a_phones_multi_picture_jpeg_is_stored_as_its_first_picture_upright():
    """Phones write MPO files (a JPEG with more pictures after it: depth maps, the other lens of a 3D camera)."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    buffer = io.BytesIO()
    first, second = Image.new("RGB", (80, 40), (200, 10, 10)), Image.new("RGB", (80, 40), (10, 10, 200))
    first.save(buffer, format="MPO", save_all=True, append_images=[second], exif=exif)
    assert Image.open(io.BytesIO(buffer.getvalue())).format == "MPO"  # the fixture really is one
    sanitized = sanitize_image(upload("IMG_0001.JPG", buffer.getvalue()))
    stored = decoded(sanitized)
    assert (sanitized.format, sanitized.mime_type, stored.format, stored.size) == (
        "JPEG",
        "image/jpeg",
        "JPEG",
        (40, 80),
    )
    assert stored.getpixel((20, 40))[0] > 150  # the first picture, not the second
    assert getattr(stored, "n_frames", 1) == 1


@pytest.mark.parametrize("variant_format", ["WEBP", "JPEG"])
@pytest.mark.parametrize("name", PHOTOS)
def test_photos_as_cameras_phones_and_editors_write_them_are_stored_upright_with_variants(
    name, variant_format, settings
):
    settings.PROPERTY_IMAGE_VARIANT_FORMAT = variant_format
    payload, stored_format, upright_size = PHOTOS[name]
    sanitized = sanitize_image(upload(name, payload))
    stored = decoded(sanitized)
    stored.load()
    assert (sanitized.format, stored.format, stored.size, (sanitized.width, sanitized.height)) == (
        stored_format,
        stored_format,
        upright_size,
        upright_size,
    )
    assert ORIENTATION not in stored.getexif()
    sanitized.content.seek(0)
    made = make_variants(Image.open(sanitized.content))
    assert sorted((variant.name, variant.format) for variant in made) == sorted(
        (name, image_format) for name in ("thumbnail", "medium", "large") for image_format in (variant_format, "AVIF")
    )
    for variant in made:
        variant.content.seek(0)
        with Image.open(variant.content) as pixels:
            pixels.load()
            assert (pixels.format, pixels.width) == (variant.format, min(variant.nominal_width, upright_size[0]))


def scene(size: tuple[int, int]) -> Image.Image:
    """A photo-like picture: sky, a house with a roof, ground."""
    picture = Image.new("RGB", size, (90, 150, 230))
    draw = ImageDraw.Draw(picture)
    width, height = size
    draw.rectangle((0, 3 * height // 4, width, height), fill=(60, 140, 50))
    draw.rectangle((width // 4, height // 2, 3 * width // 4, 7 * height // 8), fill=(240, 230, 210))
    draw.polygon(
        [(width // 5, height // 2), (width // 2, height // 5), (4 * width // 5, height // 2)], fill=(170, 60, 50)
    )
    return picture


def mean_colour(picture: Image.Image) -> list[float]:
    """The mean red, green and blue of a picture, each pixel counted by its opacity."""
    rgba = picture.convert("RGBA")
    opacity = [alpha / 255 for alpha in rgba.getchannel("A").tobytes()]
    return [
        sum(value * weight for value, weight in zip(rgba.getchannel(band).tobytes(), opacity, strict=True))
        / sum(opacity)
        for band in range(3)
    ]


def cut_out(size: tuple[int, int]) -> Image.Image:
    picture = scene(size).convert("RGBA")
    picture.putalpha(Image.radial_gradient("L").resize(size).point(lambda value: 255 - value))
    return picture


@pytest.mark.parametrize(
    ("name", "picture", "image_format"),
    [
        ("landscape.jpg", scene((1600, 1200)), "JPEG"),
        ("portrait.jpg", scene((900, 1600)), "JPEG"),
        ("wide.jpg", scene((2400, 1200)), "JPEG"),
        ("phone-video-frame.jpg", scene((1920, 1080)), "JPEG"),
        ("tiny.png", scene((5, 3)), "PNG"),
        ("cut-out.png", cut_out((640, 480)), "PNG"),
    ],
)
def test_the_placeholder_paints_the_photos_shape_and_colour(name, picture, image_format):
    """Within 15% of the aspect ratio: ThumbHash states it as a ratio of at most 7 to 1 terms, so from about 3:1
    (a panorama) it is coarser; the image's `width` and `height` give a page the exact box."""
    buffer = io.BytesIO()
    picture.save(buffer, format=image_format, **({"quality": 90} if image_format == "JPEG" else {}))
    placeholder = sanitize_image(upload(name, buffer.getvalue())).placeholder
    (painted,) = thumbhash_reference([{"decode": placeholder.thumbhash}])

    aspect = picture.width / picture.height
    assert abs(painted["w"] / painted["h"] - aspect) / aspect <= 0.15, (painted["w"], painted["h"])
    expected = mean_colour(picture)
    assert all(abs(got - want) <= 20 for got, want in zip(painted["mean"][:3], expected, strict=True)), (
        painted,
        expected,
    )
    colour = [int(placeholder.color[index : index + 2], 16) for index in (1, 3, 5)]
    assert all(abs(got - want) <= 20 for got, want in zip(colour, expected, strict=True)), (placeholder.color, expected)


def test_a_palette_pngs_transparency_is_in_its_placeholder():
    picture = Image.new("P", (40, 30), 0)
    picture.putpalette([255, 0, 0, 0, 0, 255])  # index 0 red (transparent), index 1 blue
    picture.paste(1, (0, 0, 20, 30))  # the left half blue, the right half transparent red
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", transparency=0)
    placeholder = sanitize_image(upload("half.png", buffer.getvalue())).placeholder
    assert placeholder.color == "#0000ff"  # the transparent red counts for nothing
    assert base64.b64decode(placeholder.thumbhash)[2] & 0x80  # ThumbHash's "has alpha" bit


@pytest.mark.parametrize("name", PHONE_PHOTOS)
def test_phone_photos_from_another_encoder_are_stored_as_upright_jpegs_true_to_their_pixels(name):
    """heif-enc's HEICs (8-bit, 10-bit, Display P3, EXIF-rotated): JPEG, upright, within CLOSE_ENOUGH of the source
    photo and of heif-convert's decode, the colour profile kept, no metadata, every variant made."""
    sanitized = sanitize_image(upload("IMG_0001.HEIC", phone_photo(name)))
    stored = decoded(sanitized)
    assert (sanitized.format, sanitized.mime_type, stored.format) == ("JPEG", "image/jpeg", "JPEG")
    assert (sanitized.width, sanitized.height) == stored.size == UPRIGHT_SIZE
    assert sanitized.original_filename == "IMG_0001.HEIC"
    for reference in references(name):
        assert mean_difference(stored, reference) < CLOSE_ENOUGH
    with Image.open(io.BytesIO(phone_photo(name))) as heic:
        assert stored.info.get("icc_profile") == heic.info.get("icc_profile")
    if name == "garden-p3.heic":
        profile = ImageCms.getOpenProfile(io.BytesIO(stored.info["icc_profile"])).profile
        assert profile.profile_description == "Display P3"
        assert round(profile.red_colorant[0][0], 3) == 0.515  # P3's red, wider than sRGB's 0.436
    assert not set(stored.info) & {"exif", "xmp", "comment"} and not stored.getexif()
    made = make_variants(stored)
    assert sorted((variant.name, variant.format) for variant in made) == sorted(
        (size, image_format) for size in ("thumbnail", "medium", "large") for image_format in ("WEBP", "AVIF")
    )
    for variant in made:
        variant.content.seek(0)
        with Image.open(variant.content) as pixels:
            assert pixels.width == min(variant.nominal_width, UPRIGHT_SIZE[0]) and not pixels.getexif()


def test_a_heic_carrying_gps_keeps_none_of_it():
    exif = Image.Exif()
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (38.0, 20.0, 41.0), 3: "W", 4: (0.0, 29.0, 25.0)})
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(buffer, format="HEIF", exif=exif.tobytes(), xmp=b"<x:xmpmeta/>")
    with Image.open(io.BytesIO(buffer.getvalue())) as heic:
        assert GPS_IFD in heic.getexif() and heic.info.get("xmp")  # the fixture does carry them
    stored = decoded(sanitize_image(upload("IMG_0002.HEIC", buffer.getvalue())))
    assert not stored.getexif() and "exif" not in stored.info and "xmp" not in stored.info


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_a_truncated_heic_is_rejected_with_its_name(cut):
    payload = phone_photo("garden.heic")
    with pytest.raises(ImageRejected) as rejection:
        sanitize_image(upload("IMG_0003.HEIC", payload[: int(len(payload) * cut)]))
    assert str(rejection.value) == "IMG_0003.HEIC: the image is truncated or corrupt"


def test_a_heic_over_the_pixel_cap_is_rejected_before_decoding(settings):
    settings.PROPERTY_IMAGE_MAX_PIXELS = 479 * 320
    with pytest.raises(ImageRejected, match=r"^IMG_0004\.HEIC: the image is 480x320 pixels, more than"):
        sanitize_image(upload("IMG_0004.HEIC", phone_photo("garden.heic")))
