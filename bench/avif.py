"""AVIF against WebP on real photographs: the bytes of a 30-photo gallery at the 1024-px width, each copy made by the
variants task's own code (property.variants.make_variants, settings as shipped), and the quality of each copy by SSIM
against the pixels it was encoded from (scikit-image's structural_similarity over the three colour channels).

The photographs: the twelve of Debian's mate-backgrounds "nature" folder (1280 to 2560 px wide; `make bench`
fetches the package into bench/.photos/), each whole and as its centre half, and six of scikit-image's sample
photographs (451 to 1000 px wide: kept at their own width, as the task never upscales). Many of the Debian ones are
close-ups with soft backgrounds, which favour AVIF; scikit-image's indoor scenes and portraits less so.
"""

from __future__ import annotations

import io
import statistics
import time
from pathlib import Path

PHOTO_DIR = Path(__file__).resolve().parent / ".photos"
WIDTH = 1024
# scikit-image's photographs that ship in its wheel (its other samples are drawings, microscopy or downloads).
SAMPLE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "stereo_motorcycle", "hubble_deep_field")


def gallery() -> list[tuple[str, object]]:
    """The 30 pictures, by name, as RGB images."""
    import numpy
    from PIL import Image
    from skimage import data

    debian = sorted((PHOTO_DIR / "usr/share/backgrounds/mate/nature").glob("*.jpg"))
    if len(debian) != 12:
        raise RuntimeError(f"expected the 12 photos of mate-backgrounds in {PHOTO_DIR} (make bench fetches them)")
    pictures = []
    for path in debian:
        with Image.open(path) as photo:
            whole = photo.convert("RGB")
        width, height = whole.size
        pictures.append((path.stem, whole))
        pictures.append(
            (f"{path.stem} (centre)", whole.crop((width // 4, height // 4, 3 * width // 4, 3 * height // 4)))
        )
    for name in SAMPLE_PHOTOS:
        pixels = getattr(data, name)()
        if name == "stereo_motorcycle":
            pixels = pixels[0]  # the left view of the pair (and its disparity map)
        pictures.append((name, Image.fromarray(numpy.asarray(pixels)).convert("RGB")))
    return pictures


def ssim(reference, encoded: bytes) -> float:
    import numpy
    from PIL import Image
    from skimage.metrics import structural_similarity

    with Image.open(io.BytesIO(encoded)) as copy:
        pixels = numpy.asarray(copy.convert("RGB"))
    return float(structural_similarity(numpy.asarray(reference), pixels, channel_axis=2, data_range=255))


def smallest_avif_as_good_as(reference, webp_ssim: float) -> tuple[int, float, int]:
    """The smallest AVIF copy (at the task's speed, quality 30 to 90 in steps of 5) whose SSIM is at least the WebP
    copy's: (bytes, SSIM, quality); the quality-90 one when none is."""
    from property.variants import AVIF_SPEED

    for quality in range(30, 95, 5):
        buffer = io.BytesIO()
        reference.save(buffer, format="AVIF", quality=quality, speed=AVIF_SPEED)
        score = ssim(reference, buffer.getvalue())
        if score >= webp_ssim or quality == 90:
            return len(buffer.getvalue()), score, quality
    raise AssertionError("unreachable")


def main() -> dict:
    """As shipped (the variants task's settings): per format, the gallery's bytes and mean and lowest SSIM. At equal
    quality: the bytes of the smallest AVIF copy of each picture whose SSIM is at least its WebP copy's. Needs
    Django set up."""
    from django.test import override_settings
    from PIL import Image

    from property.variants import make_variants

    pictures = gallery()
    shipped: dict[str, list[tuple[int, float]]] = {"WEBP": [], "AVIF": []}
    equal_quality: list[tuple[int, float, int]] = []
    cpu_seconds = []
    with override_settings(
        PROPERTY_IMAGE_VARIANTS=True,
        PROPERTY_IMAGE_VARIANT_WIDTHS={"medium": WIDTH},
        PROPERTY_IMAGE_VARIANT_FORMAT="WEBP",
        PROPERTY_IMAGE_VARIANT_AVIF=True,
    ):
        for _name, picture in pictures:
            # What make_variants encodes at this width: the picture resized as it resizes it (never upscaled).
            reference = picture
            if picture.width > WIDTH:
                size = (WIDTH, max(1, round(picture.height * WIDTH / picture.width)))
                reference = picture.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)
            started = time.process_time()
            variants = make_variants(picture)
            cpu_seconds.append(time.process_time() - started)
            for variant in variants:
                variant.content.seek(0)
                encoded = variant.content.read()
                variant.content.close()
                assert (variant.width, variant.height) == reference.size
                shipped[variant.format].append((len(encoded), ssim(reference, encoded)))
            equal_quality.append(smallest_avif_as_good_as(reference, shipped["WEBP"][-1][1]))
    result: dict = {"pictures": len(pictures), "width": WIDTH}
    for image_format, copies in shipped.items():
        sizes, scores = zip(*copies, strict=True)
        result[image_format] = {"bytes": sum(sizes), "ssim_mean": statistics.fmean(scores), "ssim_min": min(scores)}
    webp_bytes = result["WEBP"]["bytes"]
    result["ratio"] = result["AVIF"]["bytes"] / webp_bytes
    result["avif_ssim_at_least_webp"] = sum(
        avif[1] >= webp[1] for webp, avif in zip(shipped["WEBP"], shipped["AVIF"], strict=True)
    )
    result["equal_quality_bytes"] = sum(size for size, _score, _quality in equal_quality)
    result["equal_quality_ratio"] = result["equal_quality_bytes"] / webp_bytes
    result["equal_quality_matched"] = sum(
        score >= webp[1] for (_size, score, _quality), webp in zip(equal_quality, shipped["WEBP"], strict=True)
    )
    result["equal_quality_qualities"] = sorted(quality for _size, _score, quality in equal_quality)
    result["both_cpu_ms_per_picture"] = statistics.fmean(cpu_seconds) * 1000
    return result
