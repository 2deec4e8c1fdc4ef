"""Errors outside DRF's views still answer JSON."""

import pytest
from rest_framework.test import APIClient, APIRequestFactory

from backend.exceptions import api_exception_handler
from property.models import PropertyImage


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/nope/", "/nothing-here/", "/api/property-images/1/unknown_action/"])
def test_unknown_urls_answer_a_json_404(path):
    response = APIClient().get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_a_row_deleted_by_a_concurrent_request_answers_the_guides_404():
    request = APIRequestFactory().patch("/api/property-images/1/")
    response = api_exception_handler(PropertyImage.DoesNotExist(), {"request": request})
    assert response.status_code == 404
    assert response.data == {"detail": "Not found."}
