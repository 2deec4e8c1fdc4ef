"""Test session fixtures: a real SeaweedFS S3 server on free ports, a private bucket, users and JWT clients."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from django.test import override_settings
from PIL import Image
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from localdev.s3server import LocalS3Server

TEST_BUCKET = "alca-test"
BASE_DIR = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory):
    """SQLite tests use a database file, as `make run` does: an in-memory database shares one cache between
    connections and never waits for a lock, so concurrent writers would not meet as they do in production."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("sqlite") / "test.sqlite3")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """One SeaweedFS for the whole test session, on free loopback ports."""
    server = LocalS3Server(
        data_dir=tmp_path_factory.mktemp("seaweedfs"), access_key="test-access-key", secret_key="test-secret-key"
    )
    server.start()
    server.ensure_private_bucket(TEST_BUCKET)
    yield server
    server.stop()


def storage_on(server: LocalS3Server, bucket: str, **more_settings) -> override_settings:
    """Settings that point the private storage at `server`; changing STORAGES makes Django rebuild default_storage."""
    from django.conf import settings

    return override_settings(
        **{
            "STORAGES": {**settings.STORAGES},
            "AWS_ACCESS_KEY_ID": server.access_key,
            "AWS_SECRET_ACCESS_KEY": server.secret_key,
            "AWS_S3_ENDPOINT_URL": server.endpoint_url,
            "AWS_STORAGE_BUCKET_NAME": bucket,
            "AWS_S3_REGION_NAME": server.region,
            **more_settings,
        }
    )


def s3_environment(server: LocalS3Server, bucket: str) -> dict[str, str]:
    """The environment that points a process of its own (`manage.py`, the worker) at `server`."""
    return {
        "AWS_S3_ENDPOINT_URL": server.endpoint_url,
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "AWS_STORAGE_BUCKET_NAME": bucket,
    }


def manage_command(*args: str, **environment: str) -> subprocess.CompletedProcess:
    """`manage.py` in a process of its own, as a user runs it: this environment without the project's settings
    (DJANGO_*, DATABASE_URL, AWS_*, S3_*), a throwaway secret key, and `environment` on top."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "AWS_", "S3_"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**clean, "DJANGO_SECRET_KEY": "k" * 60, **environment},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="session", autouse=True)
def s3_settings(s3_server):
    with storage_on(s3_server, TEST_BUCKET):
        yield


@pytest.fixture
def s3_client(s3_server):
    return s3_server.client()


@pytest.fixture
def bucket_keys(s3_client):
    """A function listing every key in the test bucket, and an empty bucket after the test."""

    def list_keys(prefix: str = "") -> list[str]:
        keys = []
        for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=TEST_BUCKET, Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return sorted(keys)

    yield list_keys
    keys = list_keys()
    for start in range(0, len(keys), 1000):
        batch = [{"Key": key} for key in keys[start : start + 1000]]
        s3_client.delete_objects(Bucket=TEST_BUCKET, Delete={"Objects": batch, "Quiet": True})


@pytest.fixture(scope="session", autouse=True)
def caches_of_their_own(tmp_path_factory):
    """The file caches in a folder of the tests' own: `make test` beside `make run` neither clears its throttle
    counters (empty_cache) nor meets its versions and answers."""
    from django.conf import settings

    folder = tmp_path_factory.mktemp("caches")
    caches = {
        alias: {**config, "LOCATION": str(folder / alias)} if config["BACKEND"].endswith("FileBasedCache") else config
        for alias, config in settings.CACHES.items()
    }
    with override_settings(CACHES=caches):
        yield


@pytest.fixture(scope="session", autouse=True)
def lists_counted_every_time():
    """A test's writes never commit (pytest-django wraps each test in a transaction), so the versions that tell the
    lists' cached counts and the API's kept answers to take a write in (property/versions.py, renewed once a write
    commits) never move: counted and built every time here. test_list_counts and test_answers test both with
    committing tests; the servers the suite starts (test_run, bench) keep them on."""
    with override_settings(LIST_COUNT_CACHE_SECONDS=0, API_ANSWER_CACHE=False):
        yield


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """Real hashing costs ~0.2 s a user; the tests check authorisation, not the hasher."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


def image_bytes(
    image_format: str = "JPEG", size: tuple[int, int] = (64, 48), color=(200, 120, 40), **save_options
) -> bytes:
    """A real encoded image made with Pillow."""
    buffer = io.BytesIO()
    mode = "RGBA" if image_format == "PNG" else "RGB"
    Image.new(mode, size, color).save(buffer, format=image_format, **save_options)
    return buffer.getvalue()


@pytest.fixture
def make_user(django_user_model):
    def create(username: str = "agent", *, is_staff: bool = False):
        return django_user_model.objects.create_user(
            username=username, password="correct-horse-battery", is_staff=is_staff
        )

    return create


@pytest.fixture
def owner(make_user):
    return make_user("owner")


@pytest.fixture
def other_user(make_user):
    return make_user("stranger")


def jwt_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def owner_client(owner) -> APIClient:
    return jwt_client(owner)


@pytest.fixture
def other_client(other_user) -> APIClient:
    return jwt_client(other_user)


def colour_near(color: str, rgb: tuple[int, int, int], tolerance: int = 3) -> bool:
    """Whether a `#rrggbb` colour is within `tolerance` of `rgb` on each channel (JPEG shifts flat colours a little)."""
    channels = [int(color[index : index + 2], 16) for index in (1, 3, 5)]
    return len(color) == 7 and all(abs(got - want) <= tolerance for got, want in zip(channels, rgb, strict=True))


def three_photos(house) -> list:
    """Three small photos stored for `house`, in this order (the drag-and-drop tests move them)."""
    from property.services.uploads import property_images_store

    return property_images_store(
        house=house, files=[jpeg_upload(name) for name in ("salon.jpg", "cocina.jpg", "jardin.jpg")]
    )


def reorder_requests(page) -> list[str]:
    """The methods of the requests a browser page sends to a reorder_images endpoint from now on."""
    calls: list[str] = []
    page.on("request", lambda request: calls.append(request.method) if "/reorder_images/" in request.url else None)
    return calls


def jpeg_upload(name: str = "photo.jpg", size: tuple[int, int] = (64, 48)):
    """A real JPEG as a multipart upload."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, image_bytes("JPEG", size), content_type="image/jpeg")


def post_to_s3(
    upload: dict, payload: bytes, content_type: str = "image/jpeg", filename: str = "photo.jpg"
) -> requests.Response:
    """Send a file straight to S3 with a presigned POST (`upload_url`'s answer), as a browser form would."""
    return requests.post(
        upload["url"],
        data={**upload["fields"], "Content-Type": content_type},
        files={"file": (filename, payload, content_type)},
        timeout=10,
    )


def presigned_url_lifetime(url: str) -> float:
    """Seconds from now until a SigV4 presigned URL expires."""
    from datetime import UTC, datetime
    from urllib.parse import parse_qs, urlsplit

    query = parse_qs(urlsplit(url).query)
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return signed_at.timestamp() + int(query["X-Amz-Expires"][0]) - datetime.now(UTC).timestamp()


@pytest.fixture(autouse=True)
def empty_cache():
    """Throttle counters and token users live in caches: each test starts with none."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()
    yield
    for cache in caches.all():
        cache.clear()


def make_variants_now(*images) -> None:
    """Run the variants task of each image here, now, and reload the image: the task function itself, for tests
    of what it makes (test_tasks runs it through the real queues and workers)."""
    from property.tasks import make_image_variants

    for image in images:
        make_image_variants.call(image.pk)
        image.refresh_from_db()


def run_queued_tasks() -> int:
    """Run every task the database queue holds ready, here and now, through db_worker's own `Worker.run_task`
    (a worker process would not see this test's transaction); how many ran. test_tasks runs the worker command."""
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    )
    ran = 0
    while (task_result := DBTaskResult.objects.ready().first()) is not None:
        task_result.claim(worker.worker_id)
        worker.run_task(task_result)
        ran += 1
    return ran


# What a ready image keeps in the bucket: its original, and three sizes in WebP and in AVIF.
OBJECTS_PER_IMAGE = 7


def object_keys(*images) -> list[str]:
    """Every object key of these images, their size variants included, sorted like bucket_keys()."""
    return sorted(key for image in images for key in image.object_keys)


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **kwargs):
        yield self.body


def s3_error_answer(request, *, status: int, code: str, message: str):
    """The response S3 gives for an error, built here instead of sent: see the fault injectors below."""
    from botocore.awsrequest import AWSResponse

    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>'
    ).encode()
    return AWSResponse(request.url, status, {"Content-Type": "application/xml"}, _RawBody(body))


@contextmanager
def s3_event_handler(client, event: str, handler):
    """`handler` on `client`'s botocore event `event` (e.g. `before-send.s3.PutObject`) for the block."""
    client.meta.events.register(event, handler)
    try:
        yield
    finally:
        client.meta.events.unregister(event, handler)


def object_writer():
    """The client the default storage writes objects with: django-storages uploads through its one shared
    Bucket, whatever thread does the upload."""
    from backend.s3 import S3ImageService

    return S3ImageService().storage.bucket.meta.client


@contextmanager
def acls_refused(client):
    """Make `client`'s bucket answer like an AWS bucket with ACLs disabled (Object Ownership "bucket owner
    enforced"): any request carrying an ACL gets 400 AccessControlListNotSupported.

    A stand-in for one fault the real server cannot produce: SeaweedFS stores that ownership setting but
    never enforces it. Only requests with an ACL are answered here; the others go to the real server.
    Yields the ACL each request carried (None for none), in order.
    """
    sent_acls = []

    def answer(request, **kwargs):
        acl = request.headers.get("x-amz-acl")
        sent_acls.append(acl.decode() if isinstance(acl, bytes) else acl)
        if acl is None:
            return None
        return s3_error_answer(
            request, status=400, code="AccessControlListNotSupported", message="The bucket does not allow ACLs"
        )

    with s3_event_handler(client, "before-send.s3", answer):
        yield sent_acls


@contextmanager
def puts_denied(client, *, key_suffix: str):
    """Answer 403 AccessDenied to every PutObject of a key ending in `key_suffix`, as a bucket policy
    denying those keys would.

    A stand-in for a fault the shared test server cannot be given for one key at one moment: a write that
    fails partway through a series of uploads. Every other request goes to the real server.
    """

    def answer(request, **kwargs):
        if request.method != "PUT" or not request.url.split("?", 1)[0].endswith(key_suffix):
            return None
        return s3_error_answer(request, status=403, code="AccessDenied", message="Access Denied")

    with s3_event_handler(client, "before-send.s3.PutObject", answer):
        yield


# A real headless Chromium for the browser tests (the admin's, CORS): Debian's, which .ci/run installs.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_MISSING = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"no Chromium at {CHROMIUM}: apt-get install chromium chromium-driver (.ci/run does)",
)
ARTIFACTS = BASE_DIR / "test-artifacts"  # screenshots the browser tests save
# Without the background-networking flags Chromium keeps trying to reach the internet here.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@contextmanager
def static_site(directory: Path):
    """A front end's origin: a plain HTTP server on a free loopback port, serving `directory`."""
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chromium_page():
    """A page in headless Chromium. Open it after the test's database work: Playwright runs an event
    loop in this thread, and Django refuses ORM calls while one is running."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 1000})
        finally:
            browser.close()


@pytest.fixture(scope="session")
def cloudfront_keys() -> dict[str, str]:
    """Two RSA key pairs, as a CloudFront key group holds during a key rotation: {key id: private key PEM}."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    def pem() -> str:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        ).decode()

    return {"K2JCJMDEHXQW5F": pem(), "K3NEWROTATED01": pem()}


def cloudfront_settings(keys: dict[str, str], *, active: str | None = None, **more) -> override_settings:
    """The storage with CloudFront on (the first key pair, plus the second for rotation), built anew."""
    from django.conf import settings

    (first_id, first_key), (second_id, second_key) = keys.items()
    return override_settings(
        **{
            "STORAGES": {**settings.STORAGES},  # a new storage reads them
            "AWS_S3_CUSTOM_DOMAIN": "d111111abcdef8.cloudfront.net",
            "AWS_CLOUDFRONT_KEY_ID": first_id,
            "AWS_CLOUDFRONT_KEY": first_key,
            "AWS_CLOUDFRONT_SECOND_KEY_ID": second_id,
            "AWS_CLOUDFRONT_SECOND_KEY": second_key,
            "AWS_CLOUDFRONT_ACTIVE_KEY_ID": active or first_id,
            **more,
        }
    )


def cloudfront_verified(policy: str, signature: str, private_pem: str) -> bool:
    """Whether `signature` (CloudFront's URL-safe base64) verifies over `policy` with the key pair's public key."""
    import base64

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    key = serialization.load_pem_private_key(private_pem.encode(), password=None).public_key()
    raw = base64.b64decode(signature.replace("-", "+").replace("_", "=").replace("~", "/"))
    try:
        key.verify(raw, policy.encode(), padding.PKCS1v15(), hashes.SHA1())  # noqa: S303 - CloudFront's
    except InvalidSignature:
        return False
    return True


def cloudfront_url_policy(url: str) -> tuple[str, dict[str, str]]:
    """The canned policy a CloudFront signed URL was signed over, and its query parameters."""
    import json
    from urllib.parse import parse_qsl, urlsplit

    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    resource = f"{parts.scheme}://{parts.netloc}{parts.path}"
    statement = {"Resource": resource, "Condition": {"DateLessThan": {"AWS:EpochTime": int(query["Expires"])}}}
    return json.dumps({"Statement": [statement]}, separators=(",", ":")), query


# The reference ThumbHash implementation (Evan Wallace's thumbhash.js, from npm: `make test` installs it), run by
# Node: encodes {"encode": [width, height, rgba base64]} and decodes {"decode": hash base64} to the width, height
# and mean RGBA of the placeholder it paints.
_THUMBHASH_REFERENCE = """
import {readFileSync} from "node:fs";
import {rgbaToThumbHash, thumbHashToRGBA} from "THUMBHASH_JS";
const answers = JSON.parse(readFileSync(0, "utf8")).map((request) => {
  if (request.encode) {
    const [w, h, rgba] = request.encode;
    return Buffer.from(rgbaToThumbHash(w, h, Buffer.from(rgba, "base64"))).toString("base64");
  }
  const {w, h, rgba} = thumbHashToRGBA(Buffer.from(request.decode, "base64"));
  const mean = [0, 0, 0, 0];
  for (let i = 0; i < rgba.length; i++) mean[i % 4] += rgba[i] / (w * h);
  return {w, h, mean};
});
process.stdout.write(JSON.stringify(answers));
"""


def thumbhash_reference(requests_: list[dict]) -> list:
    """Ask the reference ThumbHash implementation, in one Node run, for each request's answer."""
    import json

    module = BASE_DIR / "node_modules" / "thumbhash" / "thumbhash.js"
    assert module.exists(), "make test installs the reference thumbhash (npm ci)"
    run = subprocess.run(
        ["node", "--input-type=module", "-e", _THUMBHASH_REFERENCE.replace("THUMBHASH_JS", module.as_posix())],
        input=json.dumps(requests_),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)
