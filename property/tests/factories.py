"""Factories for houses; images are made through the real upload service."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from property.models import HouseForRent, HouseForSale


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct-horse-battery")


class HouseForSaleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HouseForSale

    title = factory.Sequence(lambda n: f"House {n}")
    address = factory.Sequence(lambda n: f"{n} Calle Mayor")
    city = "Alicante"
    bedrooms = 3
    bathrooms = 2
    area = Decimal("120.50")
    price = Decimal("250000.00")
    owner = factory.SubFactory(UserFactory)


class HouseForRentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HouseForRent

    title = factory.Sequence(lambda n: f"Flat {n}")
    address = factory.Sequence(lambda n: f"{n} Avenida del Mar")
    city = "Alicante"
    bedrooms = 2
    bathrooms = 1
    area = Decimal("75.00")
    monthly_rent = Decimal("950.00")
    owner = factory.SubFactory(UserFactory)
