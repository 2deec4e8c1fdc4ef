"""Share links in the admin: a house's links on its page, where staff revoke one (the API's same service), and every
link in a list of its own. Links are made through the API, whose answer shows the token once."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.contenttypes.admin import GenericTabularInline
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils.html import format_html

from .models import PROPERTY_KIND_BY_MODEL_NAME, ShareLink
from .services.share_links import share_link_revoke


def house_admin_link(content_type_id: int, object_id: int) -> str:
    """A link to a house's admin page, named by its kind and id."""
    model_name = ContentType.objects.get_for_id(content_type_id).model
    return format_html(
        '<a href="{}">{} {}</a>',
        reverse(f"admin:property_{model_name}_change", args=[object_id]),
        PROPERTY_KIND_BY_MODEL_NAME[model_name].replace("_", " "),
        object_id,
    )


SHOWN = ["label", "allow_download", "created_at", "expires_at", "revoked_at", "views", "last_viewed_at"]


class ShareLinkInlineForm(forms.ModelForm):
    revoke = forms.BooleanField(required=False, help_text="The link stops working at once.")

    class Meta:
        model = ShareLink
        fields: list[str] = []

    def save(self, commit: bool = True) -> ShareLink:
        if self.cleaned_data.get("revoke") and self.instance.revoked_at is None:
            return share_link_revoke(link=self.instance)
        return self.instance


class ShareLinkInline(GenericTabularInline):
    """A house's links, newest first: read-only but for "revoke"."""

    model = ShareLink
    form = ShareLinkInlineForm
    extra = 0
    can_delete = False
    fields = [*SHOWN, "revoke"]
    readonly_fields = SHOWN

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # made through the API, which shows the token once


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = ["__str__", "house_link", "created_at", "expires_at", "revoked_at", "views", "last_viewed_at"]
    list_filter = ["allow_download"]
    fields = readonly_fields = ("house_link", *SHOWN)
    actions = ["revoke"]

    @admin.display(description="House")
    def house_link(self, link: ShareLink) -> str:
        return house_admin_link(link.content_type_id, link.object_id)

    @admin.action(description="Revoke the selected links", permissions=["change"])
    def revoke(self, request, queryset) -> None:
        for link in queryset:
            share_link_revoke(link=link)
        self.message_user(request, f"Revoked {len(queryset)} link(s).", messages.SUCCESS)

    def has_add_permission(self, request) -> bool:
        return False  # made through the API, which shows the token once
