"""Errors outside DRF's views still answer JSON."""

import pytest
from rest_framework.test import APIClient, APIRequestFactory

from backend.exceptions import api_exception_handler
from property.models import PropertyImage
from property.services.image_updates import ImageNotFound


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/nope/", "/nothing-here/", "/api/property-images/1/unknown_action/"])
def test_unknown_urls_answer_a_json_404(path):
    response = APIClient().get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_a_row_deleted_by_a_concurrent_request_answers_the_guides_404():
    request = APIRequestFactory().patch("/api/property-images/1/")
    response = api_exception_handler(ImageNotFound(), {"request": request})
    assert response.status_code == 404
    assert response.data == {"detail": "Not found."}


def test_a_missing_row_that_no_service_meant_is_a_server_error_not_a_404():
    # A programming error (a related row the code takes for granted): DRF re-raises it, Django logs it and
    # answers 500, instead of a 404 that nobody would ever look into.
    request = APIRequestFactory().get("/api/property-images/1/")
    assert api_exception_handler(PropertyImage.DoesNotExist(), {"request": request}) is None
