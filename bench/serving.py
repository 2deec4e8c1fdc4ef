"""What `make run` serves against the guide-faithful django-storages build (bench/reference), side by side.

Both run under the same gunicorn settings (gunicorn.conf.py) on loopback, each on its own SQLite file, signing
for the same SeaweedFS. One client keeps one connection alive, as browsers and HTTP clients do, and the two
servers take turns: `secure_url` latency, and requests per second for a page of 50 images. Then the project's
house list, a page of 20 houses of 30 photos, as an index page asks for it and with `?include=images`.
Prints JSON.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench.load import manage
from bench.photos import photo_jpeg
from localdev.run import api_server_command
from localdev.s3server import LocalS3Server, free_port_with_grpc_twin

BASE_DIR = Path(__file__).resolve().parent.parent
BUCKET = "alca-serving"
IMAGES = 50
ROUNDS = 3
# The house list's page: 20 of 25 houses with 30 photos each.
HOUSES, PHOTOS_PER_HOUSE, HOUSE_PAGE = 25, 30, 20
HOUSE_LISTS = {
    "light": f"/api/houses-for-sale/?page_size={HOUSE_PAGE}",
    "gallery": f"/api/houses-for-sale/?page_size={HOUSE_PAGE}&include=images",
}

SEED_PROJECT = """
import json, sys
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework_simplejwt.tokens import RefreshToken
from property.models import HouseForSale
from property.services.uploads import property_images_store
photo = sys.stdin.buffer.read()
user = get_user_model().objects.create_user("bench-agent", password=None)
house = HouseForSale.objects.create(title="Bench house", address="1 Bench St", price=1, owner=user)
images = []
for start in range(0, {images}, 10):
    files = [SimpleUploadedFile(f"{{start + n}}.jpg", photo) for n in range(10)]
    images += property_images_store(house=house, files=files)
# An index page's data: {houses} houses of {photos} photos each, every photo with its three variants ready (rows
# only, on the stored keys: a list signs URLs and never reads S3).
from django.contrib.contenttypes.models import ContentType
from property.images import configured_variant_keys
from property.models import PropertyImage
kind = ContentType.objects.get_for_model(HouseForSale)
for number in range({houses}):
    listed = HouseForSale.objects.create(title=f"House {{number}}", address="2 Bench St", price=1, owner=user)
    rows = []
    for order in range({photos}):
        key = images[order % len(images)].image.name
        variants = {{name: {{"key": variant, "width": 320, "height": 240}}
                    for name, variant in configured_variant_keys(key).items()}}
        rows.append(PropertyImage(content_type=kind, object_id=listed.pk, image=key, order=order, width=320,
                                  height=240, variants=variants, variants_status="ready", is_main=order == 3))
    PropertyImage.objects.bulk_create(rows)
print(json.dumps({{"token": str(RefreshToken.for_user(user).access_token), "property": house.pk,
                  "image": images[0].pk, "keys": [image.image.name for image in images]}}))
"""

SEED_REFERENCE = """
import json, sys
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from rest_framework_simplejwt.tokens import RefreshToken
from bench.reference.models import PropertyImage
keys = json.load(sys.stdin)
user = get_user_model().objects.create_user("bench-agent", password=None)
house_type = ContentType.objects.get_for_model(get_user_model())  # any model: the reference only filters on it
images = PropertyImage.objects.bulk_create(
    PropertyImage(content_type=house_type, object_id=1, image=key, order=n) for n, key in enumerate(keys)
)
print(json.dumps({"token": str(RefreshToken.for_user(user).access_token), "property": 1, "image": images[0].pk}))
"""


class Served:
    """One API under gunicorn (the `make run` command line), with a keep-alive connection to it."""

    def __init__(self, name: str, command: list[str], environment: dict[str, str], seed: dict) -> None:
        self.name, self.seed = name, seed
        self.port = free_port_with_grpc_twin(set())
        command = [part.replace("PORT", str(self.port)) for part in command]
        self.process = subprocess.Popen(
            command, cwd=BASE_DIR, env={**environment, "GUNICORN_ACCESS_LOG": ""}, stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.get("/api/property-images/")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start") from None
                time.sleep(0.2)

    def get(self, path: str) -> bytes:
        try:
            self.connection.request("GET", path, headers={"Authorization": f"Bearer {self.seed['token']}"})
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError):
            # The server closed the connection while it sat idle (the other API's turn): open another, as
            # a browser does.
            self.connection.close()
            self.connection.request("GET", path, headers={"Authorization": f"Bearer {self.seed['token']}"})
            response = self.connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{self.name} {path}: HTTP {response.status} {body[:200]!r}")
        return body

    def latencies_ms(self, path: str, requests: int) -> list[float]:
        latencies = []
        for _ in range(requests):
            started = time.perf_counter()
            self.get(path)
            latencies.append((time.perf_counter() - started) * 1000)
        return latencies

    def requests_per_second(self, path: str, seconds: float) -> float:
        served, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            self.get(path)
            served += 1
        return served / (time.perf_counter() - started)

    def stop(self) -> None:
        self.connection.close()
        self.process.terminate()
        self.process.wait(timeout=30)


def main() -> dict:
    with tempfile.TemporaryDirectory(prefix="alca-serving-") as workdir:
        server = LocalS3Server(data_dir=Path(workdir) / "s3", access_key="serve-key", secret_key=secrets.token_hex(20))
        server.start()
        served: list[Served] = []
        try:
            server.ensure_private_bucket(BUCKET)
            s3 = {
                "AWS_ACCESS_KEY_ID": server.access_key,
                "AWS_SECRET_ACCESS_KEY": server.secret_key,
                "AWS_S3_ENDPOINT_URL": server.endpoint_url,
                "AWS_STORAGE_BUCKET_NAME": BUCKET,
                "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
                "DJANGO_LOG_LEVEL": "WARNING",
            }
            # The project as `make run` serves it: its settings' SQLite, gunicorn.conf.py.
            project_env = {**os.environ, **s3, "DATABASE_URL": f"sqlite:///{workdir}/project.sqlite3"}
            manage(project_env, "migrate", "--noinput")
            seed = SEED_PROJECT.format(images=IMAGES, houses=HOUSES, photos=PHOTOS_PER_HOUSE)
            seeded = manage(project_env, "shell", "-c", seed, stdin=photo_jpeg(320, 240))
            project_seed = json.loads(seeded.strip().splitlines()[-1])
            reference_env = {
                **os.environ,
                **s3,
                "DJANGO_SETTINGS_MODULE": "bench.reference.settings",
                "REFERENCE_DATABASE_URL": f"sqlite:///{workdir}/reference.sqlite3",
            }
            manage(reference_env, "migrate", "--run-syncdb", "--noinput")
            keys = json.dumps(project_seed["keys"]).encode()
            seeded = manage(reference_env, "shell", "-c", SEED_REFERENCE, stdin=keys)
            reference_seed = json.loads(seeded.strip().splitlines()[-1])
            project = Served("project", api_server_command("PORT", dev=False), project_env, project_seed)
            served.append(project)
            reference_command = [*api_server_command("PORT", dev=False), "bench.reference.wsgi"]
            reference = Served("reference", reference_command, reference_env, reference_seed)
            served.append(reference)
            paths = {
                project: (
                    f"/api/property-images/{project_seed['image']}/secure_url/",
                    f"/api/property-images/?content_type=house_for_sale&object_id={project_seed['property']}"
                    f"&page_size={IMAGES}",
                ),
                reference: (
                    f"/api/property-images/{reference_seed['image']}/secure_url/",
                    f"/api/property-images/?object_id=1&page_size={IMAGES}",
                ),
            }
            for api in served:  # the same answers, warm: connections, caches, the URL memo
                secure_url, listing = paths[api]
                assert len(json.loads(api.get(listing))["results"]) == IMAGES
                api.latencies_ms(secure_url, 50)
                api.requests_per_second(listing, 1.0)
            house_list_bytes = {name: len(project.get(path)) for name, path in HOUSE_LISTS.items()}
            house_list_ms: dict[str, list[float]] = {name: [] for name in HOUSE_LISTS}
            latencies: dict[str, list[float]] = {api.name: [] for api in served}
            throughput: dict[str, list[float]] = {api.name: [] for api in served}
            for _ in range(ROUNDS):  # taking turns, so that both meet the same machine
                for api in served:
                    secure_url, listing = paths[api]
                    api.get(secure_url)  # a connection closed while idle is opened again outside the timing
                    latencies[api.name] += api.latencies_ms(secure_url, 300)
                    throughput[api.name].append(api.requests_per_second(listing, 3.0))
                for name, path in HOUSE_LISTS.items():  # the project's house list, with and without ?include=images
                    project.get(path)
                    house_list_ms[name] += project.latencies_ms(path, 30)
        finally:
            for api in served:
                api.stop()
            server.stop()
    return {
        "images": IMAGES,
        **{f"{name}_secure_url_p50_ms": statistics.median(values) for name, values in latencies.items()},
        **{f"{name}_secure_url_p95_ms": statistics.quantiles(values, n=20)[18] for name, values in latencies.items()},
        **{f"{name}_list_rps": statistics.median(values) for name, values in throughput.items()},
        "house_page": {"houses": HOUSE_PAGE, "photos": PHOTOS_PER_HOUSE},
        **{f"house_list_{name}_bytes": size for name, size in house_list_bytes.items()},
        **{f"house_list_{name}_p50_ms": statistics.median(values) for name, values in house_list_ms.items()},
    }


if __name__ == "__main__":
    print(json.dumps(main()))
