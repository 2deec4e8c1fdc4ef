"""Photo-like JPEGs of a chosen size for benchmarks (noise, gradient and shapes compress like a real photo)."""

import io
import random

from PIL import Image, ImageDraw


def photo_jpeg(width: int, height: int, *, seed: int = 1, quality: int = 88) -> bytes:
    rnd = random.Random(seed)
    noise = Image.effect_noise((width, height), 60).convert("RGB")
    gradient = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    picture = Image.blend(noise, gradient, 0.5)
    draw = ImageDraw.Draw(picture)
    for _ in range(200):
        x, y = rnd.randrange(width), rnd.randrange(height)
        size_x, size_y = rnd.randrange(20, width // 8), rnd.randrange(20, height // 8)
        draw.ellipse((x, y, x + size_x, y + size_y), fill=(rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)))
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
