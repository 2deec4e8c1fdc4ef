"""Clients generated from the live schema, as integration developers make them: openapi-python-client's package
imports and drives the guide's whole flow with every answer parsed into its model; the gallery page's calls
type-check (tsc --strict) against openapi-typescript's types of the same schema."""

import importlib
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.core.cache import caches

from testing import BASE_DIR, image_bytes

pytestmark = pytest.mark.django_db(transaction=True)

GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture
def generated_client(live_server, tmp_path, monkeypatch):
    """The package openapi-python-client generates from the live server's schema, imported."""
    config = tmp_path / "generator.yaml"
    # The README's settings, without the generator's formatting hooks (ruff on the generated package).
    config.write_text((BASE_DIR / "examples" / "openapi-python-client.yaml").read_text() + "post_hooks: []\n")
    run = subprocess.run(
        [
            GENERATOR,
            "generate",
            "--url",
            f"{live_server.url}/api/schema/",
            "--meta",
            "none",
            "--config",
            str(config),
            "--output-path",
            str(tmp_path / "alca_client"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    # The generator says so when it had to leave an operation or a model out.
    assert "Warning" not in run.stdout + run.stderr, run.stdout + run.stderr
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module("alca_client")
    for name in [name for name in sys.modules if name == "alca_client" or name.startswith("alca_client.")]:
        del sys.modules[name]


def operation(name: str):
    """A generated operation's module, e.g. `property_images.property_images_list`."""
    return importlib.import_module(f"alca_client.api.{name}")


def model(name: str):
    return getattr(importlib.import_module("alca_client.models"), name)


def photo(name: str = "photo.jpg"):
    from alca_client.types import File

    return File(payload=io.BytesIO(image_bytes("JPEG", (96, 64))), file_name=name, mime_type="image/jpeg")


def test_the_generated_python_client_has_few_models_and_three_error_bodies(generated_client):
    package = Path(generated_client.__file__).parent
    models = [path.stem for path in (package / "models").glob("*.py") if path.stem != "__init__"]
    errors = [name for name in models if name.startswith(("error", "detail", "validation_error"))]
    # 41 since photos' category (one enum, shared by bodies and the filter); 48 with share links (a link as made
    # and as listed, its body, and the shared house with its photos and their sizes); 55 with the feed of changes
    # (its page, an entry, the two shapes of a house in it, the snapshot's lists, what changed and how)
    assert len(models) <= 55, models
    assert [name for name in models if "category" in name] == ["category_enum"]
    assert sorted(errors) == ["detail", "error", "validation_error", "validation_error_additional_property_type_1"]


def test_the_guides_flow_through_the_generated_python_client(generated_client, live_server, make_user, bucket_keys):
    caches["default"].clear()  # the token throttle's counts of other tests
    make_user("agent")
    make_user("stranger")
    from alca_client import AuthenticatedClient, Client

    anonymous = Client(base_url=live_server.url, raise_on_unexpected_status=True)
    token_create = operation("token.token_create")
    tokens = token_create.sync(
        client=anonymous, body=model("TokenObtainPairRequest")(username="agent", password="correct-horse-battery")
    )
    assert isinstance(tokens, model("TokenObtainPair"))
    agent = AuthenticatedClient(base_url=live_server.url, token=tokens.access, raise_on_unexpected_status=True)
    stranger_tokens = token_create.sync(
        client=anonymous, body=model("TokenObtainPairRequest")(username="stranger", password="correct-horse-battery")
    )
    stranger = AuthenticatedClient(
        base_url=live_server.url, token=stranger_tokens.access, raise_on_unexpected_status=True
    )

    # The feed of changes, from now: what follows comes back in it.
    feed = operation("changes.changes_list")
    started = feed.sync(client=agent)
    assert isinstance(started, model("ChangesPage")) and started.results == [] and started.snapshot.houses_for_sale

    # Houses of both kinds.
    house = operation("houses_for_sale.houses_for_sale_create").sync(
        client=agent,
        body=model("HouseForSaleRequest")(
            title="Villa",
            address="Calle del Mar 12",
            city="Alicante",
            price="450000.00",
            bedrooms=4,
            bathrooms=3,
            area="210.50",
        ),
    )
    assert isinstance(house, model("HouseForSale")) and house.id
    rental = operation("houses_for_rent.houses_for_rent_create").sync(
        client=agent,
        body=model("HouseForRentRequest")(
            title="Flat",
            address="Avenida 3",
            city="Alicante",
            monthly_rent="950.00",
            bedrooms=2,
            bathrooms=1,
            area="75.00",
        ),
    )
    assert isinstance(rental, model("HouseForRent")) and rental.id

    # Uploads: to a house, and in bulk to the rental.
    uploaded = operation("houses_for_sale.houses_for_sale_upload_images_create").sync(
        client=agent,
        id=house.id,
        body=model("ImageUploadRequest")(images=[photo("a.jpg"), photo("b.jpg")], caption="Pool", is_main=True),
    )
    assert [type(image) for image in uploaded] == [model("PropertyImage")] * 2
    assert (uploaded[0].caption, uploaded[0].is_main, uploaded[0].width) == ("Pool", True, 96)
    bulk = operation("property_images.property_images_bulk_upload_create").sync(
        client=agent,
        body=model("BulkImageUploadRequest")(
            images=[photo("c.jpg")], content_type=model("ContentTypeEnum").HOUSE_FOR_RENT, object_id=rental.id
        ),
    )
    assert len(bulk) == 1 and bulk[0].object_id == rental.id

    # A bad upload: a text file is refused, its error parsed, nothing stored.
    from alca_client.types import File

    refused = operation("houses_for_sale.houses_for_sale_upload_images_create").sync(
        client=agent,
        id=house.id,
        body=model("ImageUploadRequest")(
            images=[File(payload=io.BytesIO(b"not a photo"), file_name="notes.jpg", mime_type="image/jpeg")]
        ),
    )
    assert isinstance(refused, model("Error") | model("ValidationError")), refused
    assert len(bucket_keys()) == 3

    # secure_url, and the photo it points to.
    secure = operation("property_images.property_images_secure_url_retrieve").sync(
        client=agent, id=uploaded[1].id, expiration=600
    )
    assert isinstance(secure, model("SecureUrl")) and (secure.image_id, secure.expires_in) == (uploaded[1].id, 600)
    fetched = requests.get(secure.secure_url, timeout=10)
    assert (fetched.status_code, fetched.headers["Content-Type"], fetched.content[:2]) == (
        200,
        "image/jpeg",
        b"\xff\xd8",
    )

    # Filtered lists.
    listed = operation("property_images.property_images_list").sync(
        client=agent, content_type=model("ContentTypeEnum").HOUSE_FOR_SALE, object_id=house.id
    )
    assert isinstance(listed, model("PaginatedPropertyImageList"))
    assert (listed.count, [image.id for image in listed.results]) == (2, [image.id for image in uploaded])
    cheap = operation("houses_for_sale.houses_for_sale_list").sync(client=agent, city="Alicante", max_price=500000)
    assert [found.id for found in cheap.results] == [house.id]

    # set_as_main, and PATCH.
    main = operation("property_images.property_images_set_as_main_partial_update").sync(client=agent, id=uploaded[1].id)
    assert isinstance(main, model("PropertyImage")) and main.is_main
    patched = operation("property_images.property_images_partial_update").sync(
        client=agent, id=uploaded[0].id, body=model("PatchedPropertyImageRequest")(caption="Garden", order=3)
    )
    assert (patched.caption, patched.order, patched.is_main) == ("Garden", 3, False)

    # Another user may look but not change.
    refusal = operation("property_images.property_images_partial_update").sync(
        client=stranger, id=uploaded[0].id, body=model("PatchedPropertyImageRequest")(caption="Mine")
    )
    assert isinstance(refusal, model("Detail")) and refusal.detail.startswith("Only the owner of this property")

    # The house list, without and with every image.
    from alca_client.types import UNSET

    houses_list = operation("houses_for_sale.houses_for_sale_list")
    plain = houses_list.sync(client=agent).results[0]
    assert (plain.images, plain.main_image.id, plain.image_count) == (UNSET, uploaded[1].id, 2)
    full = houses_list.sync(client=agent, include=model("IncludeEnum").IMAGES).results[0]
    assert [image.id for image in full.images] == [uploaded[1].id, uploaded[0].id]  # by order: 0, then 3

    # A direct upload to S3, then its completion.
    issued = operation("property_images.property_images_upload_url_create").sync(
        client=agent,
        body=model("PropertyTargetRequest")(content_type=model("ContentTypeEnum").HOUSE_FOR_SALE, object_id=house.id),
    )
    assert isinstance(issued, model("DirectUpload"))
    posted = requests.post(
        issued.url,
        data={**issued.fields.additional_properties, "Content-Type": "image/jpeg"},
        files={"file": ("direct.jpg", image_bytes("JPEG", (80, 60)), "image/jpeg")},
        timeout=10,
    )
    assert posted.status_code == 204, posted.text
    completed = operation("property_images.property_images_complete_upload_create").sync(
        client=agent,
        body=model("CompleteUploadRequest")(
            key=issued.key,
            filename="direct.jpg",
            content_type=model("ContentTypeEnum").HOUSE_FOR_SALE,
            object_id=house.id,
        ),
    )
    assert isinstance(completed, model("PropertyImage")) and (completed.width, completed.height) == (80, 60)

    # Delete, then 404.
    deleted = operation("property_images.property_images_destroy").sync_detailed(client=agent, id=completed.id)
    assert deleted.status_code == 204
    gone = operation("property_images.property_images_retrieve").sync(client=agent, id=completed.id)
    assert isinstance(gone, model("Detail")) and gone.detail == "Not found."

    # The feed tells it all, each entry's object as it is now (a tombstone for the deleted photo).
    changes = feed.sync(client=agent, after=started.cursor, page_size=500)
    assert isinstance(changes, model("ChangesPage")) and not changes.has_more
    entries = {(entry.kind.value, entry.object_id, entry.action.value): entry.data for entry in changes.results}
    assert isinstance(entries[("house_for_sale", house.id, "created")], model("ChangedHouseForSale"))
    assert isinstance(entries[("house_for_rent", rental.id, "created")], model("ChangedHouseForRent"))
    assert entries[("image", uploaded[1].id, "main_changed")].is_main
    assert entries[("image", completed.id, "deleted")] is None
    refused_cursor = feed.sync(client=agent, after="made-up")
    assert isinstance(refused_cursor, model("ValidationError")) and list(refused_cursor.additional_properties) == [
        "after"
    ]

    # Refresh, blacklist, and the blacklisted token refused.
    refresh = operation("token.token_refresh_create")
    renewed = refresh.sync(client=anonymous, body=model("TokenRefreshRequest")(refresh=tokens.refresh))
    assert isinstance(renewed, model("TokenRefresh")) and renewed.access and renewed.refresh
    blacklisted = operation("token.token_blacklist_create").sync_detailed(
        client=anonymous, body=model("TokenBlacklistRequest")(refresh=renewed.refresh)
    )
    assert blacklisted.status_code == 200
    again = refresh.sync(client=anonymous, body=model("TokenRefreshRequest")(refresh=renewed.refresh))
    assert isinstance(again, model("Detail")) and again.code == "token_not_valid"


NODE_BIN = BASE_DIR / "node_modules" / ".bin"
GALLERY = BASE_DIR / "examples" / "gallery"


def type_check(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([NODE_BIN / "tsc", "-p", str(folder)], capture_output=True, text=True, timeout=300)


def test_the_gallery_pages_calls_type_check_against_the_live_schema(live_server, tmp_path):
    assert (NODE_BIN / "tsc").exists(), "make test installs openapi-typescript and tsc (npm ci)"
    for name in ("gallery.js", "tsconfig.json"):
        shutil.copy(GALLERY / name, tmp_path / name)
    shutil.copytree(GALLERY / "shared", tmp_path / "shared")
    generated = subprocess.run(
        [
            NODE_BIN / "openapi-typescript",
            f"{live_server.url}/api/schema/",
            "--default-non-nullable",  # a field with a default is optional in a request body
            "false",
            "--output",
            str(tmp_path / "api.d.ts"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    checked = type_check(tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # The check is real: a field the schema does not have, or a body missing a required one, is refused.
    gallery = (tmp_path / "gallery.js").read_text()
    for right, wrong, error in (
        ("house.image_count", "house.image_counts", "Property 'image_counts' does not exist"),
        ("key: grant.key, filename", "filename", "Property 'key' is missing"),
    ):
        assert right in gallery
        (tmp_path / "gallery.js").write_text(gallery.replace(right, wrong))
        mistaken = type_check(tmp_path)
        assert mistaken.returncode != 0 and error in mistaken.stdout, mistaken.stdout
