"""Who may change what: a house and its images belong to the house's owner (and staff)."""

from rest_framework import permissions
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound

from .models import House, PropertyImage


def can_change_house(user, house: House) -> bool:
    return bool(user and user.is_authenticated and (user.is_staff or house.owner_id == user.pk))


class IsOwnerOrStaffOrReadOnly(permissions.BasePermission):
    """Any authenticated user may read; only the owner of the house (or staff) may change it or its images."""

    message = "Only the owner of this property or staff may change it or its images."

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        house = obj.content_object if isinstance(obj, PropertyImage) else obj
        if house is None:
            # Deleted, with the photo, since the request found the photo: a 404, as if it had come a moment later.
            raise NotFound
        return can_change_house(request.user, house)


class AdminSessionMayChange(permissions.BasePermission):
    """A request authenticated by a session (the admin's direct upload calling the API) may change a house only
    as the admin would let it: staff with the change permission on that kind of house."""

    message = "You do not have permission to change this house."

    def has_permission(self, request, view) -> bool:
        return not isinstance(request.successful_authenticator, SessionAuthentication) or request.user.is_staff

    def has_object_permission(self, request, view, obj) -> bool:
        if not isinstance(request.successful_authenticator, SessionAuthentication):
            return True
        house = obj.content_object if isinstance(obj, PropertyImage) else obj
        return house is not None and request.user.has_perm(f"{house._meta.app_label}.change_{house._meta.model_name}")


class IsOwnerOrStaff(permissions.BasePermission):
    """Only the owner of the house (or staff), even to read: what is not part of the house's public answer (its
    share links, its originals as one download)."""

    message = "Only the owner of this property or staff may do this."

    def has_object_permission(self, request, view, obj) -> bool:
        return can_change_house(request.user, obj)
