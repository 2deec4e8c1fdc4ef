"""Section 1: presigning a URL, the project's storage against boto3's generate_presigned_url."""

from __future__ import annotations

import time

from bench.django_setup import BUCKET
from bench.report import verdict
from bench.sections import Bench, run_in_bench

# Each side's best of this many rounds, the two sides' rounds taken in turn: one round of either is swayed by what
# else the machine is doing (a single pass moved the ratio between 20x and 43x on this machine).
ROUNDS = 5


def per_call_microseconds(function, calls: int, first: int = 0) -> float:
    """µs per call of `function(index)` for `calls` indexes from `first` (new keys each round: none signed before)."""
    started = time.perf_counter()
    for index in range(first, first + calls):
        function(index)
    return (time.perf_counter() - started) / calls * 1e6


def measure(bench: Bench) -> dict:
    from backend.storage_backends import private_media_storage

    # The storage object the app signs with.
    storage = private_media_storage()
    client = storage.connection.meta.client

    def key(index: int) -> str:
        return f"properties/houseforsale/{index % 100}/20250112_143022_{index:08x}.jpg"

    def project(index: int) -> str:
        return storage.url(key(index), expire=3600)

    def boto3_presign(index: int) -> str:
        return client.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key(index)}, ExpiresIn=3600)

    project(0), boto3_presign(0)  # warm up: connections, signing key, botocore's loaders
    project_rounds, boto3_rounds = [], []
    for round_number in range(ROUNDS):
        project_rounds.append(per_call_microseconds(project, 20000, first=1 + round_number * 20000))
        boto3_rounds.append(per_call_microseconds(boto3_presign, 2000, first=1 + round_number * 2000))
    project_us, boto3_us = min(project_rounds), min(boto3_rounds)
    return {"project_us": project_us, "boto3_us": boto3_us, "ratio": boto3_us / project_us}


def section(presign: dict | None) -> str:
    if not presign:
        return ""
    return f"""## 1. Presigned URLs

| | µs per URL |
|---|---|
| project (`PrivateMediaStorage.url`, fast SigV4 presigner) | {presign["project_us"]:.1f} |
| `boto3` `generate_presigned_url` | {presign["boto3_us"]:.1f} |
| speed-up | **{presign["ratio"]:.1f}x** (goal ≥ 25x: {verdict(presign["ratio"] >= 25)}) |
"""


if __name__ == "__main__":
    run_in_bench(measure, section, "presign")
