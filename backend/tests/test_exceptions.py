"""Errors outside DRF's views still answer JSON."""

import pytest
from rest_framework.test import APIClient


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/nope/", "/nothing-here/", "/api/property-images/1/unknown_action/"])
def test_unknown_urls_answer_a_json_404(path):
    response = APIClient().get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}
