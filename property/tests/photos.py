"""Photos as cameras, phones and editors write them: the encodings an upload must take (test_images stores
each one; the fuzzer sends them as its schema-valid uploads). Needs only Pillow and pillow-heif, no Django."""

import io
import struct
import zlib

from PIL import Image, ImageCms
from pillow_heif import register_heif_opener

register_heif_opener()  # to write the HEIC ones (with libheif's encoder; phone_photos/ has heif-enc's)

ORIENTATION = 0x0112
# Landscape, so that turning it upright by EXIF orientations 5-8 swaps width and height.
SIZE = (48, 32)


def encode(image: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def oriented(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return encode(Image.new("RGB", SIZE, (200, 120, 40)), "JPEG", exif=exif)


def multi_picture() -> bytes:
    """A phone's MPO: a JPEG with a second picture (a depth map, the other lens) after it."""
    first, second = Image.new("RGB", SIZE, (200, 10, 10)), Image.new("RGB", SIZE, (10, 10, 200))
    return encode(first, "MPO", save_all=True, append_images=[second])


def heic_turned_twice_over() -> bytes:
    """A HEIC as an iPhone's camera writes it: the picture lying on its side, with both a rotation box (irot, which
    pillow-heif writes from the EXIF Orientation it is given) and that EXIF Orientation 6. Upright it is SIZE
    turned to portrait; turned by both, it would lie on its other side."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    return encode(Image.new("RGB", SIZE, (30, 160, 90)), "HEIF", exif=exif.tobytes(), quality=90)


def handwritten_png(width: int, height: int, *, bit_depth: int, color_type: int, interlace: int, pixel: bytes):
    """A PNG Pillow cannot write: 16 bits per channel in colour, or Adam7 interlaced (for a 1x1 image, whose one
    pixel is all of the first pass, the data is the same as without)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, interlace)
    rows = b"".join(b"\x00" + pixel * width for _ in range(height))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()

# name: (encoded file, the format it is stored as, its upright width and height)
PHOTOS: dict[str, tuple[bytes, str, tuple[int, int]]] = {
    "baseline.jpg": (encode(Image.new("RGB", SIZE, (200, 120, 40)), "JPEG"), "JPEG", SIZE),
    "progressive.jpg": (encode(Image.new("RGB", SIZE, (20, 120, 240)), "JPEG", progressive=True), "JPEG", SIZE),
    "greyscale.jpg": (encode(Image.new("L", SIZE, 90), "JPEG"), "JPEG", SIZE),
    "cmyk.jpg": (encode(Image.new("CMYK", SIZE, (0, 80, 160, 20)), "JPEG"), "JPEG", SIZE),
    "icc-profile.jpg": (encode(Image.new("RGB", SIZE, (90, 30, 200)), "JPEG", icc_profile=SRGB), "JPEG", SIZE),
    "no-chroma-subsampling.jpg": (
        encode(Image.new("RGB", SIZE, (1, 2, 3)), "JPEG", quality=100, subsampling=0),
        "JPEG",
        SIZE,
    ),
    "phone-mpo.jpg": (multi_picture(), "JPEG", SIZE),
    "panorama.jpg": (encode(Image.new("RGB", (4000, 300), (60, 160, 220)), "JPEG"), "JPEG", (4000, 300)),
    "tall-panorama.jpg": (encode(Image.new("RGB", (200, 3000), (60, 160, 220)), "JPEG"), "JPEG", (200, 3000)),
    **{
        f"orientation-{orientation}.jpg": (
            oriented(orientation),
            "JPEG",
            SIZE[::-1] if orientation >= 5 else SIZE,
        )
        for orientation in range(1, 9)
    },
    "rgb.png": (encode(Image.new("RGB", SIZE, (200, 120, 40)), "PNG"), "PNG", SIZE),
    "rgba.png": (encode(Image.new("RGBA", SIZE, (200, 120, 40, 128)), "PNG"), "PNG", SIZE),
    "greyscale.png": (encode(Image.new("L", SIZE, 90), "PNG"), "PNG", SIZE),
    "greyscale-alpha.png": (encode(Image.new("LA", SIZE, (90, 100)), "PNG"), "PNG", SIZE),
    "palette.png": (encode(Image.new("P", SIZE, 3), "PNG"), "PNG", SIZE),
    "palette-transparent.png": (encode(Image.new("P", SIZE, 3), "PNG", transparency=3), "PNG", SIZE),
    "16-bit-greyscale.png": (encode(Image.new("I;16", SIZE, 40000), "PNG"), "PNG", SIZE),
    "16-bit-rgb.png": (
        handwritten_png(*SIZE, bit_depth=16, color_type=2, interlace=0, pixel=b"\xff\x00\x80\x00\x10\x00"),
        "PNG",
        SIZE,
    ),
    "16-bit-rgba.png": (
        handwritten_png(*SIZE, bit_depth=16, color_type=6, interlace=0, pixel=b"\xff\x00\x80\x00\x10\x00\x80\x00"),
        "PNG",
        SIZE,
    ),
    "1-bit.png": (encode(Image.new("1", SIZE, 1), "PNG"), "PNG", SIZE),
    "interlaced.png": (
        handwritten_png(1, 1, bit_depth=8, color_type=2, interlace=1, pixel=b"\x05\x06\x07"),
        "PNG",
        (1, 1),
    ),
    "icc-profile.png": (encode(Image.new("RGB", SIZE, (90, 30, 200)), "PNG", icc_profile=SRGB), "PNG", SIZE),
    # Stored as JPEG, or PNG where there is transparency.
    "lossy.webp": (encode(Image.new("RGB", SIZE, (200, 120, 40)), "WEBP", quality=80), "JPEG", SIZE),
    "lossless.webp": (encode(Image.new("RGB", SIZE, (20, 120, 240)), "WEBP", lossless=True), "JPEG", SIZE),
    "transparent.webp": (encode(Image.new("RGBA", SIZE, (200, 120, 40, 128)), "WEBP"), "PNG", SIZE),
    "phone.heic": (encode(Image.new("RGB", SIZE, (200, 120, 40)), "HEIF", quality=90), "JPEG", SIZE),
    "phone-portrait.heic": (heic_turned_twice_over(), "JPEG", SIZE[::-1]),
    "transparent.heif": (encode(Image.new("RGBA", SIZE, (200, 120, 40, 128)), "HEIF", quality=90), "PNG", SIZE),
    "heic-named.jpg": (encode(Image.new("RGB", SIZE, (90, 30, 200)), "HEIF", quality=90), "JPEG", SIZE),
}
