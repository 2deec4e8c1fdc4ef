"""Bucket set-up against the real S3 server: created private with ACLs disabled, in the client's region."""

import secrets

import boto3
import requests
from botocore.config import Config

from backend.buckets import anonymous_read_is_refused, cors_rules, ensure_private_bucket, location_constraint
from localdev.s3server import LocalS3Server
from testing import TEST_BUCKET, s3_error_answer, s3_event_handler

ACLS_DISABLED = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


def recorded(client, event: str) -> list[dict]:
    """The parameters of each call of one operation that `client` makes from now on."""
    calls = []
    client.meta.events.register(f"before-parameter-build.s3.{event}", lambda params, **kwargs: calls.append(params))
    return calls


def new_bucket_name() -> str:
    return f"bucket-{secrets.token_hex(4)}"


def test_a_new_bucket_is_created_without_an_acl_and_with_acls_disabled(s3_server: LocalS3Server):
    client = s3_server.client()
    bucket = new_bucket_name()
    creations = recorded(client, "CreateBucket")
    ensure_private_bucket(client, bucket)
    assert [sorted(params) for params in creations] == [["Bucket"]]  # no ACL, no region: this one is us-east-1
    assert client.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"] == ACLS_DISABLED
    ensure_private_bucket(client, bucket)  # idempotent: the second call creates nothing
    assert len(creations) == 1
    client.delete_bucket(Bucket=bucket)


def test_an_existing_bucket_keeps_its_object_ownership(s3_server: LocalS3Server):
    client = s3_server.client()
    bucket = new_bucket_name()
    client.create_bucket(Bucket=bucket)
    writer_owned = {"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    client.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=writer_owned)
    ensure_private_bucket(client, bucket)
    assert client.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"] == writer_owned
    client.delete_bucket(Bucket=bucket)


def test_outside_us_east_1_the_bucket_is_created_in_the_clients_region(s3_server: LocalS3Server):
    assert location_constraint("us-east-1") == {} and location_constraint(None) == {}
    client = boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint_url,
        aws_access_key_id=s3_server.access_key,
        aws_secret_access_key=s3_server.secret_key,
        region_name="eu-west-1",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    bucket = new_bucket_name()
    creations = recorded(client, "CreateBucket")
    ensure_private_bucket(client, bucket)
    assert creations[0]["CreateBucketConfiguration"] == {"LocationConstraint": "eu-west-1"}
    client.delete_bucket(Bucket=bucket)


def test_the_private_check_writes_its_probe_without_an_acl(s3_server: LocalS3Server, bucket_keys):
    client = s3_server.client()
    puts = recorded(client, "PutObject")
    assert anonymous_read_is_refused(client, TEST_BUCKET)
    assert puts and all("ACL" not in params for params in puts)
    assert bucket_keys() == []  # the probe is gone


def test_a_new_bucket_the_server_does_not_know_yet_gets_its_settings_once_it_does(s3_server: LocalS3Server):
    """SeaweedFS's S3 gateway sometimes answers NoSuchBucket to the first call after a CreateBucket it answered.
    That moment cannot be brought about on purpose: the first PutBucketOwnershipControls is answered as it
    answers then (conftest's s3_error_answer), the next ones go to the real server."""
    client = s3_server.client()
    bucket = new_bucket_name()
    answered = []

    def not_known_yet(request, **kwargs):
        if answered:
            return None
        answered.append(request.url)
        return s3_error_answer(request, status=404, code="NoSuchBucket", message="The specified bucket does not exist")

    ownership = recorded(client, "PutBucketOwnershipControls")
    with s3_event_handler(client, "before-send.s3.PutBucketOwnershipControls", not_known_yet):
        ensure_private_bucket(client, bucket)
    assert len(answered) == 1 and len(ownership) == 2  # refused once, then set
    assert client.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"] == ACLS_DISABLED
    client.delete_bucket(Bucket=bucket)


def preflight(server: LocalS3Server, bucket: str, origin: str) -> requests.Response:
    return requests.options(
        f"{server.endpoint_url}/{bucket}/uploads/1/{'a' * 32}",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        timeout=10,
    )


def test_front_ends_on_the_allowed_origins_may_post_to_the_bucket_and_others_may_not(s3_server: LocalS3Server):
    client = s3_server.client()
    bucket = new_bucket_name()
    ensure_private_bucket(client, bucket, cors_origins=["http://localhost:5173"])
    assert client.get_bucket_cors(Bucket=bucket)["CORSRules"] == cors_rules(["http://localhost:5173"])
    allowed = preflight(s3_server, bucket, "http://localhost:5173")
    assert allowed.status_code == 200 and allowed.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert "Access-Control-Allow-Origin" not in preflight(s3_server, bucket, "https://evil.example").headers
    ensure_private_bucket(client, bucket)  # without origins the rules an operator set are left alone
    assert client.get_bucket_cors(Bucket=bucket)["CORSRules"] == cors_rules(["http://localhost:5173"])
    client.delete_bucket(Bucket=bucket)
