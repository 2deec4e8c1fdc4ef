"""Django admin for houses and their private images: thumbnails from presigned URLs, multi-file upload
through the server or straight from the browser to the bucket (through the API's own upload_url and
complete_upload, with the admin's session)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.contenttypes.admin import GenericTabularInline
from django.db import models
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.html import format_html

from backend.exceptions import ApplicationError

from .images import UPLOAD_ACCEPT, UPLOAD_TYPES_DESCRIPTION, human_size
from .models import House, HouseForRent, HouseForSale, PropertyImage, property_kind_of
from .pagination import IndexedPaginator
from .services.image_updates import (
    IMAGE_CHANGEABLE_FIELDS,
    ImageNotFound,
    PropertyNotFound,
    house_delete,
    property_image_update,
)
from .services.uploads import TooManyImages, UploadRejected, sanitized_images_store, upload_sanitize
from .share_link_admin import ShareLinkInline, house_admin_link


def thumbnail_url(image: PropertyImage) -> str | None:
    """A presigned URL of the 320 px thumbnail variant where it exists (the admin does not need the full
    photo), else of the original; None when it cannot be signed."""
    return image.get_secure_url(variant="thumbnail") or image.get_secure_url()


def thumbnail(image: PropertyImage | None, *, height: int = 80) -> str:
    """An <img> of a presigned URL (the admin never shows a public URL) on the photo's average colour, which shows
    until the photo arrives: while the variants are pending, the whole original."""
    if image is None or not image.pk:
        return "-"
    presigned_url = thumbnail_url(image)
    if not presigned_url:
        return "(could not sign)"
    return format_html(
        '<img class="property-thumbnail" src="{}" alt="{}" style="max-height:{}px;background-color:{}" loading="lazy">',
        presigned_url,
        image.original_filename,
        height,
        image.color or "transparent",
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several files in one input; each is checked and re-encoded like an API upload, once: the form's cleaned
    value is the checked images, which save_related stores."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": UPLOAD_ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > settings.PROPERTY_IMAGE_MAX_FILES:  # before decoding any of them
            raise forms.ValidationError(TooManyImages(settings.PROPERTY_IMAGE_MAX_FILES).message)
        cleaned = [super(MultipleImageField, self).clean(upload, initial) for upload in files]
        images, errors = [], []
        for upload in cleaned:
            try:
                images.append(upload_sanitize(upload))
            except UploadRejected as rejection:
                errors.append(rejection.message)
        if errors:
            for image in images:
                image.close()
            raise forms.ValidationError(errors)
        return images


class HouseAdminForm(forms.ModelForm):
    upload_images = MultipleImageField(required=False, label="Upload images")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        limit = human_size(settings.PROPERTY_IMAGE_MAX_UPLOAD_SIZE)
        self.fields["upload_images"].help_text = (
            f"{UPLOAD_TYPES_DESCRIPTION} (a phone's HEIC is stored as JPEG), up to {limit} each. "
            "They go to the private bucket."
        )


class PropertyImageInline(GenericTabularInline):
    model = PropertyImage
    extra = 0
    fields = ["preview", "original_filename", "caption", "category", "description", "order", "is_main", "size"]
    fields += ["modified_at"]
    readonly_fields = ["preview", "original_filename", "size", "modified_at"]
    # Alt text of up to 1,024 characters, in a box that fits the row.
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 30})}}
    ordering = ["order", "id"]

    @admin.display(description="Image")
    def preview(self, image: PropertyImage) -> str:
        return thumbnail(image)

    @admin.display(description="Modified")
    def modified_at(self, image: PropertyImage):
        """The API's `modified_at`: when the photo or anything said of it last changed."""
        return image.updated_at

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # new images come through "Upload images", which checks and re-encodes them


class HouseAdmin(admin.ModelAdmin):
    form = HouseAdminForm
    inlines = [PropertyImageInline, ShareLinkInline]
    search_fields = ["title", "address", "city", "owner__username"]
    list_select_related = ["owner"]
    # At 100,000 houses: one COUNT per page, not a second one of the whole table beside a filtered list's; the owner
    # typed as an id (with the lookup popup) instead of a dropdown of every user.
    show_full_result_count = False
    raw_id_fields = ["owner"]
    paginator = IndexedPaginator  # the count kept until a house is written, as the API's lists keep it
    readonly_fields = ["direct_upload", "image_order", "created_at", "updated_at"]

    class Media:
        js = ["property/admin/direct_upload.js", "property/admin/reorder_images.js"]

    @admin.display(description="Photo order")
    def image_order(self, house: House) -> str:
        """Where reorder_images.js sends a new order of the photos (the API's reorder_images), dragged in the
        images below; without JavaScript, their order fields set it when the house is saved."""
        if not house.pk:
            return "-"
        kind = property_kind_of(self.model)
        return format_html(
            '<div class="image-order" data-reorder-url="{}">'
            "Drag a photo's row in the images below to move it: the new order is saved at once. "
            '<span class="image-order-status" role="status"></span></div>',
            reverse(f"{kind.replace('_', '-')}-reorder-images", args=[house.pk]),
        )

    @admin.display(description="Direct upload")
    def direct_upload(self, house: House) -> str:
        """Photos sent from the browser straight to the private bucket (presigned POST), then checked
        and stored by the server like any other upload: nothing large goes through this server."""
        if not house.pk:
            return "Save the house first: then photos can be sent straight to the private bucket."
        return format_html(
            '<div class="direct-upload" data-upload-url="{}" data-complete-url="{}" data-content-type="{}" '
            'data-object-id="{}">'
            '<input type="file" class="direct-upload-files" multiple accept="{}" '
            'aria-label="Photos to send straight to the bucket"> '
            '<button type="button" class="button direct-upload-start">Send to the bucket</button>'
            '<ul class="direct-upload-status"></ul>'
            "</div>",
            reverse("property-image-upload-url"),
            reverse("property-image-complete-upload"),
            property_kind_of(self.model),
            house.pk,
            UPLOAD_ACCEPT,
        )

    def get_queryset(self, request):
        main_images = PropertyImage.objects.filter(is_main=True)
        return super().get_queryset(request).prefetch_related(Prefetch("images", main_images, to_attr="main_images"))

    @admin.display(description="Main image")
    def main_image(self, house: House) -> str:
        return thumbnail(next(iter(getattr(house, "main_images", [])), None), height=48)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        images = form.cleaned_data.get("upload_images") or []
        if not images:
            return
        try:
            stored = sanitized_images_store(house=form.instance, images=images)
        except PropertyNotFound:
            self.message_user(request, "The house was deleted meanwhile: no image was stored.", messages.ERROR)
        except ApplicationError as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
        else:
            self.message_user(request, f"Stored {len(stored)} image(s) in the private bucket.", messages.SUCCESS)
        finally:
            for image in images:
                image.close()

    def delete_model(self, request, obj: House) -> None:
        house_delete(house=obj)  # under the house's lock, as the API deletes it

    def delete_queryset(self, request, queryset) -> None:
        for house in queryset:
            house_delete(house=house)

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
                property_image_update(
                    image=image, **{field: getattr(image, field) for field in IMAGE_CHANGEABLE_FIELDS}
                )
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
        value = self.value()
        if not value:
            return queryset
        low, _, high = value.partition("-")
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


@admin.register(PropertyImage)
class PropertyImageAdmin(admin.ModelAdmin):
    """Every photo, newest list order first as the API lists them, to look one up: read-only here (a house's page
    changes its photos, through the same services as the API), deletable (its objects go once that commits)."""

    list_display = ["preview", "house", "original_filename", "category", "order", "is_main", "variants_status"]
    list_display += ["created_at"]
    list_filter = ["variants_status", "is_main", "category"]
    # A page of a million photos read from the (order, id) index and counted once per change (list_counts.py).
    show_full_result_count = False
    paginator = IndexedPaginator
    fields = readonly_fields = (
        *("preview", "house", "original_filename", "caption", "category", "description", "order", "is_main"),
        *("width", "height", "size", "mime_type", "variants_status", "created_at", "updated_at"),
    )

    @admin.display(description="Image")
    def preview(self, image: PropertyImage) -> str:
        return thumbnail(image, height=48)

    @admin.display(description="House")
    def house(self, image: PropertyImage) -> str:
        return house_admin_link(image.content_type_id, image.object_id)

    def has_add_permission(self, request) -> bool:
        return False  # photos come through a house's "Upload images", which checks and re-encodes them

    def has_change_permission(self, request, obj=None) -> bool:
        return False
