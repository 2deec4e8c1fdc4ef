"""Bucket set-up shared by the app, its management commands and the local S3 launcher (no Django needed)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import requests
from botocore.exceptions import ClientError

PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


# Object Ownership "bucket owner enforced": ACLs are disabled, access is by policy alone (AWS's default
# for new buckets since 2023). Such a bucket refuses any object ACL but bucket-owner-full-control.
OWNERSHIP_CONTROLS = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


def s3_error_code(error: Exception) -> str | None:
    """The S3 error code of a botocore error (`NoSuchKey`, `AccessControlListNotSupported`...), None if it has none."""
    # A timeout or a connection error has no response (its `response` is missing or None).
    return (getattr(error, "response", None) or {}).get("Error", {}).get("Code")


def _bucket_create_unless_present(client, bucket: str, deadline: float) -> None:
    """Create `bucket` (with ACLs disabled) unless it exists, trying again until `deadline`."""
    while True:
        try:
            client.head_bucket(Bucket=bucket)
            return
        except ClientError as error:
            if s3_error_code(error) not in ("404", "NoSuchBucket", "NotFound"):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
                continue
        try:
            # No ACL: a new bucket is private, and one with ACLs disabled refuses any ACL but the owner's.
            client.create_bucket(Bucket=bucket, **location_constraint(client.meta.region_name))
        except ClientError as error:
            if s3_error_code(error) in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                return
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
            continue
        _while_new(
            lambda: _unless_not_implemented(
                lambda: client.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=OWNERSHIP_CONTROLS)
            ),
            deadline,
        )
        return


def ensure_private_bucket(client, bucket: str, timeout: float = 15.0, cors_origins: Sequence[str] = ()) -> None:
    """Create `bucket` if missing, private and with ACLs disabled, and block public access where the server
    supports it. An existing bucket keeps its Object Ownership setting (other objects may rely on ACLs).
    With `cors_origins`, pages on those origins may post photos to it and read its answers (`cors_rules`);
    without, the bucket's CORS rules are left as they are.

    SeaweedFS can answer InternalError to a CreateBucket sent right after it starts: retry.
    """
    deadline = time.monotonic() + timeout
    _bucket_create_unless_present(client, bucket, deadline)
    # SeaweedFS answers NotImplemented: its buckets are never public anyway.
    _unless_not_implemented(
        lambda: client.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK)
    )
    if cors_origins:
        configuration = {"CORSRules": cors_rules(cors_origins)}
        _while_new(lambda: client.put_bucket_cors(Bucket=bucket, CORSConfiguration=configuration), deadline)


def cors_rules(origins: Sequence[str]) -> list[dict]:
    """CORS rules for front ends on `origins`: a browser's direct upload (the presigned POST) may read S3's
    answer, and images may be fetched by script. Objects stay private: every GET still needs its signature."""
    return [
        {
            "AllowedOrigins": list(origins),
            "AllowedMethods": ["POST"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag", "Location"],
            "MaxAgeSeconds": 86400,
        },
        {
            "AllowedOrigins": list(origins),
            "AllowedMethods": ["GET", "HEAD"],
            "AllowedHeaders": ["*"],
            "MaxAgeSeconds": 86400,
        },
    ]


def _while_new(call, deadline: float) -> None:
    """Make a call on a bucket just created, again while the server does not know the bucket yet: SeaweedFS's
    S3 gateway can answer NoSuchBucket (or InternalError) for a moment after a CreateBucket it answered."""
    while True:
        try:
            call()
            return
        except ClientError as error:
            if s3_error_code(error) not in ("NoSuchBucket", "InternalError") or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def location_constraint(region: str | None) -> dict:
    """CreateBucket's region argument: S3 wants it for every region but us-east-1, and refuses it there."""
    if not region or region == "us-east-1":
        return {}
    return {"CreateBucketConfiguration": {"LocationConstraint": region}}


def _unless_not_implemented(call) -> None:
    """Make a bucket-settings call; a server without that setting (NotImplemented) is let be."""
    try:
        call()
    except ClientError as error:
        if s3_error_code(error) not in ("NotImplemented", "NotImplementedError"):
            raise


def anonymous_read_is_refused(
    client, bucket: str, probe_key: str = "properties/.private-check", timeout: float = 15.0
) -> bool:
    """Write a probe object, fetch it without a signature, delete it: True when S3 refused the fetch.

    SeaweedFS can answer InternalError to the first writes into a bucket it has just created: retry.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.put_object(Bucket=bucket, Key=probe_key, Body=b"private")  # no ACL: they may be disabled
            break
        except ClientError as error:
            if s3_error_code(error) != "InternalError" or time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    try:
        signed = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": probe_key}, ExpiresIn=60)
        bare_url = signed.split("?", 1)[0]
        return requests.get(bare_url, timeout=10).status_code in (401, 403)
    finally:
        client.delete_object(Bucket=bucket, Key=probe_key)
