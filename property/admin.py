"""Django admin for houses and their private images: thumbnails from presigned URLs, multi-file upload
through the server or straight from the browser to the bucket."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.admin import GenericTabularInline
from django.db.models import Prefetch
from django.http import HttpRequest, JsonResponse
from django.urls import path, reverse
from django.utils.html import format_html

from backend.exceptions import S3_UNAVAILABLE_HEADERS
from backend.s3 import S3StorageError

from .images import ImageRejected, sanitize_image
from .models import House, HouseForRent, HouseForSale, PropertyImage
from .serializers import StagedFileSerializer
from .services import (
    ImageNotFound,
    PropertyNotFound,
    TooManyImages,
    direct_upload_complete,
    direct_upload_issue,
    property_image_update,
    property_images_store,
)
from .views import DIRECT_UPLOAD_UNAVAILABLE, UPLOAD_FAILURES, upload_failure


def thumbnail_url(image: PropertyImage) -> str | None:
    """A presigned URL of the 320 px thumbnail variant where it exists (the admin does not need the full
    photo), else of the original; None when it cannot be signed."""
    return image.get_secure_url(variant="thumbnail") or image.get_secure_url()


def thumbnail(image: PropertyImage | None, *, height: int = 80) -> str:
    """An <img> of a presigned URL: the admin never shows a public URL."""
    if image is None or not image.pk:
        return "-"
    presigned_url = thumbnail_url(image)
    if not presigned_url:
        return "(could not sign)"
    return format_html(
        '<img class="property-thumbnail" src="{}" alt="{}" style="max-height:{}px" loading="lazy">',
        presigned_url,
        image.original_filename,
        height,
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several files in one input; each is checked like an API upload."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        cleaned = [super(MultipleImageField, self).clean(upload, initial) for upload in files]
        errors = []
        for upload in cleaned:
            try:
                sanitize_image(upload, filename=upload.name).close()
            except ImageRejected as rejection:
                errors.append(str(rejection))
        if errors:
            raise forms.ValidationError(errors)
        return cleaned


class HouseAdminForm(forms.ModelForm):
    upload_images = MultipleImageField(
        required=False, label="Upload images", help_text="JPEG or PNG, up to 10 MB each. They go to the private bucket."
    )


class PropertyImageInline(GenericTabularInline):
    model = PropertyImage
    extra = 0
    fields = ["preview", "original_filename", "caption", "order", "is_main", "size"]
    readonly_fields = ["preview", "original_filename", "size"]
    ordering = ["order", "id"]

    @admin.display(description="Image")
    def preview(self, image: PropertyImage) -> str:
        return thumbnail(image)

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # new images come through "Upload images", which checks and re-encodes them


class HouseAdmin(admin.ModelAdmin):
    form = HouseAdminForm
    inlines = [PropertyImageInline]
    search_fields = ["title", "address", "city", "owner__username"]
    list_select_related = ["owner"]
    readonly_fields = ["direct_upload", "created_at", "updated_at"]

    class Media:
        js = ["property/admin/direct_upload.js"]

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            # Before the parent's URLs: they end with a catch-all `<object_id>/` redirect.
            path(
                "<path:object_id>/direct-upload/url/",
                self.admin_site.admin_view(self.direct_upload_url_view),
                name=f"{name}_direct_upload_url",
            ),
            path(
                "<path:object_id>/direct-upload/complete/",
                self.admin_site.admin_view(self.direct_upload_complete_view),
                name=f"{name}_direct_upload_complete",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="Direct upload")
    def direct_upload(self, house: House) -> str:
        """Photos sent from the browser straight to the private bucket (presigned POST), then checked
        and stored by the server like any other upload: nothing large goes through this server."""
        if not house.pk:
            return "Save the house first: then photos can be sent straight to the private bucket."
        name = f"admin:{self.opts.app_label}_{self.opts.model_name}"
        return format_html(
            '<div class="direct-upload" data-upload-url="{}" data-complete-url="{}">'
            '<input type="file" class="direct-upload-files" multiple accept="image/jpeg,image/png" '
            'aria-label="Photos to send straight to the bucket"> '
            '<button type="button" class="button direct-upload-start">Send to the bucket</button>'
            '<ul class="direct-upload-status"></ul>'
            "</div>",
            reverse(f"{name}_direct_upload_url", args=[house.pk]),
            reverse(f"{name}_direct_upload_complete", args=[house.pk]),
        )

    def house_for_direct_upload(self, request: HttpRequest, object_id: str) -> House | JsonResponse:
        """The house a direct-upload call is about, or the JSON answer that refuses the call."""
        if request.method != "POST":
            return JsonResponse({"error": "Use POST"}, status=405)
        house = self.get_object(request, unquote(object_id))
        if house is None:
            return JsonResponse({"error": "There is no such house"}, status=404)
        if not self.has_change_permission(request, house):
            return JsonResponse({"error": "You do not have permission to change this house"}, status=403)
        return house

    def direct_upload_url_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        """The API's upload_url for the admin's session: a presigned POST for one staging key."""
        house = self.house_for_direct_upload(request, object_id)
        if isinstance(house, JsonResponse):
            return house
        try:
            return JsonResponse(direct_upload_issue(user_id=request.user.pk))
        except S3StorageError:
            return JsonResponse(DIRECT_UPLOAD_UNAVAILABLE, status=503, headers=S3_UNAVAILABLE_HEADERS)

    def direct_upload_complete_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        """The API's complete_upload for the admin's session: `{"key", "filename"}` → 201 with the image."""
        house = self.house_for_direct_upload(request, object_id)
        if isinstance(house, JsonResponse):
            return house
        try:
            staged = StagedFileSerializer(data=json.loads(request.body))
        except ValueError:
            staged = None
        if staged is None or not staged.is_valid():
            return JsonResponse({"error": 'Send JSON: {"key": "...", "filename": "..."}'}, status=400)
        try:
            (image,) = direct_upload_complete(user_id=request.user.pk, house=house, **staged.validated_data)
        except UPLOAD_FAILURES as error:
            status_code, body = upload_failure(error)
            return JsonResponse(body, status=status_code)
        return JsonResponse(
            {"id": image.pk, "original_filename": image.original_filename, "thumbnail_url": thumbnail_url(image)},
            status=201,
        )

    def get_queryset(self, request):
        main_images = PropertyImage.objects.filter(is_main=True)
        return super().get_queryset(request).prefetch_related(Prefetch("images", main_images, to_attr="main_images"))

    @admin.display(description="Main image")
    def main_image(self, house: House) -> str:
        return thumbnail(next(iter(getattr(house, "main_images", [])), None), height=48)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        uploads = form.cleaned_data.get("upload_images") or []
        if not uploads:
            return
        try:
            stored = property_images_store(house=form.instance, files=uploads)
        except (ImageRejected, TooManyImages) as rejection:
            self.message_user(request, str(rejection), messages.ERROR)
        except S3StorageError:
            self.message_user(request, "The storage service is unavailable: no image was stored.", messages.ERROR)
        except PropertyNotFound:
            self.message_user(request, "The house was deleted meanwhile: no image was stored.", messages.ERROR)
        else:
            self.message_user(request, f"Stored {len(stored)} image(s) in the private bucket.", messages.SUCCESS)

    def save_formset(self, request, form, formset, change) -> None:
        if formset.model is not PropertyImage:
            super().save_formset(request, form, formset, change)
            return
        changed = formset.save(commit=False)
        for image in formset.deleted_objects:
            image.delete()  # its object goes once the transaction commits
        # Through the service: making one image main unsets the other one first.
        for image in sorted(changed, key=lambda image: image.is_main):
            try:
                property_image_update(image=image, caption=image.caption, order=image.order, is_main=image.is_main)
            except ImageNotFound:
                self.message_user(request, f"Image {image.pk} was deleted meanwhile: not changed.", messages.WARNING)


class PriceRangeFilter(admin.SimpleListFilter):
    title = "price"
    parameter_name = "price_range"
    field_name = "price"
    ranges = [("0-150000", "up to 150,000"), ("150000-400000", "150,000 to 400,000"), ("400000-", "over 400,000")]

    def lookups(self, request, model_admin):
        return self.ranges

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        low, _, high = self.value().partition("-")
        queryset = queryset.filter(**{f"{self.field_name}__gte": low})
        return queryset.filter(**{f"{self.field_name}__lt": high}) if high else queryset


class MonthlyRentRangeFilter(PriceRangeFilter):
    title = "monthly rent"
    parameter_name = "rent_range"
    field_name = "monthly_rent"
    ranges = [("0-800", "up to 800"), ("800-1500", "800 to 1,500"), ("1500-", "over 1,500")]


@admin.register(HouseForSale)
class HouseForSaleAdmin(HouseAdmin):
    list_display = ["title", "main_image", "city", "price", "owner", "created_at"]
    list_filter = ["city", "owner", PriceRangeFilter]


@admin.register(HouseForRent)
class HouseForRentAdmin(HouseAdmin):
    list_display = ["title", "main_image", "city", "monthly_rent", "owner", "created_at"]
    list_filter = ["city", "owner", MonthlyRentRangeFilter]
