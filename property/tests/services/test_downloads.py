"""A house's ZIP: its photos' names in the gallery's order, and its own name."""

import pytest

from property.models import PropertyImage
from property.services.downloads import photo_name, zip_name
from property.tests.factories import HouseForSaleFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("caption", "number", "digits", "expected"),
    [
        ("Sea view", 1, 2, "01-sea-view.jpg"),
        ("", 7, 2, "07-photo.jpg"),
        ("¡Cocina / Salón!", 12, 3, "012-cocina-salon.jpg"),
        ("x" * 200, 3, 2, f"03-{'x' * 60}.jpg"),
    ],
)
def test_a_photos_name_is_its_place_and_its_caption(caption, number, digits, expected):
    image = PropertyImage(image="properties/houseforsale/1/20260101_000000_abcd1234.jpg", caption=caption)
    assert photo_name(image, number, digits) == expected


def test_a_png_keeps_its_extension():
    image = PropertyImage(image="properties/houseforsale/1/20260101_000000_abcd1234.png", caption="Plan")
    assert photo_name(image, 2, 2) == "02-plan.png"


def test_the_zip_is_named_after_the_house(owner):
    assert zip_name(HouseForSaleFactory(owner=owner, title="Casa Azul, Alicante")) == "casa-azul-alicante-photos.zip"
    untitled = HouseForSaleFactory(owner=owner, title="¡¿!")
    assert zip_name(untitled) == f"house-{untitled.pk}-photos.zip"
