"""property/thumbhash.py: byte for byte the reference implementation's ThumbHash, run by Node."""

import base64
import math

import pytest
from PIL import Image, ImageDraw

from property.thumbhash import MAX_SIZE, average_rgba, js_round, rgba_to_thumbhash
from testing import thumbhash_reference


def house(size: tuple[int, int], sky=(90, 150, 230)) -> Image.Image:
    """A drawing with edges and colours, like sample photos."""
    picture = Image.new("RGBA", size, (*sky, 255))
    draw = ImageDraw.Draw(picture)
    width, height = size
    draw.rectangle((width // 4, height // 2, 3 * width // 4, height - 1), fill=(240, 230, 210, 255))
    draw.polygon(
        [(width // 5, height // 2), (width // 2, height // 6), (4 * width // 5, height // 2)], fill=(170, 60, 50, 255)
    )
    return picture


def pictures() -> dict[str, Image.Image]:
    cut_out = house((64, 48))
    cut_out.putalpha(Image.radial_gradient("L").resize((64, 48)))  # opaque in the middle, fading out
    half_see_through = Image.new("RGBA", (30, 90), (10, 200, 30, 128))
    return {
        "house, landscape, 100 px": house((100, 75)),
        "house, portrait, 32 px": house((24, 32), sky=(250, 180, 60)),
        "noise": Image.effect_noise((40, 40), 90).convert("RGBA"),
        "gradient strip": Image.linear_gradient("L").resize((100, 4)).convert("RGBA"),
        "one pixel": Image.new("RGBA", (1, 1), (12, 34, 56, 255)),
        "cut out (alpha)": cut_out,
        "half see-through": half_see_through,
        "wholly transparent": Image.new("RGBA", (20, 10), (0, 0, 0, 0)),
    }


def test_the_port_encodes_exactly_as_the_reference():
    inputs = pictures()
    ours = [base64.b64encode(rgba_to_thumbhash(p.width, p.height, p.tobytes())).decode() for p in inputs.values()]
    reference = thumbhash_reference(
        [{"encode": [p.width, p.height, base64.b64encode(p.tobytes()).decode()]} for p in inputs.values()]
    )
    assert dict(zip(inputs, ours, strict=True)) == dict(zip(inputs, reference, strict=True))
    assert len(set(ours)) == len(ours)  # the pictures differ, and so do their hashes


def test_the_average_is_weighted_by_opacity():
    rgba = bytes([255, 0, 0, 255, 0, 0, 255, 0])  # an opaque red pixel and a transparent blue one
    assert average_rgba(rgba) == (1.0, 0.0, 0.0, 1.0)


@pytest.mark.parametrize(
    ("value", "rounded"), [(0.5, 1), (1.5, 2), (2.5, 3), (-0.5, 0), (-1.5, -1), (0.49999999999999994, 0)]
)
def test_js_round_takes_halves_up_like_math_round(value, rounded):
    # (Why it exists: Python's round takes halves to even, round(2.5) == 2.)
    assert js_round(value) == rounded


def test_more_than_the_reference_takes_is_refused():
    with pytest.raises(ValueError, match="doesn't fit"):
        rgba_to_thumbhash(MAX_SIZE + 1, 1, bytes(4 * (MAX_SIZE + 1)))
    with pytest.raises(ValueError, match="not 2x2 RGBA"):
        rgba_to_thumbhash(2, 2, bytes(12))


def test_a_hash_is_about_25_bytes():
    sizes = [len(rgba_to_thumbhash(p.width, p.height, p.tobytes())) for p in pictures().values()]
    assert max(sizes) <= 35 and math.fsum(sizes) / len(sizes) < 30
