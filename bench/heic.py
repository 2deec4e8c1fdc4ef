"""A phone's 12-megapixel HEIC uploaded against the same photo as JPEG, over HTTP, and the memory of the web process
over 50 HEIC uploads (make bench section 12).

The photo: Debian's mate-backgrounds Elephants_5640x3172.jpg (make bench fetches it), its centre at 4000 x 3000,
encoded as JPEG at quality 90 and as HEIC by libheif as an iPhone writes it: tiles of 512 x 512 in a grid, about
half the JPEG's bytes (pillow-heif, quality 50). One API server worker process (bench.uploads.ServerWorker, make
run's allocator settings); the two photos are sent in turn, one file per `upload_images` request; no task worker
runs meanwhile.
"""

from __future__ import annotations

import io
import json
import statistics
import time
from pathlib import Path

import requests
from PIL import Image
from pillow_heif import register_heif_opener

from bench.project import HOUSE_SCRIPT, ServerWorker, manage
from bench.report import verdict
from bench.sections import Bench, run_in_bench

PHOTO = Path(__file__).resolve().parent / ".photos/usr/share/backgrounds/mate/abstract/Elephants_5640x3172.jpg"
SIZE = (4000, 3000)
RUNS = 10
MEMORY_UPLOADS = 50


def the_photo() -> dict[str, bytes]:
    register_heif_opener()
    with Image.open(PHOTO) as source:
        left, top = (source.width - SIZE[0]) // 2, (source.height - SIZE[1]) // 2
        picture = source.convert("RGB").crop((left, top, left + SIZE[0], top + SIZE[1]))
    encoded = {}
    for name, image_format, options in (
        ("jpeg", "JPEG", {"quality": 90}),
        ("heic", "HEIF", {"quality": 50, "tile_size": 512}),
    ):
        buffer = io.BytesIO()
        picture.save(buffer, format=image_format, **options)
        encoded[name] = buffer.getvalue()
    return encoded


def measure(bench: Bench) -> dict:
    environment = bench.environment
    photos = the_photo()
    owner = json.loads(manage(environment, "shell", "-c", HOUSE_SCRIPT).strip().splitlines()[-1])
    headers = {"Authorization": f"Bearer {owner['token']}"}
    worker = ServerWorker(environment)

    def upload(name: str) -> float:
        files = [("images", (f"IMG_0001.{name}", photos[name], f"image/{name}"))]
        started = time.perf_counter()
        response = requests.post(
            f"{worker.url}/api/houses-for-sale/{owner['house']}/upload_images/", headers=headers, files=files,
            timeout=120,
        )  # fmt: skip
        elapsed = time.perf_counter() - started
        assert response.status_code == 201, response.text
        assert (response.json()[0]["width"], response.json()[0]["height"]) == SIZE
        return elapsed

    try:
        upload("jpeg"), upload("heic")  # warm up imports and connections
        times: dict[str, list[float]] = {"jpeg": [], "heic": []}
        for _ in range(RUNS):
            for name in times:
                times[name].append(upload(name))
        memory = []
        for count in range(1, MEMORY_UPLOADS + 1):
            upload("heic")
            if count in (1, 10, 25, MEMORY_UPLOADS):
                memory.append((count, worker.resident_mb()))
    finally:
        worker.stop()
    return {
        "sizes": {name: len(payload) for name, payload in photos.items()},
        "jpeg_s": statistics.median(times["jpeg"]),
        "heic_s": statistics.median(times["heic"]),
        "memory_mb": memory,
    }


def section(heic: dict | None) -> str:
    if not heic:
        return ""
    ratio = heic["heic_s"] / heic["jpeg_s"]
    memory = dict(heic["memory_mb"])
    growth = memory[MEMORY_UPLOADS] / memory[10]
    return "\n".join(
        [
            "## 12. A phone's 12-megapixel HEIC against the same photo as JPEG (`bench/heic.py`)",
            "",
            f"One `upload_images` request per photo, {RUNS} of each in turn, one API server worker process: the HEIC "
            "is decoded by libheif and stored as JPEG, the JPEG re-encoded as any upload.",
            "",
            "| | file | request (median) |",
            "|---|---|---|",
            f"| JPEG, quality 90 | {heic['sizes']['jpeg'] / 1e6:.1f} MB | {heic['jpeg_s'] * 1000:.0f} ms |",
            f"| HEIC, quality 50, tiles of 512 | {heic['sizes']['heic'] / 1e6:.1f} MB "
            f"| {heic['heic_s'] * 1000:.0f} ms |",
            f"| HEIC / JPEG | | **{ratio:.2f}x** (goal ≤ 2x: {verdict(ratio <= 2)}) |",
            "",
            f"The web process's resident memory over {MEMORY_UPLOADS} more HEIC uploads: "
            + ", ".join(f"after {count}: {mb:.0f} MB" for count, mb in heic["memory_mb"])
            + f" (after {MEMORY_UPLOADS} / after 10: **{growth:.2f}**; flat within 10%: {verdict(growth <= 1.1)}).",
            "",
        ]
    )


if __name__ == "__main__":
    run_in_bench(measure, section, "heic")
