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
from typing import TYPE_CHECKING

from bench.report import verdict
from bench.sections import Bench, run_in_bench

if TYPE_CHECKING:
    from PIL import Image

PHOTO_DIR = Path(__file__).resolve().parent / ".photos"
WIDTH = 1024
# scikit-image's photographs that ship in its wheel (its other samples are drawings, microscopy or downloads).
SAMPLE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "stereo_motorcycle", "hubble_deep_field")


def gallery() -> list[tuple[str, Image.Image]]:
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


def measure(bench: Bench) -> dict:
    """As shipped (the variants task's settings): per format, the gallery's bytes and mean and lowest SSIM. At equal
    quality: the bytes of the smallest AVIF copy of each picture whose SSIM is at least its WebP copy's."""
    pictures = gallery()
    shipped, equal_quality, cpu_seconds = copies_compared(pictures)
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


def copies_compared(
    pictures: list[tuple[str, Image.Image]],
) -> tuple[dict[str, list[tuple[int, float]]], list[tuple[int, float, int]], list[float]]:
    """Per format, each picture's copy as shipped (bytes, SSIM); each picture's smallest AVIF copy as good as its
    WebP one (bytes, SSIM, quality); the CPU seconds making each picture's copies took."""
    from django.test import override_settings
    from PIL import Image

    from property.variants import make_variants

    shipped: dict[str, list[tuple[int, float]]] = {"WEBP": [], "AVIF": []}
    equal_quality: list[tuple[int, float, int]] = []
    cpu_seconds: list[float] = []
    shipped_settings = {"PROPERTY_IMAGE_VARIANT_FORMAT": "WEBP", "PROPERTY_IMAGE_VARIANT_AVIF": True}
    with override_settings(
        PROPERTY_IMAGE_VARIANTS=True, PROPERTY_IMAGE_VARIANT_WIDTHS={"medium": WIDTH}, **shipped_settings
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
    return shipped, equal_quality, cpu_seconds


def section(avif: dict | None) -> str:
    if not avif:
        return ""
    from property.variants import AVIF_QUALITY, AVIF_SPEED, VARIANT_QUALITY, WEBP_METHOD

    webp, avif_copies = avif["WEBP"], avif["AVIF"]
    qualities = avif["equal_quality_qualities"]
    equal = avif["equal_quality_ratio"]
    return "\n".join(
        [
            f"## 9. AVIF against WebP: a gallery of {avif['pictures']} photographs at the {avif['width']}-px width",
            "",
            "`bench/avif.py`: each picture made into its medium variant by the variants task's own code",
            f"(`make_variants`: WebP at quality {VARIANT_QUALITY}, method {WEBP_METHOD}; AVIF at quality "
            f"{AVIF_QUALITY}, speed {AVIF_SPEED}), each copy's",
            "SSIM measured against the pixels it was encoded from (scikit-image `structural_similarity`, RGB).",
            "",
            "| | bytes | SSIM mean / lowest |",
            "|---|---|---|",
            f"| WebP, as the task makes it | {webp['bytes'] / 1000:.0f} kB | {webp['ssim_mean']:.4f} / "
            f"{webp['ssim_min']:.4f} |",
            f"| AVIF, as the task makes it | {avif_copies['bytes'] / 1000:.0f} kB ({avif['ratio']:.2f}x) "
            f"| {avif_copies['ssim_mean']:.4f} / {avif_copies['ssim_min']:.4f} |",
            f"| AVIF at equal quality: for each picture the smallest AVIF copy whose SSIM is at least its WebP "
            f"copy's | {avif['equal_quality_bytes'] / 1000:.0f} kB, **{equal:.2f}x** WebP (goal ≤ 0.75x: "
            f"{verdict(equal <= 0.75 and avif['equal_quality_matched'] == avif['pictures'])}) | |",
            "",
            f"As the task makes them, the AVIF copy's SSIM is at least the WebP copy's for "
            f"{avif['avif_ssim_at_least_webp']} of {avif['pictures']} pictures.",
            f"At equal quality, {avif['equal_quality_matched']} of {avif['pictures']} pictures found an AVIF copy as "
            f"good (qualities {qualities[0]} to {qualities[-1]}, median {statistics.median(qualities):g}).",
            f"Encoding both copies took {avif['both_cpu_ms_per_picture']:.0f} ms of CPU per picture.",
            "The photographs: Debian's mate-backgrounds nature photos (12, whole and their centre half) and six of",
            "scikit-image's samples; close-ups with soft backgrounds favour AVIF, so a house's photos may gain less.",
            "",
        ]
    )


if __name__ == "__main__":
    run_in_bench(measure, section, "avif")
