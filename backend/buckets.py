"""Bucket set-up shared by the app, its management commands and the local S3 launcher (no Django needed)."""

from __future__ import annotations

import time

import requests
from botocore.exceptions import ClientError

PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def ensure_private_bucket(client, bucket: str, timeout: float = 15.0) -> None:
    """Create `bucket` if missing, private, with public access blocked where the server supports it.

    SeaweedFS can answer InternalError to a CreateBucket sent right after it starts: retry.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.head_bucket(Bucket=bucket)
            break
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code not in ("404", "NoSuchBucket", "NotFound"):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
                continue
        try:
            client.create_bucket(Bucket=bucket, ACL="private")
            break
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                break
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    try:
        client.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK,
        )
    except ClientError as error:
        # SeaweedFS answers NotImplemented: its buckets are never public anyway.
        if error.response.get("Error", {}).get("Code") not in ("NotImplemented", "NotImplementedError"):
            raise


def anonymous_read_is_refused(client, bucket: str, probe_key: str = "properties/.private-check") -> bool:
    """Write a probe object, fetch it without a signature, delete it: True when S3 refused the fetch."""
    client.put_object(Bucket=bucket, Key=probe_key, Body=b"private", ACL="private")
    try:
        signed = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": probe_key}, ExpiresIn=60)
        bare_url = signed.split("?", 1)[0]
        return requests.get(bare_url, timeout=10).status_code in (401, 403)
    finally:
        client.delete_object(Bucket=bucket, Key=probe_key)
