"""Houses for sale and for rent: CRUD, and the actions on a house's photos (upload, reorder, CDN cookies)."""

from __future__ import annotations

import time
from functools import cached_property

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from ..answers import KeptAnswers
from ..filters import HouseForRentFilter, HouseForSaleFilter
from ..house_serializers import HouseForRentSerializer, HouseForSaleSerializer
from ..input_serializers import (
    HouseListQuerySerializer,
    ImageUploadOptionsSerializer,
    ImageUploadSerializer,
    ReorderImagesSerializer,
)
from ..models import House, HouseForRent, HouseForSale, PropertyImage, cover_images, image_count
from ..permissions import AdminSessionMayChange, IsOwnerOrStaffOrReadOnly
from ..schema import CDN_NOT_CONFIGURED, MEDIA_COOKIES
from ..serializers import PropertyImageSerializer
from ..services.image_updates import house_delete, property_images_reorder
from ..services.media_cookies import cloudfront_is_on, media_cookies_issue
from ..services.uploads import property_images_store
from .common import WITH_ADMIN_SESSION, ListFilteredViewSet, created, uploaded_files
from .share_links import ShareLinkActions


class HouseViewSet(KeptAnswers, ShareLinkActions, ListFilteredViewSet):
    """CRUD for one kind of house, plus the actions on its photos (upload, reorder, CDN cookies) and its share links."""

    permission_classes = [IsAuthenticated, IsOwnerOrStaffOrReadOnly]
    model: type[House]
    # The actions this configuration may not offer, and when it does: /api/schema/ states them only then.
    actions_available_when = {"media_cookies": cloudfront_is_on}

    def get_queryset(self):
        houses = self.model.objects.select_related("owner")
        if self.with_images:  # each house's images, counted as they are read
            return houses.prefetch_related("images")
        if self.action != "list":  # a house the action changes, not its answer
            return houses
        # A list's page: each house's cover, and its number of images counted for that house alone (a subquery the
        # database runs for the page's rows, from the images' index): never an aggregate over the whole catalogue.
        return houses.annotate(image_count=image_count(self.model)).prefetch_related(
            Prefetch("images", queryset=cover_images(), to_attr="cover_images")
        )

    @cached_property
    def with_images(self) -> bool:
        """Whether the answer carries every image of each house, decided here once (the serializer is told): one
        house's answer does; a list's with `?include=images` (any other value is a 400). drf-spectacular describes
        the view (swagger_fake_view) with every field."""
        if getattr(self, "swagger_fake_view", False):
            return True
        if self.action == "list":
            query = HouseListQuerySerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            return query.validated_data.get("include") == "images"
        return self.action in ("retrieve", "create", "update", "partial_update")  # the actions that answer the house

    @extend_schema(parameters=[HouseListQuerySerializer])
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "with_images": self.with_images}

    def perform_create(self, serializer) -> None:
        serializer.save(owner=self.request.user)

    def perform_destroy(self, instance: House) -> None:
        house_delete(house=instance)

    @extend_schema(
        request={"multipart/form-data": ImageUploadSerializer}, responses={201: PropertyImageSerializer(many=True)}
    )
    @action(
        detail=True,
        methods=["post"],
        parser_classes=[MultiPartParser],
        pagination_class=None,
        filter_backends=[],
    )
    def upload_images(self, request: Request, pk: str | None = None) -> Response:
        """Upload one or more photos (`images`: JPEG, PNG, WebP, HEIC or HEIF) to this house."""
        house = self.get_object()
        files = uploaded_files(request, "images")
        options = ImageUploadOptionsSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        return created(property_images_store(house=house, files=files, **options.validated_data))

    @extend_schema(request=ReorderImagesSerializer, responses={200: PropertyImageSerializer(many=True)})
    @action(
        detail=True,
        methods=["post"],
        pagination_class=None,
        filter_backends=[],
        # The admin's drag-and-drop calls it with its session (and CSRF token), as the admin would let it.
        authentication_classes=WITH_ADMIN_SESSION,
        permission_classes=[IsAuthenticated, IsOwnerOrStaffOrReadOnly, AdminSessionMayChange],
    )
    def reorder_images(self, request: Request, pk: str | None = None) -> Response:
        """Put this house's images in a new order in one go: `ids`, each of its images once, first to last. Answers
        the images in that order (`order` 0, 1, ...); `is_main` is unchanged."""
        house = self.get_object()
        body = ReorderImagesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        images = property_images_reorder(house=house, image_ids=body.validated_data["ids"])
        return Response(PropertyImageSerializer(images, many=True).data)

    @extend_schema(
        responses={200: MEDIA_COOKIES, 404: CDN_NOT_CONFIGURED},
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def media_cookies(self, request: Request, pk: str | None = None) -> Response:
        """CloudFront signed cookies for every photo of this house (its folder on the distribution), as JSON and,
        with AWS_CLOUDFRONT_COOKIE_DOMAIN set, as Set-Cookie: a gallery then loads them with plain CDN URLs."""
        issued = media_cookies_issue(house=self.get_object())
        response = Response(issued, headers={"Cache-Control": "private, no-store"})
        if settings.AWS_CLOUDFRONT_COOKIE_DOMAIN:
            for name, value in issued["cookies"].items():
                response.set_cookie(
                    name,
                    value,
                    max_age=issued["expires"] - int(time.time()),
                    domain=settings.AWS_CLOUDFRONT_COOKIE_DOMAIN,
                    path=issued["path"],
                    secure=True,
                    httponly=True,
                    samesite="Lax",
                )
        return response


class HouseForSaleViewSet(HouseViewSet):
    model = HouseForSale
    answer_depends_on = (HouseForSale, PropertyImage, get_user_model())  # a house shows its owner's username
    serializer_class = HouseForSaleSerializer
    filterset_class = HouseForSaleFilter


class HouseForRentViewSet(HouseViewSet):
    model = HouseForRent
    answer_depends_on = (HouseForRent, PropertyImage, get_user_model())
    serializer_class = HouseForRentSerializer
    filterset_class = HouseForRentFilter
