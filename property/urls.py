"""API routes of the property app."""

from rest_framework.routers import DefaultRouter

from .views import HouseForRentViewSet, HouseForSaleViewSet, PropertyImageViewSet

router = DefaultRouter()
router.register("houses-for-sale", HouseForSaleViewSet, basename="house-for-sale")
router.register("houses-for-rent", HouseForRentViewSet, basename="house-for-rent")
router.register("property-images", PropertyImageViewSet, basename="property-image")

urlpatterns = router.urls
