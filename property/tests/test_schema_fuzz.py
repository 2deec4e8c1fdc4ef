"""Schemathesis against /api/schema/ with an authenticated user: no 5xx, no response outside the schema."""

import os

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend.wsgi import application
from conftest import jpeg_upload
from property.services import property_images_store
from property.tests.factories import HouseForRentFactory, HouseForSaleFactory

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def keep_test_connection():
    """Calling the WSGI app directly sends request_finished, which would close the test's database
    connection (and its transaction) after each request; Django's test client avoids that the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzzing_user(db, bucket_keys, django_user_model, keep_test_connection):
    """A staff user owning a house of each kind with an image, so ids 1.. exist for the fuzzer."""
    user = django_user_model.objects.create_user("fuzzer", password="fuzzer-password-123", is_staff=True)
    for house in (HouseForSaleFactory(owner=user), HouseForRentFactory(owner=user)):
        property_images_store(house=house, files=[jpeg_upload()])
    return user


@schema.parametrize()
@settings(
    # Bounded for CI; FUZZ_EXAMPLES=200 make test digs deeper.
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", 12)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_answers_within_its_schema_and_never_5xx(case, fuzzing_user):
    token = RefreshToken.for_user(fuzzing_user).access_token
    # Every check but "schema-valid data must be accepted": a well-formed filter naming a user
    # that does not exist is rightly a 400.
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
            response_headers_conformance,
        ],
        excluded_checks=[positive_data_acceptance],
    )
