"""Share links (make bench section 13): a house of 100 photos of 5 MB each downloaded as one ZIP (the web process's
memory while it streams the 500 MB from S3, the time to its first byte, the unzipped files against the stored
originals), and the answer to a made-up token against one with a character changed (their timing alike).

The photos: 100 objects of 5 MB of random bytes put straight into the bench's bucket under a house's folder, with
their rows (the ZIP holds the stored originals as they are: it neither decodes nor checks them). One API server
worker process (bench.uploads.ServerWorker, as make run starts it); the owner's download
(`GET /api/houses-for-sale/{id}/download/`) read by requests in 1 MB chunks into a temporary file while the worker's
resident memory is sampled every 50 ms. Then TOKEN_ROUNDS rounds, on one keep-alive connection, of a made-up token
and the house's link's token with its last character changed (its throttle lifted for the bench).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import statistics
import tempfile
import threading
import time
import zipfile

import requests

from bench.project import ServerWorker, manage
from bench.report import verdict
from bench.sections import Bench, run_in_bench

PHOTOS = 100
PHOTO_MB = 5
TOKEN_ROUNDS = 300

SEED_SCRIPT = f"""
import hashlib, json, os
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from rest_framework_simplejwt.tokens import RefreshToken
from backend.s3 import S3ImageService
from property.models import HouseForSale, PropertyImage, property_image_key
from property.services.share_links import share_link_create
user = get_user_model().objects.create_user("zipper", password=None)
house = HouseForSale.objects.create(title="Zip house", address="3 Bench St", price=1, owner=user)
kind = ContentType.objects.get_for_model(HouseForSale)
digests = []
for number in range({PHOTOS}):
    payload = os.urandom({PHOTO_MB} * 1024 * 1024)
    key = property_image_key(model_name="houseforsale", property_id=house.pk, extension="jpg")
    S3ImageService().upload(key=key, content=ContentFile(payload))
    PropertyImage.objects.create(
        content_type=kind, object_id=house.pk, image=key, size=len(payload), width=1, height=1, order=number,
        caption=f"Room {{number}}",
    )
    digests.append(hashlib.sha256(payload).hexdigest())
_, link = share_link_create(house=house, created_by=user, expires_in=3600, allow_download=True)
access = str(RefreshToken.for_user(user).access_token)
print(json.dumps({{"token": access, "house": house.pk, "digests": digests, "link": link}}))
"""


class MemorySampler(threading.Thread):
    """The worker's resident memory every 50 ms until stopped: the highest seen."""

    def __init__(self, worker: ServerWorker) -> None:
        super().__init__(daemon=True)
        self.worker, self.highest, self.done = worker, 0.0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            self.highest = max(self.highest, self.worker.resident_mb())


def measure(bench: Bench) -> dict:
    environment = bench.environment
    seeded = json.loads(manage(environment, "shell", "-c", SEED_SCRIPT).strip().splitlines()[-1])
    worker = ServerWorker(environment, SHARE_LINK_THROTTLE_RATE="1000000/min")
    try:
        return {"zip": zip_download(worker, seeded), "tokens": unknown_tokens(worker, seeded["link"])}
    finally:
        worker.stop()


def zip_download(worker: ServerWorker, seeded: dict) -> dict:
    headers = {"Authorization": f"Bearer {seeded['token']}"}
    url = f"{worker.url}/api/houses-for-sale/{seeded['house']}/download/"
    requests.get(f"{worker.url}/api/houses-for-sale/{seeded['house']}/", headers=headers, timeout=30)  # warm
    before = worker.resident_mb()
    sampler = MemorySampler(worker)
    sampler.start()
    with tempfile.TemporaryFile() as received:
        started = time.perf_counter()
        with requests.get(url, headers=headers, stream=True, timeout=60) as answer:
            answer.raise_for_status()
            chunks = answer.iter_content(1024 * 1024)
            received.write(next(chunks))
            first_byte_s = time.perf_counter() - started
            for chunk in chunks:
                received.write(chunk)
            content_length = int(answer.headers["Content-Length"])
        total_s = time.perf_counter() - started
        sampler.done.set()
        sampler.join()
        size = received.tell()
        received.seek(0)
        with zipfile.ZipFile(received) as archive:
            names = archive.namelist()
            equal = [
                hashlib.sha256(archive.read(name)).hexdigest() == digest
                for name, digest in zip(names, seeded["digests"], strict=True)
            ]
    return {
        "photos": PHOTOS,
        "bytes": size,
        "content_length": content_length,
        "first_byte_s": first_byte_s,
        "total_s": total_s,
        "rss_before_mb": before,
        "rss_highest_mb": sampler.highest,
        "first_names": names[:2],
        "equal": sum(equal),
    }


def unknown_tokens(worker: ServerWorker, token: str) -> dict:
    """A made-up token and `token` with its last character changed, in turn: each one's p50 and p90 in ms."""
    candidates = {"made_up": secrets.token_urlsafe(32), "altered": token[:-1] + ("A" if token[-1] != "A" else "B")}
    session = requests.Session()
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(TOKEN_ROUNDS):
        for name, candidate in candidates.items():
            started = time.perf_counter()
            answer = session.get(f"{worker.url}/api/shared/{candidate}/", timeout=10)
            times[name].append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 404, answer.text
    return {
        name: {"p50": statistics.median(values), "p90": statistics.quantiles(values, n=10)[-1]}
        for name, values in times.items()
    }


def section(measured: dict | None) -> str:
    if not measured:
        return ""
    download, tokens = measured["zip"], measured["tokens"]
    growth = download["rss_highest_mb"] - download["rss_before_mb"]
    complete = download["equal"] == download["photos"] and download["bytes"] == download["content_length"]
    return "\n".join(
        [
            f"## 13. Share links: a house's {download['photos']} photos of {PHOTO_MB} MB as one ZIP, and unknown "
            "tokens (`bench/share_links.py`)",
            "",
            "The owner's `download`, streamed from S3 while it is sent, one API server worker process, read in 1 MB "
            "chunks:",
            "",
            "| | |",
            "|---|---|",
            f"| ZIP | {download['bytes'] / 1e6:.0f} MB (Content-Length {download['content_length'] / 1e6:.0f} MB), "
            f"{download['total_s']:.1f} s |",
            f"| first byte | **{download['first_byte_s'] * 1000:.0f} ms** (goal < 1 s: "
            f"{verdict(download['first_byte_s'] < 1)}) |",
            f"| the web process's memory | {download['rss_before_mb']:.0f} MB before, at most "
            f"{download['rss_highest_mb']:.0f} MB while sending: **+{growth:.0f} MB** (goal < 50 MB: "
            f"{verdict(growth < 50)}) |",
            f"| unzipped | {download['equal']} of {download['photos']} files byte-equal to the stored objects "
            f"({', '.join(download['first_names'])}, ...): {verdict(complete)} |",
            "",
            f"A made-up token against the link's own with one character changed, {TOKEN_ROUNDS} of each in turn on one "
            "keep-alive connection (both 404, the same body):",
            "",
            "| | p50 | p90 |",
            "|---|---|---|",
            *(
                f"| {label} | {tokens[name]['p50']:.2f} ms | {tokens[name]['p90']:.2f} ms |"
                for name, label in (("made_up", "made-up token"), ("altered", "one character changed"))
            ),
            f"| ratio | **{tokens['altered']['p50'] / tokens['made_up']['p50']:.2f}** | "
            f"{tokens['altered']['p90'] / tokens['made_up']['p90']:.2f} |",
            "",
        ]
    )


if __name__ == "__main__":
    run_in_bench(measure, section, "share_links")
