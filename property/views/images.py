"""Private property images: CRUD, presigned URLs, bulk and direct uploads, and choosing the main image."""

from __future__ import annotations

from typing import cast

from django.http import HttpResponseRedirect
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from backend.exceptions import ApplicationError

from ..answers import KeptAnswers
from ..filters import PropertyImageFilter
from ..input_serializers import (
    BulkImageUploadSerializer,
    BulkUploadSerializer,
    CompleteUploadSerializer,
    ExpirationSerializer,
    PropertyImageCreateSerializer,
    PropertyTargetSerializer,
)
from ..models import House, PropertyImage
from ..permissions import AdminSessionMayChange, IsOwnerOrStaffOrReadOnly
from ..schema import (
    DIRECT_UPLOAD,
    SECURE_URL,
    SECURE_URL_UNAVAILABLE,
    STORAGE_UNAVAILABLE,
    UPLOAD_CONFLICT,
    UPLOAD_KEY_REFUSED,
    UPLOAD_NOT_FOUND,
)
from ..serializers import PropertyImageSerializer
from ..services.direct_uploads import direct_upload_complete, direct_upload_issue
from ..services.image_updates import property_image_set_main, property_image_update
from ..services.uploads import property_images_store
from .common import WITH_ADMIN_SESSION, ListFilteredViewSet, created, signed_in_user_id, uploaded_files


class SecureUrlUnavailable(ApplicationError):
    """The guide's `500 {"error": "Could not generate secure URL"}`: signing is impossible (no credentials)."""

    status_code = status.HTTP_500_INTERNAL_SERVER_ERROR
    message = "Could not generate secure URL"


class PropertyImageViewSet(KeptAnswers, ListFilteredViewSet):
    """Private property images: CRUD, presigned URLs, bulk upload and choosing the main image."""

    answer_depends_on = (PropertyImage,)
    conditional_actions = ("list", "retrieve", "secure_url")

    queryset = PropertyImage.objects.all()
    permission_classes = [IsAuthenticated, IsOwnerOrStaffOrReadOnly, AdminSessionMayChange]
    filterset_class = PropertyImageFilter

    # What each action reads from the request body; the images themselves are PropertyImageSerializer's.
    request_serializer_classes = {
        "create": PropertyImageCreateSerializer,
        "bulk_upload": BulkUploadSerializer,
        "upload_url": PropertyTargetSerializer,
        "complete_upload": CompleteUploadSerializer,
    }

    def get_serializer_class(self):
        return self.request_serializer_classes.get(self.action, PropertyImageSerializer)

    def get_parsers(self):
        """`create` takes a multipart upload; every other action JSON (REST_FRAMEWORK's parsers). DRF builds the
        parsers before it sets `self.action`, so the action is found from the request's method."""
        action = getattr(self, "action", None) or self.action_map.get((self.request.method or "").lower())
        return [MultiPartParser()] if action == "create" else super().get_parsers()

    def house_to_change(self, request: Request) -> tuple[House, dict]:
        """The house the request body names, once the user may change it, and the body's other fields."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        options = dict(serializer.validated_data)
        house = options.pop("house")
        del options["content_type"], options["object_id"]
        self.check_object_permissions(request, house)
        return house, options

    @extend_schema(responses={201: PropertyImageSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        """Upload one file (`image`) for the house named by `content_type` and `object_id`."""
        house, options = self.house_to_change(request)
        (image,) = property_images_store(house=house, files=[options.pop("image")], **options)
        return created(image)

    def perform_update(self, serializer: BaseSerializer) -> None:
        image = cast(PropertyImage, serializer.instance)  # the one get_object() found
        serializer.instance = property_image_update(image=image, **serializer.validated_data)

    @extend_schema(
        parameters=[ExpirationSerializer],
        responses={
            500: SECURE_URL_UNAVAILABLE,
            200: SECURE_URL,
        },
    )
    @action(detail=True, methods=["get"])
    def secure_url(self, request: Request, pk: str | None = None) -> Response:
        """A presigned URL for this image (or one of its variants, or the original while they are being made),
        valid for `expiration` seconds."""
        return self.kept_or_built(self.secure_url_answer, request, pk=pk)

    def secure_url_answer(self, request: Request, pk: str | None = None) -> Response:
        image = self.get_object()
        presigned_url, expiration, is_original = self.presigned_url_for(request, image)
        body = {"secure_url": presigned_url, "expires_in": expiration, "image_id": image.pk}
        if "variant" in request.query_params:
            body["is_original"] = is_original
        return Response(body)

    @extend_schema(
        parameters=[ExpirationSerializer],
        responses={302: OpenApiResponse(description="To the image"), 500: SECURE_URL_UNAVAILABLE},
    )
    @action(detail=True, methods=["get"])
    def redirect_to_image(self, request: Request, pk: str | None = None):
        """302 to a presigned URL of this image (or of one of its variants)."""
        presigned_url, _expiration, _is_original = self.presigned_url_for(request, self.get_object())
        redirect = HttpResponseRedirect(presigned_url)
        redirect["Cache-Control"] = "private, no-store"
        return redirect

    @staticmethod
    def presigned_url_for(request: Request, image: PropertyImage) -> tuple[str, int, bool]:
        """Read `?expiration=` and `?variant=` and sign: (URL, expiration, whether it is the original's); 400, 404
        or the guide's 500 when that cannot be done."""
        serializer = ExpirationSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        query = serializer.validated_data
        variant = query.get("variant")
        offered = image.offered_variants([variant]) if variant else {}
        if variant and variant not in offered:
            raise NotFound(f"This image has no {variant} variant yet (manage.py rebuild_variants makes it).")
        presigned_url = image.get_secure_url(query["expiration"], variant=variant)
        if not presigned_url:
            raise SecureUrlUnavailable
        return presigned_url, query["expiration"], not variant or offered[variant].is_original

    @extend_schema(
        request={"multipart/form-data": BulkImageUploadSerializer},
        responses={201: PropertyImageSerializer(many=True)},
    )
    @action(
        detail=False,
        methods=["post"],
        parser_classes=[MultiPartParser],
        pagination_class=None,
        filter_backends=[],
    )
    def bulk_upload(self, request: Request) -> Response:
        """Upload several files (`images`) for the house named by `content_type` and `object_id`."""
        files = uploaded_files(request, "images")
        house, options = self.house_to_change(request)
        return created(property_images_store(house=house, files=files, **options))

    @extend_schema(
        request=PropertyTargetSerializer,
        responses={
            200: DIRECT_UPLOAD,
            503: STORAGE_UNAVAILABLE,
        },
    )
    @action(detail=False, methods=["post"], pagination_class=None, authentication_classes=WITH_ADMIN_SESSION)
    def upload_url(self, request: Request) -> Response:
        """A presigned POST for uploading one photo straight to S3 (S3 enforces the size limit and image/*)."""
        self.house_to_change(request)
        return Response(direct_upload_issue(user_id=signed_in_user_id(request)))

    @extend_schema(
        request=CompleteUploadSerializer,
        responses={
            201: PropertyImageSerializer,
            403: UPLOAD_KEY_REFUSED,
            404: UPLOAD_NOT_FOUND,
            409: UPLOAD_CONFLICT,
            503: STORAGE_UNAVAILABLE,
        },
    )
    @action(detail=False, methods=["post"], pagination_class=None, authentication_classes=WITH_ADMIN_SESSION)
    def complete_upload(self, request: Request) -> Response:
        """Check and store a photo posted to S3 through `upload_url`, like a multipart upload."""
        house, options = self.house_to_change(request)
        (image,) = direct_upload_complete(user_id=signed_in_user_id(request), house=house, **options)
        return created(image)

    @extend_schema(request=None, responses={200: PropertyImageSerializer})
    @action(detail=True, methods=["patch"])
    def set_as_main(self, request: Request, pk: str | None = None) -> Response:
        """Make this the property's only main image."""
        image = property_image_set_main(image=self.get_object())
        return Response(PropertyImageSerializer(image).data)
