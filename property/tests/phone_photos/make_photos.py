"""How the phone-photo fixtures in this folder were made (kept for whoever needs to make them again).

    python property/tests/phone_photos/make_photos.py    # needs libheif's heif-enc (Debian: libheif-examples)
                                                   # and Debian's mate-backgrounds (make bench fetches it)

garden.jpg is Debian's mate-backgrounds nature/Garden.jpg at 480x320 (sRGB, quality 95): the source, and the
reference the tests compare stored photos with. From it heif-enc (libheif, an encoder other than the one the app
decodes with) makes:
- garden.heic: 8-bit, 4:2:0;
- garden-10bit.heic: 10-bit, from a 16-bit PNG of the same pixels;
- garden-p3.heic: the same pixel values tagged with a Display P3 ICC profile (display_p3_icc);
- garden-rotated.heic: the photo stored lying on its side (turned 90 degrees counter-clockwise) with EXIF
  Orientation 6 ("turn 90 degrees clockwise to show"), no irot box: what heif-enc 1.15 writes for a rotated JPEG,
  and what an iPhone's Photos editor writes after a rotation.
"""

from __future__ import annotations

import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
SOURCE = Path(__file__).resolve().parents[3] / "bench/.photos/usr/share/backgrounds/mate/nature/Garden.jpg"
SIZE = (480, 320)
QUALITY = "90"

# Display P3: DCI-P3 primaries with the D65 white point and sRGB's transfer curve (as Apple defines it).
P3_PRIMARIES = ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060))
D65 = (0.3127, 0.3290)
D50_XYZ = (0.9642, 1.0, 0.8249)
BRADFORD = ((0.8951, 0.2664, -0.1614), (-0.7502, 1.7135, 0.0367), (0.0389, -0.0685, 1.0296))


def _xyz(xy: tuple[float, float]) -> tuple[float, float, float]:
    x, y = xy
    return (x / y, 1.0, (1 - x - y) / y)


def _multiply(a, b):
    return tuple(tuple(sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)) for i in range(3))


def _inverse(m):
    (a, b, c), (d, e, f), (g, h, i) = m
    det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
    return (
        ((e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det),
        ((f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det),
        ((d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det),
    )


def _colorants() -> list[tuple[float, float, float]]:
    """The primaries' XYZ under D50 (Bradford-adapted from D65), as an ICC matrix profile states them."""
    primaries = [_xyz(xy) for xy in P3_PRIMARIES]
    matrix = tuple(tuple(primaries[j][i] for j in range(3)) for i in range(3))
    white = _xyz(D65)
    scale = [sum(_inverse(matrix)[i][k] * white[k] for k in range(3)) for i in range(3)]
    rgb_to_xyz = tuple(tuple(matrix[i][j] * scale[j] for j in range(3)) for i in range(3))
    cone_source = [sum(BRADFORD[i][k] * white[k] for k in range(3)) for i in range(3)]
    cone_target = [sum(BRADFORD[i][k] * D50_XYZ[k] for k in range(3)) for i in range(3)]
    gain = tuple(tuple(cone_target[i] / cone_source[i] if i == j else 0.0 for j in range(3)) for i in range(3))
    adapted = _multiply(_multiply(_multiply(_inverse(BRADFORD), gain), BRADFORD), rgb_to_xyz)
    return [tuple(adapted[i][j] for i in range(3)) for j in range(3)]


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def display_p3_icc() -> bytes:
    """A Display P3 ICC profile (version 2.1, matrix and curves), built from the primaries above."""
    description = b"Display P3"
    tags = {
        b"desc": b"desc"
        + bytes(4)
        + struct.pack(">I", len(description) + 1)
        + description
        + b"\0"
        + bytes(4 + 4 + 2 + 1 + 67),
        b"cprt": b"text" + bytes(4) + b"No copyright, use freely\0",
        b"wtpt": b"XYZ " + bytes(4) + b"".join(map(_s15, D50_XYZ)),
    }
    for name, colorant in zip((b"rXYZ", b"gXYZ", b"bXYZ"), _colorants(), strict=True):
        tags[name] = b"XYZ " + bytes(4) + b"".join(map(_s15, colorant))
    srgb_curve = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in (n / 1023 for n in range(1024))]
    curve = (
        b"curv" + bytes(4) + struct.pack(">I", 1024) + b"".join(struct.pack(">H", round(v * 65535)) for v in srgb_curve)
    )
    for name in (b"rTRC", b"gTRC", b"bTRC"):
        tags[name] = curve
    table, data = b"", b""
    offset = 128 + 4 + 12 * len(tags)
    for name, body in tags.items():
        table += name + struct.pack(">II", offset + len(data), len(body))
        data += body + bytes(-len(body) % 4)
    size = offset + len(data)
    header = (
        struct.pack(">I", size) + b"lcms" + bytes([2, 0x10, 0, 0]) + b"mntr" + b"RGB " + b"XYZ "
        + struct.pack(">6H", 2026, 12, 7, 0, 0, 0) + b"acsp" + bytes(4 + 4 + 4 + 4 + 8) + struct.pack(">I", 0)
        + b"".join(map(_s15, D50_XYZ)) + bytes(4 + 16 + 28)
    )  # fmt: skip
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


def heif_enc(source: Path, target: Path, *options: str) -> None:
    subprocess.run(["heif-enc", "-q", QUALITY, *options, "-o", str(target), str(source)], check=True)


def main() -> None:
    with Image.open(SOURCE) as original:
        photo = original.convert("RGB").resize(SIZE, Image.Resampling.LANCZOS)
    photo.save(HERE / "garden.jpg", quality=95)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        photo.save(work / "garden.png")
        heif_enc(work / "garden.png", HERE / "garden.heic")
        sixteen_bit_png(photo, work / "garden16.png")
        heif_enc(work / "garden16.png", HERE / "garden-10bit.heic", "-b", "10")
        photo.save(work / "garden-p3.png", icc_profile=display_p3_icc())
        heif_enc(work / "garden-p3.png", HERE / "garden-p3.heic")
        exif = Image.Exif()
        exif[0x0112] = 6
        photo.transpose(Image.Transpose.ROTATE_90).save(work / "garden-rotated.jpg", quality=95, exif=exif.tobytes())
        heif_enc(work / "garden-rotated.jpg", HERE / "garden-rotated.heic")


def sixteen_bit_png(photo: Image.Image, target: Path) -> None:
    """`photo` as a 16-bit RGB PNG (each 8-bit value v as v * 257): Pillow writes no 16-bit RGB PNG."""
    width, height = photo.size
    pixels = photo.tobytes()
    row_size = width * 3
    rows = b"".join(
        b"\0" + struct.pack(f">{row_size}H", *(value * 257 for value in pixels[y * row_size : (y + 1) * row_size]))
        for y in range(height)
    )

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    target.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    )


if __name__ == "__main__":
    main()
