"""Errors outside DRF's views still answer JSON; a database that goes away under a request answers 503."""

import psycopg
import pytest
from django.db import close_old_connections, connection
from rest_framework.test import APIClient, APIRequestFactory

from backend.exceptions import api_exception_handler
from property.models import PropertyImage
from property.services.image_updates import ImageNotFound
from property.tests.factories import HouseForSaleFactory
from testing import jwt_client


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


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a database server that can end a connection")
@pytest.mark.django_db(transaction=True)
def test_a_request_whose_database_connection_is_ended_under_it_answers_503_and_the_next_is_served(owner):
    house = HouseForSaleFactory(owner=owner)
    client = jwt_client(owner)
    ended = []

    def end_the_connection_before_its_first_query(execute, sql, params, many, context):
        # What a database restart does to a connection in use: the server ends it (PostgreSQL's own function,
        # from another connection, waiting until the backend has exited). Only the timing is chosen here.
        if not ended:
            backend_pid = context["connection"].connection.info.backend_pid
            server = connection.settings_dict
            with psycopg.connect(
                host=server["HOST"], port=server["PORT"], user=server["USER"], dbname=server["NAME"], autocommit=True
            ) as admin:
                ended.append(admin.execute("SELECT pg_terminate_backend(%s, 5000)", [backend_pid]).fetchone()[0])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(end_the_connection_before_its_first_query):
        response = client.get(f"/api/houses-for-sale/{house.pk}/")
    assert ended == [True]
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert response.json() == {"error": "The database is unavailable: send the request again in a moment"}
    close_old_connections()  # what Django does after every request (its test client does not): the next gets a new one
    assert client.get(f"/api/houses-for-sale/{house.pk}/").status_code == 200
