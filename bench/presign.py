"""Section 1: presigning a URL, the project's storage against boto3's generate_presigned_url."""

from __future__ import annotations

import time

from bench.django_setup import BUCKET


def per_call_microseconds(function, calls: int) -> float:
    started = time.perf_counter()
    for index in range(calls):
        function(index)
    return (time.perf_counter() - started) / calls * 1e6


def bench_presigner() -> dict:
    from django.core.files.storage import storages

    # The storage object the app signs with (S3ImageService resolves Django's lazy default_storage to it).
    storage = storages["default"]
    client = storage.connection.meta.client

    def key(index: int) -> str:
        return f"properties/houseforsale/{index % 100}/20250112_143022_{index:08x}.jpg"

    def project(index: int) -> str:
        return storage.url(key(index), expire=3600)

    def boto3_presign(index: int) -> str:
        return client.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key(index)}, ExpiresIn=3600)

    project(0), boto3_presign(0)  # warm up: connections, signing key, botocore's loaders
    project_us = per_call_microseconds(project, 20000)
    boto3_us = per_call_microseconds(boto3_presign, 2000)
    return {"project_us": project_us, "boto3_us": boto3_us, "ratio": boto3_us / project_us}
