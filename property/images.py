"""Checking and re-encoding uploaded photos: JPEG, PNG, WebP and a phone's HEIC/HEIF are read, recognised by their
content; only JPEG (PNG where there is transparency), upright and without metadata, reaches the bucket."""

from __future__ import annotations

import base64
import os
import unicodedata
import warnings
from dataclasses import dataclass
from tempfile import SpooledTemporaryFile
from typing import IO

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from .thumbhash import average_rgba, js_round, rgba_to_thumbhash

# HEIC and HEIF stills through libheif (pillow-heif): the primary image alone, none of the thumbnails, depth maps or
# auxiliary images a phone stores beside it.
register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)

# Only these decoders ever see an upload (Pillow's security guidance); MPO is a phone's multi-picture JPEG.
UPLOAD_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
# What the bucket holds, and so the only decoders that read a stored original: formats every browser shows.
STORED_FORMATS = ("JPEG", "PNG")
# The media types of the files an upload takes: the schema's encodings (schema.py), the file pickers'. The server
# recognises a file by its content, whatever type it is sent as.
UPLOAD_CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic", "image/heif")
# The file picker's `accept` for the admin and the gallery page. Chrome's picker does not count image/heic as
# image/*, and some systems give a HEIC file no type at all, hence the extensions.
UPLOAD_ACCEPT = ",".join([*UPLOAD_CONTENT_TYPES, ".heic", ".heif"])
UPLOAD_TYPES_DESCRIPTION = "JPEG, PNG, WebP, HEIC or HEIF"
FORMAT_DETAILS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
    "AVIF": ("avif", "image/avif"),
}
# Every stored JPEG, phone photos converted from HEIC/HEIF and WebP included.
JPEG_QUALITY = 90
# The placeholder is computed from a copy this many pixels on its longer side (ThumbHash takes at most 100): a few
# milliseconds of pure-Python encoding instead of about 40 at 100 px, for the same terms (see image_placeholder).
PLACEHOLDER_SIZE = 32
# That copy averages a grid of pixels this many times finer than itself: filtering every pixel of a 6 MP photo down
# to it took 15-25 ms, a quarter of the upload's own checks; the grid's 64 samples for each of its pixels take
# under 1 ms and give the same colours within 1/255.
PLACEHOLDER_SAMPLING = 8
# Re-encoded files larger than this go to a temporary file instead of memory.
SPOOL_MAX_MEMORY = 1024 * 1024


def human_size(size: int) -> str:
    """`10 MB` for whole megabytes, else the exact byte count."""
    megabyte = 1024 * 1024
    return f"{size // megabyte} MB" if size % megabyte == 0 else f"{size:,} bytes"


class ImageRejected(Exception):
    """An upload that is not an acceptable image; the message names the file and the reason (the upload service
    answers it: property.services.uploads.UploadRejected)."""

    def __init__(self, filename: str, reason: str) -> None:
        self.filename = filename
        self.reason = reason
        self.message = f"{filename}: {reason}"
        super().__init__(self.message)


@dataclass(frozen=True)
class Placeholder:
    """What a page paints before the photo arrives: its ThumbHash (base64) and its average colour (`#rrggbb`)."""

    thumbhash: str
    color: str


@dataclass
class SanitizedImage:
    """A decoded, re-encoded image ready to store."""

    content: IO[bytes]
    original_filename: str
    format: str
    width: int
    height: int
    size: int
    placeholder: Placeholder

    @property
    def extension(self) -> str:
        return FORMAT_DETAILS[self.format][0]

    @property
    def mime_type(self) -> str:
        return FORMAT_DETAILS[self.format][1]

    def close(self) -> None:
        self.content.close()


def image_placeholder(image: Image.Image) -> Placeholder:
    """The ThumbHash and the average colour of `image`, from a copy at most PLACEHOLDER_SIZE pixels on a side.

    ThumbHash keeps a 7x7 luminance and 3x3 colour cosine transform of the picture (5x5 and a 5x5 alpha with
    transparency) and its approximate aspect ratio: a bigger input changes none of that, and costs more.
    """
    scale = PLACEHOLDER_SIZE / max(image.size)
    if scale < 1:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        grid = (min(image.width, size[0] * PLACEHOLDER_SAMPLING), min(image.height, size[1] * PLACEHOLDER_SAMPLING))
        image = true_colour(image.resize(grid, Image.Resampling.NEAREST)).resize(size, Image.Resampling.BOX)
    small = true_colour(image)
    rgba = small if small.mode == "RGBA" else small.convert("RGBA")
    pixels = rgba.tobytes()
    thumbhash = rgba_to_thumbhash(rgba.width, rgba.height, pixels)
    colour = "".join(f"{js_round(255 * mean):02x}" for mean in average_rgba(pixels)[:3])
    return Placeholder(thumbhash=base64.b64encode(thumbhash).decode("ascii"), color=f"#{colour}")


def true_colour(image: Image.Image) -> Image.Image:
    """`image` in RGB, or RGBA when it has any transparency (palette and grey PNGs included), so that
    resizing can blend pixels (Pillow resizes palette images by nearest neighbour) and no transparency is lost.
    An RGB photo comes back as it is, without a copy."""
    mode = "RGBA" if image.has_transparency_data else "RGB"
    return image if image.mode == mode else image.convert(mode)


def clean_original_filename(filename: str | None) -> str:
    """The client's file name, reduced to a safe display name: no directories, no control characters."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in unicodedata.normalize("NFC", name) if unicodedata.category(char)[0] != "C")
    name = name.strip().lstrip(".")
    if len(name) > 255:
        stem, extension = os.path.splitext(name)
        name = stem[: 255 - len(extension)] + extension
    return name or "image"


def sanitize_image(upload: IO[bytes], *, filename: str | None = None) -> SanitizedImage:
    """Decode `upload` (JPEG, PNG, WebP, HEIC/HEIF, whatever its name says), turn it upright and re-encode it from
    pixels alone: JPEG and PNG stay what they are; WebP and HEIC/HEIF become JPEG, or PNG if they have transparency.

    The stored file is rebuilt from decoded pixels, so EXIF (GPS included), XMP, comments, text chunks and bytes
    appended after the image never reach the bucket; the colour profile is kept.
    """
    display_name = clean_original_filename(filename if filename is not None else getattr(upload, "name", None))
    size = getattr(upload, "size", None)
    if size == 0:
        raise ImageRejected(display_name, "the file is empty")
    limit = settings.PROPERTY_IMAGE_MAX_UPLOAD_SIZE
    if size is not None and size > limit:
        raise ImageRejected(display_name, f"the file is larger than the {human_size(limit)} limit")
    upload.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return _decoded_and_encoded(upload, display_name)
        except ImageRejected:
            raise
        except UnidentifiedImageError as error:
            raise ImageRejected(display_name, f"not a {UPLOAD_TYPES_DESCRIPTION} image") from error
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise ImageRejected(display_name, "the image has too many pixels (decompression bomb)") from error
        except (OSError, ValueError, SyntaxError, EOFError, RuntimeError) as error:
            # Truncated data, broken chunks, a PNG text chunk too large to decompress, or what libheif cannot decode
            # (pillow-heif raises RuntimeError for some).
            raise ImageRejected(display_name, "the image is truncated or corrupt") from error


def _decoded_and_encoded(upload: IO[bytes], display_name: str) -> SanitizedImage:
    """sanitize_image's work on the pixels; Pillow's errors are left to it."""
    with Image.open(upload, formats=UPLOAD_FORMATS) as decoded:
        # A phone's multi-picture JPEG (MPO: depth maps, a second lens) is a JPEG whose first picture is the photo:
        # that one is kept, the others are never decoded. So is the first picture of an animated WebP and the
        # primary image of a HEIF (a burst's or a sequence's chosen one).
        stored_format = decoded.format if decoded.format in STORED_FORMATS else None
        width, height = decoded.size  # as displayed: for a HEIF, after its rotation
        if width * height > settings.PROPERTY_IMAGE_MAX_PIXELS:
            raise ImageRejected(
                display_name,
                f"the image is {width}x{height} pixels, more than the "
                f"{settings.PROPERTY_IMAGE_MAX_PIXELS:,} pixels allowed",
            )
        heif_orientation = heif_orientation_left(decoded)
        decoded.load()
        upright = _upright(decoded, heif_orientation)
        image_format = stored_format or ("PNG" if upright.has_transparency_data else "JPEG")
        # Before encoding, which drops the palette's transparency from the decoded image.
        placeholder = image_placeholder(upright)
        content, encoded_size = _encode(upright, image_format)
        return SanitizedImage(
            content=content,
            original_filename=display_name,
            format=image_format,
            width=upright.size[0],
            height=upright.size[1],
            size=encoded_size,
            placeholder=placeholder,
        )


# EXIF Orientation values and the turn that shows the picture upright (as PIL.ImageOps.exif_transpose).
ORIENTATION_TRANSPOSES = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def heif_orientation_left(decoded: Image.Image) -> int:
    """For a HEIF opened but not yet loaded, the EXIF Orientation that decoding will not apply (1: none).

    A HEIF states its orientation in its own rotation and mirror boxes (irot, imir), which libheif applies while
    decoding; pillow-heif then sets the EXIF Orientation it found to 1 and keeps it as `original_orientation`. That
    EXIF value is applied only when the HEIF has no such box: heif-enc and an iPhone's Photos editor write a rotation
    in EXIF alone, while the iPhone's camera writes both (applied twice, a portrait photo would lie on its side).
    """
    if decoded.format != "HEIF":
        return 1
    # pillow-heif has no public word for the boxes; its image object knows them until the pixels are loaded.
    transformations = decoded._heif_file[decoded.tell()]._c_image.transformations  # type: ignore[attr-defined]
    if any(kind in ("irot", "imir") for kind, *_ in transformations):
        return 1
    return decoded.info.get("original_orientation") or 1


def _upright(decoded: Image.Image, heif_orientation: int) -> Image.Image:
    """The decoded picture as it is meant to be seen, its orientation applied once (see heif_orientation_left)."""
    if decoded.format != "HEIF":
        ImageOps.exif_transpose(decoded, in_place=True)  # in place: no second full-size copy of the pixels
        return decoded
    # pillow-heif decodes into memory of Pillow's own but leaves the image marked read-only, and Pillow copies a
    # read-only image before saving it to a file object: 30 ms and 36 MB more for a 12-megapixel photo.
    decoded.readonly = 0
    if heif_orientation not in ORIENTATION_TRANSPOSES:
        return decoded
    return decoded.transpose(ORIENTATION_TRANSPOSES[heif_orientation])


def _encode(image: Image.Image, image_format: str) -> tuple[IO[bytes], int]:
    """Encode pixels alone: of the source's metadata only the colour profile and transparency survive."""
    icc_profile = image.info.get("icc_profile")
    transparency = image.info.get("transparency")
    pixels = image  # decoded for this upload alone: drop everything it carried besides pixels
    pixels.info = {}
    options: dict = {}
    if icc_profile:
        options["icc_profile"] = icc_profile
    if image_format == "JPEG":
        if pixels.mode not in ("RGB", "L", "CMYK"):
            pixels = pixels.convert("RGB")
        # No optimize=True: it triples encoding time for files ~2% smaller.
        options["quality"] = JPEG_QUALITY
    elif transparency is not None:
        options["transparency"] = transparency
    content = SpooledTemporaryFile(max_size=SPOOL_MAX_MEMORY)  # noqa: SIM115 - the caller closes it
    pixels.save(content, format=image_format, **options)
    size = content.tell()
    content.seek(0)
    return content, size
