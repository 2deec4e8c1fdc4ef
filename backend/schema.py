"""OpenAPI generation: every error an operation can answer is documented, with its JSON body."""

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

ERROR_BODY = {
    "application/json": {
        "schema": {
            "type": "object",
            "description": 'JSON error: {"error": "..."}, {"detail": "..."} or {"<field>": ["..."]}',
            "additionalProperties": True,
        }
    }
}
ERROR_DESCRIPTIONS = {
    "400": "Invalid input; the body says what is wrong",
    "401": "Missing, invalid or expired token",
    "403": "Only the property's owner or staff may do this",
    "404": "Not found",
    "409": "Another request is completing this upload right now: send it again in a moment",
    "413": "A file or the request body is over the size limit",
    "415": "Unsupported media type",
    "429": "Too many requests",
    "500": "Could not generate secure URL",
    "503": "The storage service is unavailable",
}


class ApiAutoSchema(AutoSchema):
    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.DecimalField) and "pattern" in schema:
            schema["pattern"] = decimal_pattern(field)
        return schema

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        codes = set()
        body = operation.get("requestBody", {}).get("content", {})
        if operation.get("parameters") or body:
            codes.add("400")
        if body:
            codes.add("415")
        if "multipart/form-data" in body:
            codes.update({"413", "503"})
        if "{" in path or any(parameter["name"] == "page" for parameter in operation.get("parameters", [])):
            codes.add("404")  # an unknown id, or a page past the last one
        if path.startswith("/api/token/"):
            codes.update({"401", "429"})
        elif not self.view.get_permissions() or any(
            type(permission).__name__ != "AllowAny" for permission in self.view.get_permissions()
        ):
            codes.update({"401", "403"})
        if path.endswith(("/secure_url/", "/redirect_to_image/")):
            codes.add("500")
        if path.endswith("/complete_upload/"):
            codes.update({"409", "503"})  # the same key completed twice at once; S3 down while storing
        for code in sorted(codes):
            operation["responses"].setdefault(code, {"description": ERROR_DESCRIPTIONS[code], "content": ERROR_BODY})
        return operation


def link_created_resources(result: dict, generator, request, public) -> dict:
    """OpenAPI links from each operation that answers 201 with a resource (or a list of them) to the operations
    that take that resource's `id`, so that client generators and stateful testing can chain them.

    A drf-spectacular postprocessing hook: the resource is found by its component, whose collection is the
    path whose `GET {collection}{id}/` answers the same component.
    """
    paths = result["paths"]
    collections = {}
    for path, operations in paths.items():
        if path.endswith("/{id}/") and "get" in operations:
            component, _many = answered_component(operations["get"]["responses"].get("200"))
            if component:
                collections[component] = path.removesuffix("{id}/")
    for operations in paths.values():
        for operation in operations.values():
            created = operation.get("responses", {}).get("201")
            component, many = answered_component(created)
            if component not in collections:
                continue
            resource = collections[component] + "{id}/"
            id_expression = "$response.body#/0/id" if many else "$response.body#/id"
            created["links"] = {
                target["operationId"]: {"operationId": target["operationId"], "parameters": {"path.id": id_expression}}
                for path, targets in paths.items()
                if path.startswith(resource)
                for target in targets.values()
            }
    return result


def answered_component(response: dict | None) -> tuple[str | None, bool]:
    """(the `$ref` of the JSON object a response answers, whether it is a list of them)."""
    schema = ((response or {}).get("content", {}).get("application/json") or {}).get("schema", {})
    if schema.get("type") == "array":
        return schema.get("items", {}).get("$ref"), True
    return schema.get("$ref"), False


def decimal_pattern(field: serializers.DecimalField) -> str:
    """The decimal strings `field` takes: at least one digit (drf-spectacular's own pattern also matches "" and
    "."), and no sign where it refuses negative numbers."""
    sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
    whole, places = field.max_whole_digits, field.decimal_places
    return rf"^{sign}(?:\d{{1,{whole}}}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}})$"
