"""Admin for the shops' publishing settings: which publish API is in use and why, the
photobank album, the default freight template and send-goods address (chosen among what 1688
listed for the shop; a batch may override the last two), and the photobank pictures kept."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from catalog.models import PhotobankPicture, ShopPublishing
from erp1688.refusals import Refused
from open1688 import Open1688Error
from sync import services as sync_services


def _choices(listed: list[dict]) -> list[tuple]:
    return [("", "—")] + [
        (str(c["id"]), f"{c['name']} ({c['id']})" + (" *" if c.get("default") else ""))
        for c in listed
    ]


class ShopPublishingForm(forms.ModelForm):
    class Meta:
        model = ShopPublishing
        fields = ["api_choice", "album_id", "freight_template_id", "send_address_id"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        listed = {
            "album_id": self.instance.albums,
            "freight_template_id": self.instance.freight_templates,
            "send_address_id": self.instance.send_addresses,
        }
        for name, choices in listed.items():
            if choices:  # read from 1688: choose among them
                self.fields[name] = forms.TypedChoiceField(
                    label=self.fields[name].label,
                    choices=_choices(choices),
                    coerce=int,
                    empty_value=None,
                    required=False,
                )


@admin.register(ShopPublishing)
class ShopPublishingAdmin(admin.ModelAdmin):
    form = ShopPublishingForm
    list_display = ["shop", "api_choice", "api_in_use", "api_note", "fetched_at"]
    readonly_fields = ["shop", "api_in_use", "api_note", "fetched_at"]
    fields = [
        "shop", "api_choice", "api_in_use", "api_note", "album_id", "freight_template_id",
        "send_address_id", "fetched_at",
    ]  # fmt: skip
    actions = ["read_from_1688", "read_category_tree"]

    def has_add_permission(self, request):
        return False  # made for each shop when it first publishes, or by the action

    @admin.action(description=_("Read albums, freight templates and addresses from 1688"))
    def read_from_1688(self, request, queryset):
        for publishing in queryset.select_related("shop"):
            try:
                sync_services.refresh_publishing_settings(user=request.user, shop=publishing.shop)
            except (Refused, Open1688Error) as exc:
                self.message_user(request, f"{publishing.shop}: {exc}", messages.ERROR)

    @admin.action(description=_("Read the category tree from 1688 (one call per category)"))
    def read_category_tree(self, request, queryset):
        for publishing in queryset.select_related("shop"):
            try:
                size = sync_services.refresh_categories(user=request.user, shop=publishing.shop)
            except (Refused, Open1688Error) as exc:
                self.message_user(request, f"{publishing.shop}: {exc}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(shop)s: %(n)d categories read.") % {"shop": publishing.shop, "n": size},
                )


@admin.register(PhotobankPicture)
class PhotobankPictureAdmin(admin.ModelAdmin):
    list_display = ["shop", "path", "album_id", "created_at"]
    list_filter = ["shop"]
    readonly_fields = ["shop", "sha256", "path", "album_id", "image_id", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
