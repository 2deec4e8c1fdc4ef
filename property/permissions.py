"""Who may change what: a house and its images belong to the house's owner (and staff)."""

from rest_framework import permissions

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
        return house is not None and can_change_house(request.user, house)
