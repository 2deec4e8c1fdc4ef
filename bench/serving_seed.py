"""The data section 6 serves (bench/serving.py), written alike into each server's database: the project's through
its own upload service, the reference's as rows pointing at the project's stored photos."""

from __future__ import annotations

import json
import os
from pathlib import Path

from bench.photos import photo_jpeg
from bench.project import Served, database_url, manage
from localdev.run import api_server_command

# A house of this many photos, for `secure_url` and the image list.
IMAGES = 50
# The house list's page: 20 of 25 houses with 30 photos each.
HOUSES, PHOTOS_PER_HOUSE, HOUSE_PAGE = 25, 30, 20
# The reorder of a house of this many photos, against that house's own answer (every image).
REORDERED_PHOTOS = 200

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
# only: a list signs URLs and never reads S3).
from django.contrib.contenttypes.models import ContentType
from property.variants import configured_variant_keys
from property.models import PropertyImage
kind = ContentType.objects.get_for_model(HouseForSale)
for number in range({houses}):
    listed = HouseForSale.objects.create(title=f"House {{number}}", address="2 Bench St", price=1, owner=user)
    rows = []
    for order in range({photos}):
        # A key of its own (as every stored photo has): signed URLs that repeat would compress unlike real ones.
        key = f"properties/houseforsale/{{listed.pk}}/20261202_120000_{{order:08x}}.jpg"
        variants = {{name: {{**keys, "width": 320, "height": 240}}
                    for name, keys in configured_variant_keys(key).items()}}
        rows.append(PropertyImage(content_type=kind, object_id=listed.pk, image=key, order=order, width=320,
                                  height=240, variants=variants, variants_status="ready", is_main=order == 3))
    PropertyImage.objects.bulk_create(rows)
# A house of {big} photos for the reorder, rows like the above.
big = HouseForSale.objects.create(title="Big house", address="3 Bench St", price=1, owner=user)
rows = []
for order in range({big}):
    key = f"properties/houseforsale/{{big.pk}}/20261202_120000_{{order:08x}}.jpg"
    variants = {{name: {{**keys, "width": 320, "height": 240}} for name, keys in configured_variant_keys(key).items()}}
    rows.append(PropertyImage(content_type=kind, object_id=big.pk, image=key, order=order, width=320, height=240,
                              variants=variants, variants_status="ready"))
big_ids = [row.pk for row in PropertyImage.objects.bulk_create(rows)]
print(json.dumps({{"token": str(RefreshToken.for_user(user).access_token), "property": house.pk,
                  "image": images[0].pk, "keys": [image.image.name for image in images],
                  "big_house": big.pk, "big_ids": big_ids}}))
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


def seeded_project(name: str, database: str, s3: dict[str, str], workdir: Path) -> Served:
    """The project as `make run` serves it, with its worker, on `database`."""
    environment = {**os.environ, **s3, "DATABASE_URL": database_url(database, workdir, f"alca_serving_{database}")}
    manage(environment, "migrate", "--noinput")
    seed = SEED_PROJECT.format(images=IMAGES, houses=HOUSES, photos=PHOTOS_PER_HOUSE, big=REORDERED_PHOTOS)
    seeded = json.loads(manage(environment, "shell", "-c", seed, stdin=photo_jpeg(320, 240)).strip().splitlines()[-1])
    return Served(name, api_server_command("PORT", dev=False), environment, seeded, worker=True)


def seeded_reference(keys: list[str], s3: dict[str, str], workdir: Path) -> Served:
    """The reference build on its own SQLite file, with rows for the project's stored photos `keys`."""
    environment = {
        **os.environ,
        **s3,
        "DJANGO_SETTINGS_MODULE": "bench.reference.settings",
        "REFERENCE_DATABASE_URL": f"sqlite:///{workdir}/reference.sqlite3",
    }
    manage(environment, "migrate", "--run-syncdb", "--noinput")
    seeded = manage(environment, "shell", "-c", SEED_REFERENCE, stdin=json.dumps(keys).encode())
    command = [*api_server_command("PORT", dev=False), "bench.reference.wsgi:application"]
    return Served("reference", command, environment, json.loads(seeded.strip().splitlines()[-1]), worker=False)
