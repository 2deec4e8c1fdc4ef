"""API views: houses for sale and for rent (houses.py), and their private images (images.py)."""

from .houses import HouseForRentViewSet, HouseForSaleViewSet
from .images import PropertyImageViewSet

__all__ = ["HouseForRentViewSet", "HouseForSaleViewSet", "PropertyImageViewSet"]
