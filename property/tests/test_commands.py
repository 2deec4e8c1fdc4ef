"""Management commands against the real S3 server: ensure_bucket, make_images_private, sweep_orphans."""

import io
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from property.models import HouseForSale, PropertyImage, StagedUploadClaim
from property.services.uploads import property_images_store
from property.tests.factories import HouseForSaleFactory
from testing import (
    OBJECTS_PER_IMAGE,
    TEST_BUCKET,
    acls_refused,
    jpeg_upload,
    make_variants_now,
    manage_command,
    object_keys,
    s3_event_handler,
)

pytestmark = pytest.mark.django_db


def run(command: str, *args) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_ensure_bucket_creates_a_missing_private_bucket(s3_client, settings):
    from django.test import override_settings

    with override_settings(STORAGES={**settings.STORAGES}, AWS_STORAGE_BUCKET_NAME="fresh-bucket"):
        output = run("ensure_bucket")
    assert "fresh-bucket" in [bucket["Name"] for bucket in s3_client.list_buckets()["Buckets"]]
    assert "Anonymous GET of an object is refused" in output
    assert s3_client.list_objects_v2(Bucket="fresh-bucket").get("KeyCount", 0) == 0  # the probe is gone
    ownership = s3_client.get_bucket_ownership_controls(Bucket="fresh-bucket")["OwnershipControls"]
    assert ownership == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}  # ACLs disabled
    s3_client.delete_bucket(Bucket="fresh-bucket")


def test_ensure_bucket_on_an_existing_bucket_is_harmless(bucket_keys):
    assert "private" in run("ensure_bucket")
    assert bucket_keys() == []


@pytest.fixture
def acl_calls():
    """SeaweedFS ignores ACLs: record what our code asks for instead."""
    calls = []

    def record(params, **kwargs):
        calls.append((params["Key"], params.get("ACL")))

    with s3_event_handler(default_storage.connection.meta.client, "before-parameter-build.s3.PutObjectAcl", record):
        yield calls


def test_make_images_private_dry_run_counts_and_changes_nothing(bucket_keys, acl_calls):
    make_variants_now(*property_images_store(house=HouseForSaleFactory(), files=[jpeg_upload(), jpeg_upload()]))
    output = run("make_images_private")
    objects = 2 * OBJECTS_PER_IMAGE  # each image's original and its variants
    assert f"Would set private (dry run; --apply to change): {objects} objects" in output
    assert acl_calls == []


def test_make_images_private_apply_sets_each_object_private(bucket_keys, acl_calls, s3_client):
    images = property_images_store(house=HouseForSaleFactory(), files=[jpeg_upload(), jpeg_upload()])
    make_variants_now(*images)
    s3_client.put_object(Bucket=TEST_BUCKET, Key="elsewhere/other.jpg", Body=b"x")
    output = run("make_images_private", "--apply")
    assert f"Set private: {2 * OBJECTS_PER_IMAGE} objects" in output
    assert sorted(acl_calls) == [(key, "private") for key in object_keys(*images)]


def test_make_images_private_on_a_bucket_with_acls_disabled_explains_and_changes_nothing(bucket_keys):
    images = property_images_store(house=HouseForSaleFactory(), files=[jpeg_upload()])
    with acls_refused(default_storage.connection.meta.client) as sent_acls:
        output = run("make_images_private", "--apply")
    assert "has ACLs disabled (Object Ownership: bucket owner enforced)" in output
    assert "nothing to change" in output and "Set private" not in output
    assert "private" in sent_acls  # it tried once, was refused, and stopped
    assert bucket_keys() == object_keys(*images)


@pytest.fixture
def orphans(bucket_keys, s3_client):
    house = HouseForSaleFactory()
    kept, lost = property_images_store(house=house, files=[jpeg_upload(), jpeg_upload()])
    make_variants_now(kept, lost)
    for key in lost.object_keys:  # a row whose objects are missing
        s3_client.delete_object(Bucket=TEST_BUCKET, Key=key)
    s3_client.put_object(Bucket=TEST_BUCKET, Key="properties/houseforsale/99/stray.jpg", Body=b"x")
    return kept, lost


def test_sweep_orphans_reports_without_deleting_by_default(orphans, bucket_keys):
    _kept, lost = orphans
    output = run("sweep_orphans", "--min-age", "0")
    assert "object without a row: properties/houseforsale/99/stray.jpg" in output
    assert f"row without an object: image {lost.pk}" in output
    assert "Found 1 orphan objects and 1 orphan rows" in output
    assert "properties/houseforsale/99/stray.jpg" in bucket_keys()
    assert PropertyImage.objects.filter(pk=lost.pk).exists()


def test_sweep_orphans_delete_removes_both_kinds_and_keeps_the_rest(orphans, bucket_keys):
    kept, _lost = orphans
    output = run("sweep_orphans", "--delete", "--min-age", "0")
    assert "Deleted 1 orphan objects and 1 orphan rows" in output
    assert bucket_keys() == object_keys(kept)
    assert list(PropertyImage.objects.all()) == [kept]


def test_sweep_orphans_spares_young_objects_that_may_be_uploads_in_flight(orphans, bucket_keys):
    output = run("sweep_orphans", "--delete")  # default --min-age: one hour
    assert "Deleted 0 orphan objects" in output
    assert "properties/houseforsale/99/stray.jpg" in bucket_keys()


def test_sweep_orphans_removes_stale_direct_upload_staging_objects(bucket_keys, s3_client):
    s3_client.put_object(Bucket=TEST_BUCKET, Key="uploads/7/" + "b" * 32, Body=b"abandoned")
    assert "Deleted 0 orphan objects" in run("sweep_orphans", "--delete")  # younger than a day: kept
    assert bucket_keys("uploads/") == ["uploads/7/" + "b" * 32]
    assert "Deleted 1 orphan objects" in run("sweep_orphans", "--delete", "--staging-max-age", "0")
    assert bucket_keys("uploads/") == []


def test_sweep_orphans_deletes_claims_of_direct_uploads_completed_over_a_day_ago(bucket_keys):
    image, recent = property_images_store(house=HouseForSaleFactory(), files=[jpeg_upload(), jpeg_upload()])
    old = StagedUploadClaim.objects.create(key="uploads/7/" + "a" * 32, image=image)
    StagedUploadClaim.objects.filter(pk=old.pk).update(claimed_at=timezone.now() - timedelta(days=1, seconds=1))
    kept = StagedUploadClaim.objects.create(key="uploads/7/" + "b" * 32, image=recent)
    assert "Found 1 claims of direct uploads completed over a day ago" in run("sweep_orphans")
    assert StagedUploadClaim.objects.count() == 2  # a dry run deletes nothing
    assert "Deleted 1 claims of direct uploads completed over a day ago" in run("sweep_orphans", "--delete")
    assert list(StagedUploadClaim.objects.all()) == [kept]


@pytest.mark.parametrize("command", ["sweep_orphans", "ensure_bucket", "make_images_private"])
def test_a_command_with_s3_down_says_so_in_one_line_and_exits_non_zero(command, tmp_path):
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    assert manage_command("migrate", LOCAL_DATA_DIR=str(tmp_path), DATABASE_URL=database).returncode == 0
    s3_down = {"AWS_S3_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
    result = manage_command(command, LOCAL_DATA_DIR=str(tmp_path), DATABASE_URL=database, **s3_down)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "CommandError" in line]
    assert line.startswith("CommandError: S3 is unavailable:") and "EndpointConnectionError" in line


@pytest.mark.parametrize("command", ["sweep_orphans", "rebuild_variants", "enqueue_pending_variants"])
def test_a_command_with_the_database_down_says_so_in_one_line_and_exits_non_zero(command, tmp_path):
    result = manage_command(command, LOCAL_DATA_DIR=str(tmp_path), DATABASE_URL="postgres://postgres@127.0.0.1:9/alca")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "CommandError" in line]
    assert line.startswith("CommandError: The database is unavailable:") and "OperationalError" in line


def test_ensure_bucket_lets_the_allowed_front_ends_post_photos_to_the_bucket(s3_client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://www.example.com"]
    output = run("ensure_bucket")
    assert "Pages on https://www.example.com may post photos to it" in output
    rules = s3_client.get_bucket_cors(Bucket=TEST_BUCKET)["CORSRules"]
    assert {origin for rule in rules for origin in rule["AllowedOrigins"]} == {"https://www.example.com"}
    s3_client.delete_bucket_cors(Bucket=TEST_BUCKET)


@pytest.mark.django_db(transaction=True)
def test_housekeeping_forgets_task_results_finished_over_a_day_ago_and_enqueues_lost_variants(owner, bucket_keys):
    from django_tasks_db.models import DBTaskResult

    lost, _ = property_images_store(house=HouseForSaleFactory(owner=owner), files=[jpeg_upload(), jpeg_upload()])
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)
    PropertyImage.objects.filter(pk=lost.pk).update(
        variants_status="pending", variants_requested_at=timezone.now() - timedelta(hours=1)
    )
    old, recent = DBTaskResult.objects.order_by("enqueued_at")
    DBTaskResult.objects.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(days=1, minutes=1))

    output = run("housekeeping")

    assert "Enqueued again the variants of 1 images" in output
    assert "Forgot the task results finished over 1 days ago." in output
    remaining = set(DBTaskResult.objects.values_list("pk", flat=True))
    assert old.pk not in remaining and recent.pk in remaining  # and the lost image's new task waits
    assert DBTaskResult.objects.ready().count() == 1


def test_sweep_orphans_walks_keys_in_byte_order_whatever_the_database_collates(bucket_keys, s3_client):
    """Rows and objects are compared as two sorted walks: keys that a language's collation orders otherwise
    (upper case before lower, `10/` before `9/`), rows sharing an original, and strays between a row's original
    and its variants are each found once."""
    kind = ContentType.objects.get_for_model(HouseForSale)
    folder = "properties/houseforsale/"
    rows = {"10/B": True, "10/a": True, "9/c": False, "100/s": True}  # stem -> whether its objects are there
    for stem, stored in [*rows.items(), ("100/s", True)]:
        variants = {"thumbnail": {"key": f"{folder}{stem}_320w.webp", "avif_key": f"{folder}{stem}_320w.avif"}}
        PropertyImage.objects.create(
            content_type=kind, object_id=1, image=f"{folder}{stem}.jpg", variants=variants, variants_status="ready"
        )
        if stored:
            for key in (f"{folder}{stem}.jpg", *variants["thumbnail"].values()):
                s3_client.put_object(Bucket=TEST_BUCKET, Key=key, Body=b"x")
    strays = [f"{folder}10/B.jpg.bak", f"{folder}0/z.jpg", "properties/zzz.jpg"]
    for key in strays:
        s3_client.put_object(Bucket=TEST_BUCKET, Key=key, Body=b"x")
    output = run("sweep_orphans", "--min-age", "0")
    assert sorted(line.split(": ")[1] for line in output.splitlines() if line.startswith("object without")) == sorted(
        strays
    )
    (lost,) = PropertyImage.objects.filter(image=f"{folder}9/c.jpg")
    assert [line for line in output.splitlines() if line.startswith("row without")] == [
        f"row without an object: image {lost.pk} ({folder}9/c.jpg)"
    ]
