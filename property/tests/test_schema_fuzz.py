"""Schemathesis against /api/schema/ with every check and every phase, as `schemathesis run` is run against
`make run` (the README shows how), here against the live test server: no 5xx, every answer within the schema,
schema-valid requests accepted and schema-violating ones refused, and the links from created resources followed.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from rest_framework.throttling import ScopedRateThrottle
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.transport.serialization import Binary

from property.services.uploads import property_images_store
from property.tests.factories import HouseForRentFactory, HouseForSaleFactory
from property.tests.fuzz_hooks import SENT_PHOTOS, as_judged, as_photos
from testing import BASE_DIR, jpeg_upload

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
PHASES = "examples,coverage,fuzzing,stateful"
# Bounded for CI; FUZZ_EXAMPLES=200 make test digs deeper, and FUZZ_SEED replays a run.
EXAMPLES = os.environ.get("FUZZ_EXAMPLES", "25")
SEED = os.environ.get("FUZZ_SEED", "20261125")


@pytest.fixture
def fuzzing_user(transactional_db, bucket_keys, django_user_model):
    """A staff user owning a house of each kind with an image, so that ids the fuzzer tries exist."""
    user = django_user_model.objects.create_user("fuzzer", password="fuzzer-password-123", is_staff=True)
    for house in (HouseForSaleFactory(owner=user), HouseForRentFactory(owner=user)):
        property_images_store(house=house, files=[jpeg_upload()])
    return user


@pytest.fixture
def token_throttle_lifted(monkeypatch):
    """The token endpoints take 20 requests a minute from one address, a share link's 60: enough for people, not
    for a fuzzer, which would then see only 429s and test none of their logic. The live server runs in this
    process."""
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"token": "100000/min", "shared": "100000/min"})


def test_schemathesis_with_every_check_and_phase_finds_no_failure(live_server, fuzzing_user, token_throttle_lifted):
    token = RefreshToken.for_user(fuzzing_user).access_token
    run = subprocess.run(
        [
            SCHEMATHESIS,
            "run",
            f"{live_server.url}/api/schema/",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "all",
            "--phases",
            PHASES,
            "--max-examples",
            EXAMPLES,
            "--seed",
            SEED,
            "--generation-database",
            "none",
            "--no-color",
        ],
        cwd=BASE_DIR,  # where schemathesis.toml loads the hooks that send real photos
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    # A run that tested nothing would also exit 0: it read the hooks, reached every operation, and ran the
    # phases (examples has nothing to run: the schema gives no examples).
    assert f"Configuration:    {BASE_DIR / 'schemathesis.toml'}" in run.stdout
    assert f"Tested: {operation_count(live_server.url)}\n" in run.stdout, run.stdout
    for phase in ("Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}\n" in run.stdout, run.stdout
    assert "Rate limited" not in run.stdout, run.stdout


def operation_count(server: str) -> int:
    schema = requests.get(f"{server}/api/schema/?format=json", timeout=10).json()
    return sum(method in HTTP_METHODS for operations in schema["paths"].values() for method in operations)


def test_the_hooks_make_photos_of_files_only():
    """What a `format: binary` string may be (bytes; text in the coverage phase) becomes a photo; a number or null
    in a file field is no file: it is judged invalid and sent as Schemathesis made it, for the server to refuse."""
    sent = as_photos([b"\x00\x01", Binary(b"GIF89a"), "", 400, None])
    assert all(isinstance(photo, Binary) and photo.data in SENT_PHOTOS for photo in sent[:3])
    assert sent[3:] == [400, None]
    assert as_photos(b"a") == as_photos(b"a")  # a replayed case sends the same photo
    assert as_judged([Binary(b"x"), "text", 400, None, {}]) == ["photo", "photo", 0, 0, 0]
