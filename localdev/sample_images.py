"""Write small sample JPEG photos for trying the API: `python -m localdev.sample_images a.jpg b.jpg`."""

import sys

from PIL import Image, ImageDraw


def write_sample_photo(path: str, hue: int) -> None:
    photo = Image.new("RGB", (800, 600), (hue, 140, 255 - hue))
    draw = ImageDraw.Draw(photo)
    draw.rectangle((200, 250, 600, 550), fill=(240, 230, 210))
    draw.polygon([(150, 260), (400, 80), (650, 260)], fill=(170, 60, 50))
    photo.save(path, format="JPEG", quality=85)


if __name__ == "__main__":
    for index, path in enumerate(sys.argv[1:]):
        write_sample_photo(path, hue=(index * 90) % 256)
        print(f"wrote {path}")
