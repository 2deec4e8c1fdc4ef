"""Share links: the owner's actions on a house (make, list, revoke, download its photos), and what anyone holding a
link reads without an account (the house's answer, its ZIP)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from ..models import House
from ..permissions import IsOwnerOrStaff
from ..schema import NO_DOWNLOAD, ZIP_OF_PHOTOS
from ..services.downloads import house_photos_zip, zip_name
from ..services.share_links import share_link_create, share_link_find, share_link_revoke, share_link_urls_end_at
from ..share_serializers import (
    NewShareLinkSerializer,
    SharedSerializer,
    ShareLinkCreateSerializer,
    ShareLinkSerializer,
)

OWNER_ONLY = [IsAuthenticated, IsOwnerOrStaff]


def zip_response(house: House) -> StreamingHttpResponse:
    """The house's photos as a ZIP streamed while S3 sends them, its size known first."""
    photos = house_photos_zip(house=house)
    response = StreamingHttpResponse(photos, content_type="application/zip")
    response["Content-Length"] = str(len(photos))
    response["Content-Disposition"] = f'attachment; filename="{zip_name(house)}"'
    response["Cache-Control"] = "private, no-store"
    return response


def shared_page(request: HttpRequest, token: str) -> HttpResponse:
    """`/shared/<token>/`: the page a person opens, whose script reads the link's answer (the same page for any
    token: the answer says whether the link works). Its URL holds the token: no Referer carries it to S3."""
    page = render(request, "property/shared.html", {"api_url": reverse("shared", args=[token])})
    page["Referrer-Policy"] = "no-referrer"
    page["Cache-Control"] = "private, no-store"
    return page


if TYPE_CHECKING:  # what the mixin is mixed into, for the type checker
    ViewSet = GenericAPIView
else:
    ViewSet = object


class ShareLinkActions(ViewSet):
    """The house viewsets' actions on a house's share links and its photos' ZIP: its owner's (or staff's) alone."""

    @extend_schema(methods=["GET"], responses={200: ShareLinkSerializer(many=True)})
    @extend_schema(methods=["POST"], request=ShareLinkCreateSerializer, responses={201: NewShareLinkSerializer})
    @action(
        detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[], permission_classes=OWNER_ONLY
    )
    def share_links(self, request: Request, pk: str | None = None) -> Response:
        """The house's share links, newest first (GET), or a new one (POST): a link anyone may open without an
        account until it expires (`expires_in` seconds, up to 30 days) or is revoked. Its token is in this answer
        only."""
        house = self.get_object()
        if request.method == "GET":
            return Response(ShareLinkSerializer(house.share_links.all(), many=True).data)
        body = ShareLinkCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        link, token = share_link_create(house=house, created_by=request.user, **body.validated_data)
        link.token = token
        link.url = request.build_absolute_uri(reverse("shared", args=[token]))
        link.page_url = request.build_absolute_uri(reverse("shared-page", args=[token]))
        return Response(NewShareLinkSerializer(link).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("link_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={204: None},
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"share_links/(?P<link_id>[0-9]+)",
        pagination_class=None,
        filter_backends=[],
        permission_classes=OWNER_ONLY,
    )
    def revoke_share_link(self, request: Request, pk: str | None = None, link_id: str | None = None) -> Response:
        """Revoke one of the house's share links, at once: it answers 404 from the next request on. Its other
        links keep working."""
        link = get_object_or_404(self.get_object().share_links, pk=link_id)
        share_link_revoke(link=link)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={(200, "application/zip"): ZIP_OF_PHOTOS})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[], permission_classes=OWNER_ONLY)
    def download(self, request: Request, pk: str | None = None) -> StreamingHttpResponse:
        """Every photo of the house (the stored originals) as one ZIP, in the gallery's order."""
        return zip_response(self.get_object())


class SharedView(GenericAPIView):
    """What a share link opens, without an account: throttled per client address."""

    serializer_class = SharedSerializer
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "shared"


class SharedHouseView(SharedView):
    @extend_schema(responses={200: SharedSerializer}, auth=[])
    def get(self, request: Request, token: str) -> Response:
        """The shared house's public fields and its photos, as a signed-in user sees them, their URLs ending within
        SHARE_LINK_URL_SECONDS (5 minutes) and never after the link. Counts a view. 404 for a link unknown,
        expired or revoked alike."""
        link = share_link_find(token=token, count_view=True)
        house = cast(House, link.house)  # share_link_find finds only a link whose house is there
        ends_at = share_link_urls_end_at(link)
        answer = {
            "house": house,
            "images": house.images.order_by("order", "id"),
            "expires_at": link.expires_at,
            "urls_expire_at": datetime.fromtimestamp(ends_at, tz=UTC),
            "download_url": request.build_absolute_uri(reverse("shared-download", args=[token]))
            if link.allow_download
            else None,
        }
        context = {"request": request, "urls_end_at": ends_at}
        return Response(SharedSerializer(answer, context=context).data, headers={"Cache-Control": "private, no-store"})


class SharedDownloadView(SharedView):
    @extend_schema(
        responses={
            (200, "application/zip"): ZIP_OF_PHOTOS,
            403: NO_DOWNLOAD,
        },
        auth=[],
    )
    def get(self, request: Request, token: str) -> StreamingHttpResponse:
        """The shared house's photos as one ZIP, when the link allows it (else 403)."""
        link = share_link_find(token=token)
        if not link.allow_download:
            raise PermissionDenied("This link does not offer the photos as a download.")
        return zip_response(cast(House, link.house))  # there, as share_link_find found it
