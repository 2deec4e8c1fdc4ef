"""API views: houses for sale and for rent, and their private images."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import IO

from django.conf import settings
from django.db.models import Count, Prefetch
from django.http import HttpResponseRedirect
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from backend.exceptions import S3_UNAVAILABLE_HEADERS, ErrorBodyException
from backend.s3 import S3StorageError

from .filters import HouseForRentFilter, HouseForSaleFilter, PropertyImageFilter
from .images import ImageRejected
from .models import House, HouseForRent, HouseForSale, PropertyImage, cover_images
from .permissions import IsOwnerOrStaffOrReadOnly, can_change_house
from .serializers import (
    BulkImageUploadSerializer,
    BulkUploadSerializer,
    CompleteUploadSerializer,
    ExpirationSerializer,
    HouseForRentSerializer,
    HouseForSaleSerializer,
    ImageUploadOptionsSerializer,
    ImageUploadSerializer,
    PropertyImageCreateSerializer,
    PropertyImageSerializer,
    PropertyTargetSerializer,
)
from .services import (
    NoImagesProvided,
    PropertyNotFound,
    TooManyImages,
    UploadInProgress,
    UploadKeyRejected,
    UploadNotFound,
    UploadUsedElsewhere,
    direct_upload_complete,
    direct_upload_issue,
    property_image_set_main,
    property_image_update,
    property_images_store,
)


class SecureUrlUnavailable(ErrorBodyException):
    """The guide's `500 {"error": "Could not generate secure URL"}`: signing is impossible (no credentials)."""

    status_code = status.HTTP_500_INTERNAL_SERVER_ERROR
    default_detail = "Could not generate secure URL"


NO_IMAGES_ERROR = {"error": "No images provided"}
DIRECT_UPLOAD_UNAVAILABLE = {"error": "Could not prepare the upload: the storage service is unavailable, please retry"}


def ensure_can_change(request: Request, house: House) -> None:
    if not can_change_house(request.user, house):
        raise PermissionDenied(IsOwnerOrStaffOrReadOnly.message)


UPLOAD_FAILURES = (
    NoImagesProvided,
    ImageRejected,
    TooManyImages,
    UploadKeyRejected,
    UploadNotFound,
    UploadInProgress,
    UploadUsedElsewhere,
    PropertyNotFound,
    S3StorageError,
)


def upload_failure(error: Exception) -> tuple[int, dict]:
    """The status and JSON body that tell a client why an upload service refused (or could not finish)
    an upload: one of UPLOAD_FAILURES."""
    if isinstance(error, NoImagesProvided):
        return status.HTTP_400_BAD_REQUEST, NO_IMAGES_ERROR
    if isinstance(error, ImageRejected | TooManyImages):
        return status.HTTP_400_BAD_REQUEST, {"error": str(error)}
    if isinstance(error, UploadKeyRejected):
        return status.HTTP_403_FORBIDDEN, {"error": "This upload key was not issued to you"}
    if isinstance(error, UploadNotFound):
        return status.HTTP_404_NOT_FOUND, {
            "error": "Nothing was uploaded under this key: post the file to the upload URL first"
        }
    if isinstance(error, UploadUsedElsewhere):
        return status.HTTP_409_CONFLICT, {"error": "This upload was already completed for another property"}
    if isinstance(error, UploadInProgress):
        return status.HTTP_409_CONFLICT, {
            "error": "Another request is completing this upload right now: send this one again in a moment"
        }
    if isinstance(error, PropertyNotFound):
        return status.HTTP_404_NOT_FOUND, {"detail": "Not found."}  # the house was deleted meanwhile
    if isinstance(error, S3StorageError):
        return status.HTTP_503_SERVICE_UNAVAILABLE, {
            "error": "Could not store the images: the storage service is unavailable, please retry"
        }
    raise TypeError(f"not an upload failure: {error!r}")


def stored_images_response(store: Callable[[], list[PropertyImage]], *, single: bool = False) -> Response:
    """Run an upload service and turn its outcome into the API's answer: 201 with the images (or, with
    `single`, the one image), or why not."""
    try:
        images = store()
    except UPLOAD_FAILURES as error:
        status_code, body = upload_failure(error)
        return Response(
            body, status=status_code, headers=S3_UNAVAILABLE_HEADERS if isinstance(error, S3StorageError) else None
        )
    data = PropertyImageSerializer(images[0]).data if single else PropertyImageSerializer(images, many=True).data
    return Response(data, status=status.HTTP_201_CREATED)


def store_images_response(
    *, request: Request, house: House, files: Sequence[IO[bytes]], options: dict, single: bool = False
) -> Response:
    """Store multipart files for `house` on behalf of the request's user."""
    ensure_can_change(request, house)
    return stored_images_response(
        lambda: property_images_store(
            house=house,
            files=files,
            caption=options.get("caption", ""),
            is_main=options.get("is_main", False),
            order=options.get("order"),
        ),
        single=single,
    )


def validated(serializer_class: type[serializers.Serializer], data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ListFilteredViewSet(viewsets.ModelViewSet):
    """A ModelViewSet whose filters apply to its list only: they are the list's query parameters, and a single
    object is found by its id alone (django-filter would otherwise build and validate a form on every request)."""

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset) if self.action == "list" else queryset


class HouseViewSet(ListFilteredViewSet):
    """CRUD for one kind of house, plus `upload_images`."""

    permission_classes = [IsAuthenticated, IsOwnerOrStaffOrReadOnly]
    model: type[House]

    def get_queryset(self):
        houses = (
            self.model.objects.select_related("owner")
            .annotate(image_count=Count("images"))
            .order_by(*self.model._meta.ordering)  # a GROUP BY query leaves Meta.ordering out
        )
        if self.action == "list":  # each house's cover image
            houses = houses.prefetch_related(Prefetch("images", queryset=cover_images(), to_attr="cover_images"))
        return houses.prefetch_related("images") if self.with_images else houses

    @property
    def with_images(self) -> bool:
        """Whether the answer carries every image of each house: one house's does; a list's, with ?include=images
        (which HouseFilter validates and documents). drf-spectacular describes the view (swagger_fake_view) with
        every field."""
        return (
            self.action != "list"
            or getattr(self, "swagger_fake_view", False)
            or self.request.query_params.get("include") == "images"
        )

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "with_images": self.with_images}

    def perform_create(self, serializer) -> None:
        serializer.save(owner=self.request.user)

    @extend_schema(
        request={"multipart/form-data": ImageUploadSerializer}, responses={201: PropertyImageSerializer(many=True)}
    )
    @action(
        detail=True,
        methods=["post"],
        parser_classes=[MultiPartParser, FormParser],
        pagination_class=None,
        filter_backends=[],
    )
    def upload_images(self, request: Request, pk: str | None = None) -> Response:
        """Upload one or more JPEG/PNG files (`images`) to this house."""
        house = self.get_object()
        files = request.FILES.getlist("images")
        if not files:
            return Response(NO_IMAGES_ERROR, status=status.HTTP_400_BAD_REQUEST)
        options = validated(ImageUploadOptionsSerializer, request.data)
        return store_images_response(request=request, house=house, files=files, options=options)


def documented_as_json(serializer_class: type[serializers.Serializer], actions=("create", "update", "partial_update")):
    """Document these actions' request body as JSON only: DRF also parses forms, which can say neither null nor
    a typed number or boolean, so a schema of their fields would promise what a form cannot send."""
    return extend_schema_view(
        **{action: extend_schema(request={"application/json": serializer_class}) for action in actions}
    )


@documented_as_json(HouseForSaleSerializer)
class HouseForSaleViewSet(HouseViewSet):
    model = HouseForSale
    serializer_class = HouseForSaleSerializer
    filterset_class = HouseForSaleFilter


@documented_as_json(HouseForRentSerializer)
class HouseForRentViewSet(HouseViewSet):
    model = HouseForRent
    serializer_class = HouseForRentSerializer
    filterset_class = HouseForRentFilter


EXPIRATION_PARAMETER = OpenApiParameter(
    "expiration",
    {"type": "integer", "minimum": 1, "maximum": settings.PRESIGNED_URL_MAX_EXPIRATION},
    description="Seconds the URL stays valid (1 to 604800, default 3600).",
)
VARIANT_PARAMETER = OpenApiParameter(
    "variant",
    str,
    enum=list(settings.PROPERTY_IMAGE_VARIANT_WIDTHS),
    description="A smaller copy instead of the original.",
)


@documented_as_json(PropertyImageSerializer, actions=("update", "partial_update"))
@extend_schema_view(create=extend_schema(request={"multipart/form-data": PropertyImageCreateSerializer}))
class PropertyImageViewSet(ListFilteredViewSet):
    """Private property images: CRUD, presigned URLs, bulk upload and choosing the main image."""

    queryset = PropertyImage.objects.all()
    permission_classes = [IsAuthenticated, IsOwnerOrStaffOrReadOnly]
    filterset_class = PropertyImageFilter
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_serializer_class(self):
        if self.action == "create":
            return PropertyImageCreateSerializer
        if self.action == "bulk_upload":
            return BulkUploadSerializer
        return PropertyImageSerializer

    @extend_schema(responses={201: PropertyImageSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        """Upload one file (`image`) for the house named by `content_type` and `object_id`."""
        options = validated(PropertyImageCreateSerializer, request.data)
        return store_images_response(
            request=request, house=options["house"], files=[options["image"]], options=options, single=True
        )

    def perform_update(self, serializer: PropertyImageSerializer) -> None:
        serializer.instance = property_image_update(image=serializer.instance, **serializer.validated_data)

    @extend_schema(
        parameters=[EXPIRATION_PARAMETER, VARIANT_PARAMETER],
        responses={
            200: inline_serializer(
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
        },
    )
    @action(detail=True, methods=["get"])
    def secure_url(self, request: Request, pk: str | None = None) -> Response:
        """A presigned URL for this image (or one of its variants, or the original while they are being made),
        valid for `expiration` seconds."""
        image = self.get_object()
        presigned_url, expiration, is_original = self.presigned_url_for(request, image)
        body = {"secure_url": presigned_url, "expires_in": expiration, "image_id": image.pk}
        if "variant" in request.query_params:
            body["is_original"] = is_original
        return Response(body)

    @extend_schema(
        parameters=[EXPIRATION_PARAMETER, VARIANT_PARAMETER],
        responses={302: OpenApiResponse(description="To the image")},
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
        query = validated(ExpirationSerializer, request.query_params)
        variant = query.get("variant")
        if variant and variant not in image.variants and not image.variants_stand_in:
            raise NotFound(f"This image has no {variant} variant yet (manage.py rebuild_variants makes it).")
        presigned_url = image.get_secure_url(query["expiration"], variant=variant)
        if not presigned_url:
            raise SecureUrlUnavailable
        return presigned_url, query["expiration"], variant not in image.variants

    @extend_schema(
        request={"multipart/form-data": BulkImageUploadSerializer},
        responses={201: PropertyImageSerializer(many=True)},
    )
    @action(
        detail=False,
        methods=["post"],
        parser_classes=[MultiPartParser, FormParser],
        pagination_class=None,
        filter_backends=[],
    )
    def bulk_upload(self, request: Request) -> Response:
        """Upload several files (`images`) for the house named by `content_type` and `object_id`."""
        files = request.FILES.getlist("images")
        if not files:
            return Response(NO_IMAGES_ERROR, status=status.HTTP_400_BAD_REQUEST)
        options = validated(BulkUploadSerializer, request.data)
        return store_images_response(request=request, house=options["house"], files=files, options=options)

    @extend_schema(
        request=PropertyTargetSerializer,
        responses={
            200: inline_serializer(
                "DirectUpload",
                {
                    "url": serializers.URLField(),
                    "fields": serializers.DictField(child=serializers.CharField()),
                    "key": serializers.CharField(),
                    "expires_in": serializers.IntegerField(),
                    "max_size": serializers.IntegerField(),
                },
            )
        },
    )
    @action(detail=False, methods=["post"], pagination_class=None)
    def upload_url(self, request: Request) -> Response:
        """A presigned POST for uploading one photo straight to S3 (S3 enforces the size limit and image/*)."""
        ensure_can_change(request, validated(PropertyTargetSerializer, request.data)["house"])
        try:
            return Response(direct_upload_issue(user_id=request.user.pk))
        except S3StorageError:
            return Response(
                DIRECT_UPLOAD_UNAVAILABLE, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers=S3_UNAVAILABLE_HEADERS
            )

    @extend_schema(request=CompleteUploadSerializer, responses={201: PropertyImageSerializer})
    @action(detail=False, methods=["post"], pagination_class=None)
    def complete_upload(self, request: Request) -> Response:
        """Check and store a photo posted to S3 through `upload_url`, like a multipart upload."""
        options = validated(CompleteUploadSerializer, request.data)
        ensure_can_change(request, options["house"])
        return stored_images_response(
            lambda: direct_upload_complete(
                user_id=request.user.pk,
                key=options["key"],
                house=options["house"],
                filename=options["filename"],
                caption=options["caption"],
                is_main=options["is_main"],
                order=options.get("order"),
            ),
            single=True,
        )

    @extend_schema(request=None, responses={200: PropertyImageSerializer})
    @action(detail=True, methods=["patch"])
    def set_as_main(self, request: Request, pk: str | None = None) -> Response:
        """Make this the property's only main image."""
        image = property_image_set_main(image=self.get_object())
        return Response(PropertyImageSerializer(image).data)
