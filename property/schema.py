"""What the API's schema says of the views' parameters and answers beyond their serializers (each action names
these in its @extend_schema)."""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from backend.schema import error_ref, error_response

from .images import UPLOAD_CONTENT_TYPES
from .services.direct_uploads import UploadKeyRejected, UploadNotFound
from .services.media_cookies import CdnNotConfigured

ZIP_OF_PHOTOS = OpenApiResponse(
    response={"type": "string", "format": "binary"}, description="The photos as one ZIP, `01-caption.jpg` onwards."
)
NO_DOWNLOAD = OpenApiResponse(response=error_ref("Detail"), description="The link does not offer a download")
CDN_NOT_CONFIGURED = error_response(f"No such house, or: {CdnNotConfigured.message}", or_detail=True)
SECURE_URL_UNAVAILABLE = error_response("Could not generate secure URL")
STORAGE_UNAVAILABLE = error_response("The storage service is unavailable: send the request again (Retry-After)")
UPLOAD_KEY_REFUSED = error_response(
    f"Only the house's owner or staff may add its images, and: {UploadKeyRejected.message}", or_detail=True
)
UPLOAD_NOT_FOUND = error_response(f"No such house, or: {UploadNotFound.message}", or_detail=True)
UPLOAD_CONFLICT = error_response(
    "Another request is completing this upload right now: send it again in a moment (or it was "
    "completed for another house)"
)
SECURE_URL = inline_serializer(
    "SecureUrl",
    {
        "secure_url": serializers.URLField(),
        "expires_in": serializers.IntegerField(),
        "image_id": serializers.IntegerField(),
        "is_original": serializers.BooleanField(
            required=False,
            help_text="With `variant`: the URL is the original's, standing in for a variant not made yet.",
        ),
    },
)

DIRECT_UPLOAD = inline_serializer(
    "DirectUpload",
    {
        "url": serializers.URLField(),
        "fields": serializers.DictField(child=serializers.CharField()),
        "key": serializers.CharField(),
        "expires_in": serializers.IntegerField(),
        "max_size": serializers.IntegerField(),
    },
)

MEDIA_COOKIES = inline_serializer(
    "MediaCookies",
    {
        "cookies": serializers.DictField(
            child=serializers.CharField(),
            help_text="CloudFront-Policy, CloudFront-Signature and CloudFront-Key-Pair-Id.",
        ),
        "resource": serializers.CharField(help_text="What the policy covers: this house's folder."),
        "path": serializers.CharField(help_text="The cookies' path on the distribution."),
        "expires": serializers.IntegerField(help_text="When the policy ends (epoch seconds)."),
    },
)


# What the upload endpoints take as files: the schema's binary says nothing of it; an encoding does. HEIC and HEIF
# (phones' photos) and WebP are stored as JPEG (PNG with transparency).
IMAGE_ENCODING = {"contentType": ", ".join(UPLOAD_CONTENT_TYPES)}


def declare_image_encodings(result: dict, generator, request, public) -> dict:
    """Give every multipart request's file fields (`image`, `images`) the content types they take (a
    drf-spectacular postprocessing hook, SPECTACULAR_SETTINGS)."""
    components = result.get("components", {}).get("schemas", {})
    for operations in result["paths"].values():
        for operation in operations.values():
            media = operation.get("requestBody", {}).get("content", {}).get("multipart/form-data")
            if media is None:
                continue
            schema = media["schema"]
            if "$ref" in schema:
                schema = components[schema["$ref"].rsplit("/", 1)[-1]]
            files = [name for name in ("image", "images") if name in schema.get("properties", {})]
            if files:
                media["encoding"] = {name: IMAGE_ENCODING for name in files}
    return result
