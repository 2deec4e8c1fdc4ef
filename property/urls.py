"""API routes of the property app."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from .views import HouseForRentViewSet, HouseForSaleViewSet, PropertyImageViewSet
from .views.changes import ChangesView
from .views.share_links import SharedDownloadView, SharedHouseView

router = DefaultRouter()
router.register("houses-for-sale", HouseForSaleViewSet, basename="house-for-sale")
router.register("houses-for-rent", HouseForRentViewSet, basename="house-for-rent")
router.register("property-images", PropertyImageViewSet, basename="property-image")

urlpatterns = [
    *router.urls,
    path("changes/", ChangesView.as_view(), name="changes"),
    path("shared/<str:token>/", SharedHouseView.as_view(), name="shared"),
    path("shared/<str:token>/download/", SharedDownloadView.as_view(), name="shared-download"),
]
