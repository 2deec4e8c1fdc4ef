"""Django admin for houses and their private images."""

from django.contrib import admin

from .models import HouseForRent, HouseForSale, PropertyImage


@admin.register(HouseForSale)
class HouseForSaleAdmin(admin.ModelAdmin):
    list_display = ["title", "city", "price", "owner", "created_at"]
    list_filter = ["city"]
    search_fields = ["title", "address", "city"]


@admin.register(HouseForRent)
class HouseForRentAdmin(admin.ModelAdmin):
    list_display = ["title", "city", "monthly_rent", "owner", "created_at"]
    list_filter = ["city"]
    search_fields = ["title", "address", "city"]


@admin.register(PropertyImage)
class PropertyImageAdmin(admin.ModelAdmin):
    list_display = ["id", "original_filename", "content_type", "object_id", "is_main", "order", "created_at"]
    list_filter = ["content_type", "is_main"]
    readonly_fields = ["image", "original_filename", "width", "height", "size", "mime_type", "created_at", "updated_at"]
