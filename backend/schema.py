"""OpenAPI generation: every error an operation can answer is documented, with its JSON body. The errors of
every operation of a kind (a body: 400; a path id: 404; ...) are added here; an action documents its own
(`error_response`)."""

from django.core.validators import RegexValidator
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme, TokenRefreshSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from backend.security import MAX_REQUEST_LINE

# The three shapes of an error body (backend/exceptions.py), each a named component that every operation refers to:
# a client generator makes one type of each, not one per operation and status.
ERROR_COMPONENTS = {
    "Error": {
        "type": "object",
        "description": "The API's own refusals (the guide's shape): a rejected upload, a conflict, a service that "
        "is unavailable.",
        "properties": {"error": {"type": "string"}},
        "required": ["error"],
    },
    "Detail": {
        "type": "object",
        "description": "DRF's refusals: authentication, permission, not found, unsupported media type, a body that "
        "is not JSON, throttling. Token errors add a `code` and `messages`.",
        "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
        "required": ["detail"],
    },
    "ValidationError": {
        "type": "object",
        "description": "Invalid fields or query parameters: each with its messages (non_field_errors for the body "
        "as a whole); a list field's by the index of the invalid item.",
        "additionalProperties": {
            "oneOf": [
                {"type": "array", "items": {"type": "string"}},
                {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            ],
        },
    },
}


def error_ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


# The body of each error status: a 400 is invalid fields, the API's own refusal or a body DRF cannot parse.
ERROR_BODIES = {
    "400": {"oneOf": [error_ref("ValidationError"), error_ref("Error"), error_ref("Detail")]},
    **{code: error_ref("Detail") for code in ("401", "403", "404", "405", "415", "429")},
    **{code: error_ref("Error") for code in ("409", "413", "500", "503")},
}
ERROR_DESCRIPTIONS = {
    "400": "Invalid input; the body says what is wrong",
    "401": "Missing, invalid or expired token",
    "403": "Only the property's owner or staff may do this",
    "404": "Not found",
    "413": "A file or the request body is over the size limit",
    "415": "Unsupported media type",
    "429": "Too many requests",
    "503": "The storage service is unavailable",
}


class CachedUserJWTScheme(SimpleJWTScheme):
    """The API's bearer tokens, as drf-spectacular states simplejwt's (`jwtAuth`)."""

    target_class = "backend.authentication.CachedUserJWTAuthentication"


class RefreshSerializerScheme(TokenRefreshSerializerExtension):
    """`POST /api/token/refresh/`'s body, as drf-spectacular states simplejwt's."""

    target_class = "backend.auth.TokenRefreshSerializer"


def error_response(description: str, *, or_detail: bool = False) -> OpenApiResponse:
    """An `{"error": "..."}` answer (an ApplicationError) that an action documents in its
    @extend_schema(responses=...); `or_detail` where the same status also answers DRF's `{"detail": "..."}` (a
    404 for an unknown id, a 403 for a stranger)."""
    schema = {"oneOf": [error_ref("Error"), error_ref("Detail")]} if or_detail else error_ref("Error")
    return OpenApiResponse(response=schema, description=description)


def add_error_components(result: dict, generator, request, public) -> dict:
    """Put the error bodies' components into the schema (a drf-spectacular postprocessing hook)."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(ERROR_COMPONENTS)
    result["components"]["schemas"] = dict(sorted(result["components"]["schemas"].items()))
    return result


# A query string can make the request line longer than the API takes (backend.security.RequestLineLimitMiddleware).
URI_TOO_LONG = {
    "description": f"The request line (method, path and query string) is over {MAX_REQUEST_LINE} bytes (over 64 KB, "
    "the HTTP server itself answers 414, with no body)",
    "content": {"application/json": {"schema": error_ref("Error")}},
}


# The GETs a view answers conditionally (its `conditional_actions`: property.answers.KeptAnswers): an ETag on the
# answer, and 304 to a client that sends it back. No ETag (so never 304) where the storage signs each URL at its own
# time (AWS_PRESIGNED_URL_STABLE_WINDOW=0, or botocore's signer).
IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "An ETag this answer carried: while it is still the current one, the answer is 304 with no body.",
    "schema": {"type": "string"},
}
ETAG = {
    "description": "Identifies this answer; send it back as If-None-Match. The same while neither what the answer "
    "shows nor its URLs' signing window changes.",
    "schema": {"type": "string"},
}
NOT_MODIFIED = {
    "description": "Not modified: the answer whose ETag was sent (If-None-Match) is still current. No body.",
    "headers": {"ETag": ETAG},
}


# Whitespace to Python's str.strip() (which DRF's CharField applies first), which besides JSON Schema's (ECMA 262)
# \s also takes \x1c-\x1f and \x85.
STRIPPED = r"\s\x1c-\x1f\x85"


class ApiAutoSchema(AutoSchema):
    def _map_basic_serializer(self, serializer, direction):
        """drf-spectacular calls every read-only field required; a serializer's Meta.optional_in_response names
        those an answer may leave out."""
        schema = super()._map_basic_serializer(serializer, direction)
        optional = getattr(getattr(serializer, "Meta", None), "optional_in_response", ())
        if optional and "required" in schema:
            schema["required"] = [name for name in schema["required"] if name not in optional]
        return schema

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.DecimalField) and "pattern" in schema:
            schema["pattern"] = decimal_pattern(field)
        elif isinstance(field, serializers.CharField) and not any(
            isinstance(validator, RegexValidator) for validator in field.validators
        ):
            schema["pattern"] = char_pattern(field)
        return schema

    def is_excluded(self) -> bool:
        """An action this configuration does not offer (the view's `actions_available_when`) is left out: the
        schema states what the server does."""
        available_when = getattr(self.view, "actions_available_when", {}).get(getattr(self.view, "action", None))
        return available_when is not None and not available_when()

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
        if "object_id" in request_fields(self.get_request_serializer()):
            codes.add("404")  # a body naming a house that does not exist
        if getattr(self.view, "throttle_scope", None):  # a throttled view: the token endpoints, share links
            codes.add("429")
        if path.startswith("/api/token/"):
            codes.add("401")
        elif not self.view.get_permissions() or any(
            type(permission).__name__ != "AllowAny" for permission in self.view.get_permissions()
        ):
            codes.update({"401", "403"})
        for code in sorted(codes):
            operation["responses"].setdefault(
                code,
                {
                    "description": ERROR_DESCRIPTIONS[code],
                    "content": {"application/json": {"schema": ERROR_BODIES[code]}},
                },
            )
        if any(parameter["in"] == "query" for parameter in operation.get("parameters", [])):
            operation["responses"]["414"] = URI_TOO_LONG
        if method == "GET" and getattr(self.view, "action", None) in getattr(self.view, "conditional_actions", ()):
            operation.setdefault("parameters", []).append(IF_NONE_MATCH)
            operation["responses"]["200"].setdefault("headers", {})["ETag"] = ETAG
            operation["responses"]["304"] = NOT_MODIFIED
        operation["responses"] = dict(sorted(operation["responses"].items()))
        return operation


def share_parameter_enums(result: dict, generator, request, public) -> dict:
    """A query parameter's choices as one named component (a drf-spectacular postprocessing hook): the component
    of the same choices named after the parameter (`ContentTypeEnum`), else `{Name}Enum` of its own, shared by
    every parameter of that name and choices. A client generator then makes one enum, not one per operation."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    for operation in (operation for path in result.get("paths", {}).values() for operation in path.values()):
        for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
            schema = parameter.get("schema", {})
            if parameter["in"] != "query" or schema.get("type") != "string" or "enum" not in schema:
                continue
            # Nothing but the choices (a minLength every choice meets says nothing more).
            shortest = min(map(len, schema["enum"]), default=0)
            if not set(schema) <= {"type", "enum", "minLength"} or shortest < schema.get("minLength", 0):
                continue
            name = "".join(word.capitalize() for word in parameter["name"].split("_")) + "Enum"
            component = components.setdefault(name, {"type": "string", "enum": schema["enum"]})
            if sorted(component.get("enum", [])) == sorted(schema["enum"]):
                parameter["schema"] = {"$ref": f"#/components/schemas/{name}"}
    return result


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


def char_pattern(field: serializers.CharField) -> str:
    """The strings `field` takes: never a NUL character (DRF refuses them), and where it refuses blank values,
    at least one character its stripping leaves. drf-spectacular offers the blank string of a field that takes it
    as an alternative of its own (`oneOf`), so the pattern itself must not match it."""
    if field.allow_blank or not field.trim_whitespace:
        return r"^[^\x00]+$"
    return rf"^[^\x00]*[^\x00{STRIPPED}][^\x00]*$"


def request_fields(request) -> set[str]:
    """The field names of a request body given as a serializer, or by media type as serializers or raw schemas."""
    if isinstance(request, dict):
        if "type" in request or "properties" in request:  # a raw schema
            return set(request.get("properties", {}))
        return {name for body in request.values() for name in request_fields(body)}
    return set(getattr(force_instance(request), "fields", {}))
