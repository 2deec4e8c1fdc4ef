"""Real phone-style photos made by heif-enc (libheif, not the encoder the app decodes with): how, in make_photos.py.

Each is Garden.jpg (in this folder) encoded as HEIC; the tests compare what is stored with that source and, where
Debian's heif-convert is installed (.ci/run installs libheif-examples), with its own decode of the HEIC.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageChops, ImageStat

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "garden.jpg"
UPRIGHT_SIZE = (480, 320)
# name: what it is
PHONE_PHOTOS = {
    "garden.heic": "8-bit",
    "garden-10bit.heic": "10-bit",
    "garden-p3.heic": "Display P3 ICC profile",
    "garden-rotated.heic": "stored on its side, EXIF Orientation 6",
}
# The greatest mean absolute difference, per channel value, between a stored photo and its reference.
CLOSE_ENOUGH = 3.0


def phone_photo(name: str) -> bytes:
    return (HERE / name).read_bytes()


def mean_difference(first: Image.Image, second: Image.Image) -> float:
    """Mean absolute difference of two same-sized pictures' RGB values (0-255)."""
    assert first.size == second.size, (first.size, second.size)
    return sum(ImageStat.Stat(ImageChops.difference(first.convert("RGB"), second.convert("RGB"))).mean) / 3


def references(name: str) -> list[Image.Image]:
    """What the photo should look like upright: its source, and heif-convert's decode where it is installed."""
    with Image.open(SOURCE) as source:
        pictures = [source.convert("RGB")]
    if shutil.which("heif-convert"):
        with tempfile.TemporaryDirectory() as scratch:
            decoded = Path(scratch) / "decoded.png"
            subprocess.run(["heif-convert", str(HERE / name), str(decoded)], check=True, capture_output=True)
            with Image.open(decoded) as picture:
                picture = picture.convert("RGB")
                # heif-convert 1.15 applies irot/imir, not an EXIF Orientation: the rotated photo comes out lying.
                if name == "garden-rotated.heic":
                    picture = picture.transpose(Image.Transpose.ROTATE_270)
                pictures.append(picture)
    return pictures
