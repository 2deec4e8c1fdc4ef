"""ThumbHash (https://evanw.github.io/thumbhash/): a picture's placeholder in about 25 bytes, encoded exactly as the
reference implementation (Evan Wallace's thumbhash.js, `rgbaToThumbHash`) encodes it.

A port, not a package: the one Python package on PyPI (thumbhash 0.1.2) fails on any picture with transparency and
rounds halves to even where the reference rounds them up. property/tests/test_thumbhash.py proves this port
byte for byte equal to the reference's output, run by Node, on photos, drawings and transparent PNGs.
"""

import math

# The reference refuses larger input: it is slow and gains nothing.
MAX_SIZE = 100


def js_round(value: float) -> int:
    """JavaScript's Math.round: the nearest integer, halves up (Python's round() takes halves to even)."""
    whole = math.floor(value)
    return whole + 1 if value - whole >= 0.5 else whole


def average_rgba(rgba: bytes) -> tuple[float, float, float, float]:
    """The average colour of RGBA pixels, each counted by its opacity, as red, green and blue from 0 to 1 (0 for a
    picture wholly transparent), and the sum of the opacities (the pixel count for an opaque picture)."""
    avg_r = avg_g = avg_b = avg_a = 0.0
    for j in range(0, len(rgba), 4):
        alpha = rgba[j + 3] / 255
        avg_r += alpha / 255 * rgba[j]
        avg_g += alpha / 255 * rgba[j + 1]
        avg_b += alpha / 255 * rgba[j + 2]
        avg_a += alpha
    if avg_a:
        avg_r /= avg_a
        avg_g /= avg_a
        avg_b /= avg_a
    return avg_r, avg_g, avg_b, avg_a


def rgba_to_thumbhash(width: int, height: int, rgba: bytes) -> bytes:
    """The ThumbHash of a `width` x `height` picture given as RGBA bytes (not premultiplied), row by row."""
    if not (0 < width <= MAX_SIZE and 0 < height <= MAX_SIZE):
        raise ValueError(f"{width}x{height} doesn't fit in {MAX_SIZE}x{MAX_SIZE}")
    if len(rgba) != width * height * 4:
        raise ValueError(f"{len(rgba)} bytes are not {width}x{height} RGBA pixels")
    average = average_rgba(rgba)
    has_alpha = average[3] < width * height
    l_limit = 5 if has_alpha else 7  # fewer luminance terms when alpha needs room
    lx = max(1, js_round(l_limit * width / max(width, height)))
    ly = max(1, js_round(l_limit * height / max(width, height)))

    luminance, yellow_blue, red_green, opacity = rgba_to_lpqa(rgba, average)
    l_dc, l_ac, l_scale = encode_channel(luminance, width, height, max(3, lx), max(3, ly))
    p_dc, p_ac, p_scale = encode_channel(yellow_blue, width, height, 3, 3)
    q_dc, q_ac, q_scale = encode_channel(red_green, width, height, 3, 3)

    is_landscape = width > height
    header24 = (
        js_round(63 * l_dc)
        | (js_round(31.5 + 31.5 * p_dc) << 6)
        | (js_round(31.5 + 31.5 * q_dc) << 12)
        | (js_round(31 * l_scale) << 18)
        | (has_alpha << 23)
    )
    header16 = (
        (ly if is_landscape else lx)
        | (js_round(63 * p_scale) << 3)
        | (js_round(63 * q_scale) << 9)
        | (is_landscape << 15)
    )
    thumbhash = [header24 & 255, (header24 >> 8) & 255, header24 >> 16, header16 & 255, header16 >> 8]
    varying = [l_ac, p_ac, q_ac]
    if has_alpha:
        a_dc, a_ac, a_scale = encode_channel(opacity, width, height, 5, 5)
        thumbhash.append(js_round(15 * a_dc) | (js_round(15 * a_scale) << 4))
        varying.append(a_ac)
    return bytes(thumbhash) + packed_terms(varying)


def rgba_to_lpqa(rgba: bytes, average: tuple[float, float, float, float]) -> tuple[list[float], ...]:
    """RGBA to LPQA (luminance, yellow-blue, red-green, alpha), composited atop the average colour."""
    avg_r, avg_g, avg_b, _avg_a = average
    luminance, yellow_blue, red_green, opacity = [], [], [], []
    for j in range(0, len(rgba), 4):
        alpha = rgba[j + 3] / 255
        r = avg_r * (1 - alpha) + alpha / 255 * rgba[j]
        g = avg_g * (1 - alpha) + alpha / 255 * rgba[j + 1]
        b = avg_b * (1 - alpha) + alpha / 255 * rgba[j + 2]
        luminance.append((r + g + b) / 3)
        yellow_blue.append((r + g) / 2 - b)
        red_green.append(r - g)
        opacity.append(alpha)
    return luminance, yellow_blue, red_green, opacity


def encode_channel(channel: list[float], width: int, height: int, nx: int, ny: int) -> tuple[float, list, float]:
    """The DCT of a channel: its constant term, its varying terms normalised to 0..1, and their scale. The sums
    run in the reference's order, so that the floating-point results are the same."""
    dc, ac, scale = 0.0, [], 0.0
    rows = [channel[y * width : (y + 1) * width] for y in range(height)]
    for cy in range(ny):
        fys = [math.cos(math.pi / height * cy * (y + 0.5)) for y in range(height)]
        cx = 0
        while cx * ny < nx * (ny - cy):
            fx = [math.cos(math.pi / width * cx * (x + 0.5)) for x in range(width)]
            f = 0.0
            for row, fy in zip(rows, fys, strict=True):
                for value, fx_x in zip(row, fx, strict=True):
                    f += value * fx_x * fy
            f /= width * height
            if cx or cy:
                ac.append(f)
                scale = max(scale, abs(f))
            else:
                dc = f
            cx += 1
    if scale:
        ac = [0.5 + 0.5 / scale * f for f in ac]
    return dc, ac, scale


def packed_terms(varying: list[list[float]]) -> bytes:
    """The varying terms, two a byte, four bits each, low nibble first."""
    terms = [js_round(15 * f) for ac in varying for f in ac]
    return bytes(
        terms[index] | (terms[index + 1] << 4 if index + 1 < len(terms) else 0) for index in range(0, len(terms), 2)
    )
