"""What the house and image views share: the list-only filters, uploaded files, a 201 of images, and the
admin session for the actions the admin calls."""

from __future__ import annotations

from rest_framework import status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from ..models import PropertyImage
from ..serializers import PropertyImageSerializer
from ..services.uploads import NoImagesProvided


def signed_in_user_id(request: Request) -> int:
    """The id of the user the request is signed in as (NotAuthenticated, a 401, for no one)."""
    user_id = request.user.pk if request.user.is_authenticated else None
    if user_id is None:
        raise NotAuthenticated
    return user_id


def uploaded_files(request: Request, field: str) -> list:
    """The files of a multipart upload; the guide's `No images provided` when there are none (before any other
    field is read)."""
    files = request.FILES.getlist(field)
    if not files:
        raise NoImagesProvided
    return files


def created(images: list[PropertyImage] | PropertyImage) -> Response:
    many = isinstance(images, list)
    return Response(PropertyImageSerializer(images, many=many).data, status=status.HTTP_201_CREATED)


# The admin's direct upload calls upload_url and complete_upload with its session (and CSRF token).
WITH_ADMIN_SESSION = [*api_settings.DEFAULT_AUTHENTICATION_CLASSES, SessionAuthentication]


class ListFilteredViewSet(viewsets.ModelViewSet):
    """A ModelViewSet whose filters apply to its list only: they are the list's query parameters, and a single
    object is found by its id alone (django-filter would otherwise build and validate a form on every request)."""

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset) if self.action == "list" else queryset
