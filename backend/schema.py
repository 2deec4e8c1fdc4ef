"""OpenAPI generation: every error an operation can answer is documented, with its JSON body."""

from drf_spectacular.openapi import AutoSchema

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
