"""What the API's schema says of the views' parameters and answers beyond their serializers (each action names
these in its @extend_schema)."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers

from backend.schema import error_response

from .services.media_cookies import CdnNotConfigured

EXPIRATION_PARAMETER = OpenApiParameter(
    "expiration",
    {"type": "integer", "minimum": 1, "maximum": settings.PRESIGNED_URL_MAX_EXPIRATION},
    description="Seconds the URL stays valid (1 to 604800, default 3600).",
)
CDN_NOT_CONFIGURED = error_response(CdnNotConfigured.message)
SECURE_URL_UNAVAILABLE = error_response("Could not generate secure URL")
STORAGE_UNAVAILABLE = error_response("The storage service is unavailable: send the request again (Retry-After)")
UPLOAD_CONFLICT = error_response(
    "Another request is completing this upload right now: send it again in a moment (or it was "
    "completed for another house)"
)
VARIANT_PARAMETER = OpenApiParameter(
    "variant",
    str,
    enum=list(settings.PROPERTY_IMAGE_VARIANT_WIDTHS),
    description="A smaller copy instead of the original.",
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


def documented_as_json(serializer_class: type[serializers.Serializer], actions=("create", "update", "partial_update")):
    """Document these actions' request body as JSON only: DRF also parses forms, which can say neither null nor
    a typed number or boolean, so a schema of their fields would promise what a form cannot send."""
    return extend_schema_view(
        **{action: extend_schema(request={"application/json": serializer_class}) for action in actions}
    )
