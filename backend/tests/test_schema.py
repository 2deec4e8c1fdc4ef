"""The OpenAPI schema and Swagger UI."""

import pytest
from rest_framework.test import APIClient

from property.images import UPLOAD_ACCEPT
from testing import cloudfront_settings

# The media types the admin's and the gallery's file pickers offer: the schema states the same.
UPLOADED_TYPES = ", ".join(kind for kind in UPLOAD_ACCEPT.split(",") if kind.startswith("image/"))

pytestmark = pytest.mark.django_db


def test_schema_lists_every_endpoint_of_the_guide():
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/property-images/",
        "/api/property-images/{id}/",
        "/api/property-images/{id}/secure_url/",
        "/api/property-images/{id}/redirect_to_image/",
        "/api/property-images/bulk_upload/",
        "/api/property-images/{id}/set_as_main/",
        "/api/houses-for-sale/{id}/upload_images/",
        "/api/houses-for-rent/{id}/upload_images/",
        "/api/token/",
        "/api/token/refresh/",
    ):
        assert path in paths, path


def test_completing_a_direct_upload_documents_its_conflict_and_storage_errors():
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    responses = response.json()["paths"]["/api/property-images/complete_upload/"]["post"]["responses"]
    assert {"201", "400", "401", "403", "409", "503"} <= set(responses)
    assert "send it again" in responses["409"]["description"]


def test_swagger_ui_is_served_without_a_cdn():
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger-ui-bundle.js" in response.content
    assert b"cdn.jsdelivr.net" not in response.content


def test_operations_that_create_link_to_the_operations_that_take_the_new_id():
    paths = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    house_links = paths["/api/houses-for-sale/"]["post"]["responses"]["201"]["links"]
    assert house_links["houses_for_sale_retrieve"] == {
        "operationId": "houses_for_sale_retrieve",
        "parameters": {"path.id": "$response.body#/id"},
    }
    assert {"houses_for_sale_destroy", "houses_for_sale_upload_images_create"} <= set(house_links)
    uploaded = paths["/api/houses-for-sale/{id}/upload_images/"]["post"]["responses"]["201"]["links"]
    assert uploaded["property_images_set_as_main_partial_update"]["parameters"] == {"path.id": "$response.body#/0/id"}
    completed = paths["/api/property-images/complete_upload/"]["post"]["responses"]["201"]["links"]
    assert completed["property_images_secure_url_retrieve"]["parameters"] == {"path.id": "$response.body#/id"}


def test_the_schema_states_the_limits_the_server_enforces():
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    parameters = {
        (path, parameter["name"]): parameter["schema"]
        for path in ("/api/property-images/", "/api/property-images/{id}/secure_url/", "/api/houses-for-sale/")
        for parameter in schema["paths"][path]["get"]["parameters"]
    }
    assert parameters[("/api/property-images/{id}/secure_url/", "expiration")] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 604800,
    }
    assert parameters[("/api/property-images/", "object_id")]["minimum"] == 1
    assert parameters[("/api/property-images/", "content_type")] == {"$ref": "#/components/schemas/ContentTypeEnum"}
    content_type = schema["components"]["schemas"]["ContentTypeEnum"]
    assert content_type["type"] == "string" and sorted(content_type["enum"]) == ["house_for_rent", "house_for_sale"]
    assert parameters[("/api/houses-for-sale/", "page_size")] == {"type": "integer", "minimum": 1, "maximum": 100}
    house = schema["components"]["schemas"]["HouseForSaleRequest"]["properties"]
    assert house["price"]["pattern"] == r"^(?:\d{1,12}(?:\.\d{0,2})?|\.\d{1,2})$"  # no sign: never negative
    assert house["bedrooms"]["maximum"] == 32767
    assert schema["paths"]["/api/houses-for-sale/"]["post"]["requestBody"]["content"].keys() == {"application/json"}


def test_query_parameters_of_the_same_choices_share_one_enum_component():
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    choices = {
        (path, parameter["name"]): parameter["schema"]
        for path, operations in schema["paths"].items()
        for parameter in operations.get("get", {}).get("parameters", [])
        if "enum" in parameter["schema"] or "$ref" in parameter["schema"]
    }
    assert choices == {
        ("/api/houses-for-rent/", "include"): {"$ref": "#/components/schemas/IncludeEnum"},
        ("/api/houses-for-sale/", "include"): {"$ref": "#/components/schemas/IncludeEnum"},
        ("/api/houses-for-rent/", "paging"): {"$ref": "#/components/schemas/PagingEnum"},
        ("/api/houses-for-sale/", "paging"): {"$ref": "#/components/schemas/PagingEnum"},
        ("/api/property-images/", "paging"): {"$ref": "#/components/schemas/PagingEnum"},
        ("/api/property-images/", "content_type"): {"$ref": "#/components/schemas/ContentTypeEnum"},
        ("/api/property-images/", "is_main"): {"$ref": "#/components/schemas/IsMainEnum"},
        ("/api/property-images/", "category"): {"$ref": "#/components/schemas/CategoryEnum"},
        ("/api/property-images/{id}/redirect_to_image/", "variant"): {"$ref": "#/components/schemas/VariantEnum"},
        ("/api/property-images/{id}/secure_url/", "variant"): {"$ref": "#/components/schemas/VariantEnum"},
    }
    components = schema["components"]["schemas"]
    assert components["VariantEnum"] == {"type": "string", "enum": ["thumbnail", "medium", "large"]}  # smallest first
    assert components["IncludeEnum"] == {"type": "string", "enum": ["images"]}


def test_the_upload_endpoints_say_which_files_they_take():
    assert "image/heic" in UPLOADED_TYPES and "image/webp" in UPLOADED_TYPES
    paths = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    bulk = paths["/api/property-images/bulk_upload/"]["post"]["requestBody"]["content"]["multipart/form-data"]
    single = paths["/api/property-images/"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert bulk["encoding"] == {"images": {"contentType": UPLOADED_TYPES}}
    assert single["encoding"] == {"image": {"contentType": UPLOADED_TYPES}}


@pytest.mark.parametrize("path", ["/api/houses-for-sale/{id}/upload_images/", "/api/property-images/bulk_upload/"])
def test_uploads_state_how_many_files_they_take_and_of_which_types(path, settings):
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    body = schema["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]
    component = schema["components"]["schemas"][body["schema"]["$ref"].rsplit("/", 1)[-1]]
    images = component["properties"]["images"]
    assert (images["minItems"], images["maxItems"]) == (1, settings.PROPERTY_IMAGE_MAX_FILES)
    assert body["encoding"]["images"]["contentType"] == UPLOADED_TYPES
    assert "images" in component["required"]


def test_operations_with_a_query_string_state_the_414_for_a_request_line_too_long():
    paths = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    too_long = paths["/api/houses-for-sale/"]["get"]["responses"]["414"]["content"]["application/json"]
    assert too_long["schema"] == {"$ref": "#/components/schemas/Error"}
    assert "414" in paths["/api/property-images/{id}/secure_url/"]["get"]["responses"]
    assert "414" not in paths["/api/houses-for-sale/{id}/"]["get"]["responses"]


def test_house_lists_may_leave_out_the_gallery_and_say_how_to_ask_for_it():
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    house = schema["components"]["schemas"]["HouseForSale"]
    assert "images" in house["properties"] and "images" not in house["required"]
    assert {"main_image", "image_count"} <= set(house["required"])
    main_image = house["properties"]["main_image"]
    assert main_image["nullable"] is True and main_image["allOf"] == [{"$ref": "#/components/schemas/CoverImage"}]
    (include,) = [p for p in schema["paths"]["/api/houses-for-sale/"]["get"]["parameters"] if p["name"] == "include"]
    assert include["schema"] == {"$ref": "#/components/schemas/IncludeEnum"}


def test_media_cookies_are_in_the_schema_only_with_cloudfront_on(cloudfront_keys):
    def paths() -> set[str]:
        return set(APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"])

    cookie_paths = {"/api/houses-for-sale/{id}/media_cookies/", "/api/houses-for-rent/{id}/media_cookies/"}
    without = paths()
    assert not cookie_paths & without and "/api/houses-for-sale/{id}/" in without
    with cloudfront_settings(cloudfront_keys):
        assert cookie_paths <= paths()


def schema() -> dict:
    return APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def test_request_bodies_are_json_and_uploads_multipart_only():
    uploads = {
        ("post", "/api/houses-for-sale/{id}/upload_images/"),
        ("post", "/api/houses-for-rent/{id}/upload_images/"),
        ("post", "/api/property-images/"),
        ("post", "/api/property-images/bulk_upload/"),
    }
    bodies = {
        (method, path): list(operation["requestBody"]["content"])
        for path, operations in schema()["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    }
    assert {("post", "/api/token/"), ("post", "/api/property-images/complete_upload/")} <= set(bodies)
    assert uploads <= set(bodies)
    for operation, media_types in bodies.items():
        assert media_types == (["multipart/form-data"] if operation in uploads else ["application/json"]), operation


def test_every_error_answer_is_one_of_three_named_bodies():
    document = schema()
    components = document["components"]["schemas"]
    assert components["Error"]["required"] == ["error"] and components["Detail"]["required"] == ["detail"]
    refs = {f"#/components/schemas/{name}" for name in ("Error", "Detail", "ValidationError")}
    errors = 0
    for operations in document["paths"].values():
        for operation in operations.values():
            for code, response in operation["responses"].items():
                if int(code) < 400:
                    continue
                errors += 1
                schema_ = response["content"]["application/json"]["schema"]
                used = {option["$ref"] for option in schema_.get("oneOf", [schema_])}
                assert used <= refs, (code, schema_)
                if code == "400":
                    assert used == refs
    assert errors > 100


def test_the_gets_answered_conditionally_state_their_etag_and_304():
    paths = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    conditional = [
        ("/api/houses-for-sale/", "get"),
        ("/api/houses-for-rent/{id}/", "get"),
        ("/api/property-images/", "get"),
        ("/api/property-images/{id}/", "get"),
        ("/api/property-images/{id}/secure_url/", "get"),
    ]
    for path, method in conditional:
        operation = paths[path][method]
        assert {"name": "If-None-Match", "in": "header"}.items() <= next(
            parameter for parameter in operation["parameters"] if parameter["name"] == "If-None-Match"
        ).items()
        assert "ETag" in operation["responses"]["200"]["headers"]
        assert "content" not in operation["responses"]["304"]
    for path, method in [("/api/houses-for-sale/{id}/", "patch"), ("/api/property-images/bulk_upload/", "post")]:
        operation = paths[path][method]
        assert "304" not in operation["responses"]
        assert all(parameter["name"] != "If-None-Match" for parameter in operation.get("parameters", []))


def test_share_links_are_stated_their_openings_public_and_throttled():
    paths = schema()["paths"]
    for kind in ("houses-for-sale", "houses-for-rent"):
        owner_only = [
            paths[f"/api/{kind}/{{id}}/share_links/"]["get"],
            paths[f"/api/{kind}/{{id}}/share_links/"]["post"],
            paths[f"/api/{kind}/{{id}}/share_links/{{link_id}}/"]["delete"],
            paths[f"/api/{kind}/{{id}}/download/"]["get"],
        ]
        for operation in owner_only:
            assert operation["security"] == [{"jwtAuth": []}] and {"401", "403"} <= set(operation["responses"])
    opened, downloaded = paths["/api/shared/{token}/"]["get"], paths["/api/shared/{token}/download/"]["get"]
    for public in (opened, downloaded):
        assert (
            "security" not in public and {"404", "429"} <= set(public["responses"]) and "401" not in public["responses"]
        )
    assert "application/zip" in downloaded["responses"]["200"]["content"] and "403" in downloaded["responses"]
    shared = opened["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    house = schema()["components"]["schemas"]["SharedHouse"]["properties"]
    assert shared == "Shared" and "owner" not in house and "address" not in house
