"""S3 faults in the middle of use, with real servers: S3 hung (SIGSTOP: it accepts connections and answers
nothing), S3 refusing connections, S3 slow (through the latency proxy).

What needs S3 answers its documented 503 within the time budget; what does not need S3 goes on; once S3 is back
and the queue has run, the bucket and the rows agree. The default budget is checked against `make run` itself in
localdev/tests/test_run.py; here a smaller one keeps the suite quick.
"""

from __future__ import annotations

import io
import time
from contextlib import contextmanager

import pytest
import requests
from botocore.config import Config
from django.conf import settings
from django.core.management import call_command

from backend.env import s3_budget_timeouts
from backend.s3 import S3ImageService, S3StorageError
from bench.latency_proxy import LatencyProxy
from localdev.s3server import LocalS3Server
from property.models import PropertyImage
from property.tests.factories import HouseForSaleFactory
from testing import (
    image_bytes,
    jpeg_upload,
    manage_command,
    post_to_s3,
    run_queued_tasks,
    s3_environment,
    storage_on,
)

pytestmark = pytest.mark.django_db

BUCKET = "fault-bucket"
BUDGET = 6.0
# The request's own work on top of S3's: re-encoding the photos, the database.
WITHIN = BUDGET + 3


@pytest.fixture(scope="module")
def fault_server(tmp_path_factory):
    """A SeaweedFS of this module's own, which its tests hang, stop and start again (same ports, same data)."""
    server = LocalS3Server(
        data_dir=tmp_path_factory.mktemp("fault-s3"), access_key="fault-key", secret_key="fault-secret"
    )
    server.start()
    server.ensure_private_bucket(BUCKET)
    yield server
    server.stop(grace=0.5)


def budget_config(budget: float = BUDGET) -> Config:
    return settings.AWS_S3_CLIENT_CONFIG.merge(
        Config(**s3_budget_timeouts(budget, connect_timeout=1.0, max_attempts=2))
    )


@pytest.fixture
def s3(fault_server):
    """The private storage on the fault server, under a BUDGET-second budget; the server answers again after the
    test, with an empty bucket."""
    with storage_on(fault_server, BUCKET, AWS_S3_CLIENT_CONFIG=budget_config()):
        yield fault_server
    fault_server.resume()
    if fault_server.process is None or fault_server.process.poll() is not None:
        fault_server.start()
    client = fault_server.client()
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])


@contextmanager
def s3_fault(server: LocalS3Server, fault: str):
    """S3 hung or refusing connections for the block, and answering again after it."""
    if fault == "hung":
        server.hang()
        yield
        server.resume()
    else:
        server.stop(grace=0.5)
        yield
        server.start()


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def upload(client, house, count: int = 1):
    files = [jpeg_upload(f"photo{number}.jpg") for number in range(count)]
    return client.post(f"/api/houses-for-sale/{house.pk}/upload_images/", {"images": files}, format="multipart")


def assert_bucket_and_rows_agree(server: LocalS3Server) -> None:
    """Once S3 answers and the queue has run: no object without its row, no row without its object."""
    run_queued_tasks()
    keys = sorted(item["Key"] for item in server.client().list_objects_v2(Bucket=BUCKET).get("Contents", []))
    assert keys == sorted(key for image in PropertyImage.objects.all() for key in image.object_keys)
    out = io.StringIO()
    call_command("sweep_orphans", "--min-age", "0", stdout=out, stderr=io.StringIO())
    assert "Found 0 orphan objects and 0 orphan rows" in out.getvalue()


@pytest.mark.parametrize(("client", "tries"), [("storage", 2), ("health", 1)])
def test_a_call_to_a_hung_s3_is_tried_as_often_as_configured_then_given_up(s3, client, tries):
    service = S3ImageService()
    botocore_client = service.client if client == "storage" else service.storage.quick_client
    sent = []
    botocore_client.meta.events.register("before-send.s3", lambda request, **kwargs: sent.append(request.method))
    with s3_fault(s3, "hung"), pytest.raises(S3StorageError):
        if client == "storage":
            service.delete_many(["properties/any.jpg"])
        else:
            service.probe_bucket()
    assert len(sent) == tries


@pytest.mark.parametrize(("fault", "count"), [("hung", 1), ("hung", 10), ("refused", 1)])
def test_an_upload_answers_503_within_the_budget_and_leaves_nothing_once_s3_is_back(
    s3, owner_client, owner, fault, count
):
    house = HouseForSaleFactory(owner=owner)
    assert upload(owner_client, house).status_code == 201
    with s3_fault(s3, fault):
        response, took = timed(lambda: upload(owner_client, house, count))
        assert response.status_code == 503, response.content
        assert response.json() == {
            "error": "Could not store the images: the storage service is unavailable, please retry"
        }
        assert response["Retry-After"] == "10"
        assert took < WITHIN
        assert PropertyImage.objects.count() == 1
    assert_bucket_and_rows_agree(s3)
    assert upload(owner_client, house).status_code == 201


def test_complete_upload_answers_503_within_the_budget_and_completes_once_s3_is_back(s3, owner_client, owner):
    house = HouseForSaleFactory(owner=owner)
    target = {"content_type": "house_for_sale", "object_id": house.pk}
    issued = owner_client.post("/api/property-images/upload_url/", target, format="json").json()
    assert post_to_s3(issued, image_bytes()).status_code in (200, 201, 204)
    complete = {"key": issued["key"], **target}
    with s3_fault(s3, "hung"):
        response, took = timed(lambda: owner_client.post("/api/property-images/complete_upload/", complete))
        assert response.status_code == 503 and response["Retry-After"] == "10" and "error" in response.json()
        assert took < WITHIN
    completed = owner_client.post("/api/property-images/complete_upload/", complete, format="json")
    assert completed.status_code == 201
    assert_bucket_and_rows_agree(s3)


def test_what_needs_no_s3_goes_on_while_it_hangs_and_deletes_wait_for_it(
    s3, owner_client, owner, django_capture_on_commit_callbacks
):
    house = HouseForSaleFactory(owner=owner)
    first, second = upload(owner_client, house, 2).json()
    target = {"content_type": "house_for_sale", "object_id": house.pk}
    with s3_fault(s3, "hung"):
        answers = [
            timed(lambda: owner_client.get(f"/api/property-images/?object_id={house.pk}&content_type=house_for_sale")),
            timed(lambda: owner_client.get(f"/api/property-images/{first['id']}/")),
            timed(lambda: owner_client.get(f"/api/property-images/{first['id']}/secure_url/")),
            timed(lambda: owner_client.get(f"/api/houses-for-sale/{house.pk}/")),
            timed(lambda: owner_client.patch(f"/api/property-images/{first['id']}/set_as_main/")),
            timed(lambda: owner_client.post("/api/property-images/upload_url/", target, format="json")),
        ]
        with django_capture_on_commit_callbacks(execute=True):
            answers.append(timed(lambda: owner_client.delete(f"/api/property-images/{second['id']}/")))
        assert [response.status_code for response, _ in answers] == [200, 200, 200, 200, 200, 200, 204]
        assert max(took for _, took in answers) < 2  # signing is local; a delete leaves the objects to a worker
        health, took = timed(lambda: owner_client.get("/health/"))
        assert health.status_code == 503 and took < 5
    assert PropertyImage.objects.get().is_main
    assert_bucket_and_rows_agree(s3)


@pytest.fixture(scope="module")
def command_database(tmp_path_factory) -> str:
    database = f"sqlite:///{tmp_path_factory.mktemp('commands') / 'db.sqlite3'}"
    assert manage_command("migrate", DATABASE_URL=database).returncode == 0
    return database


# S3 refusing connections: test_commands.py.
@pytest.mark.parametrize("command", ["sweep_orphans", "ensure_bucket", "make_images_private"])
def test_a_command_with_s3_hung_ends_in_one_line_within_the_budget(s3, command, command_database):
    environment = {**s3_environment(s3, BUCKET), "S3_REQUEST_BUDGET": str(BUDGET), "AWS_S3_CONNECT_TIMEOUT": "1"}
    with s3_fault(s3, "hung"):
        result, took = timed(lambda: manage_command(command, DATABASE_URL=command_database, **environment))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "CommandError" in line]
    assert line.startswith("CommandError: S3 is unavailable:")
    assert took < WITHIN + 3  # and Django's start


def test_a_slow_s3_still_takes_uploads(s3, owner_client, owner):
    """150 ms each way between the API and S3: every call is slow, none is cut short."""
    proxy = LatencyProxy(upstream_port=s3.ports.s3, one_way_delay=0.15).start()
    try:
        slow = {"AWS_S3_ENDPOINT_URL": f"http://127.0.0.1:{proxy.port}"}
        with storage_on(s3, BUCKET, AWS_S3_CLIENT_CONFIG=budget_config(), **slow):
            house = HouseForSaleFactory(owner=owner)
            response = upload(owner_client, house, 3)
            assert response.status_code == 201, response.content
            for image in response.json():
                assert requests.get(image["secure_url"], timeout=10).status_code == 200
    finally:
        proxy.stop()
    assert_bucket_and_rows_agree(s3)
