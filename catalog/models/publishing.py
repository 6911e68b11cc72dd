"""Publishing: what the ERP keeps about a shop's side of publishing.

- `ShopPublishing`: the shop's publishing settings (album, freight template, send-goods address,
  which publish API is in use) and the choices read from 1688 for them;
- `CategoryNode`: the category tree as 1688 answered it for the shop
(catalog/publishing/categories.py);
- `AttributeSchemaCache`: a leaf's alibaba.category.attribute.get answer, parsed on read;
- `PhotobankPicture`: a picture already put into the shop's photobank (content hash → path),
  so it is never uploaded twice.

Imported by catalog/models/__init__.py so Django registers them.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ShopPublishing(models.Model):
    class Api(models.TextChoices):
        AUTO = "auto", _("Choose automatically")
        SCHEMA = "schema", _("Schema-driven (new.product.add)")
        LEGACY = "legacy", _("Legacy (product.add)")

    shop = models.OneToOneField("catalog.Shop", on_delete=models.CASCADE, related_name="publishing")
    # What staff chose (auto: schema-driven, switching to the other when 1688 refuses the app).
    api_choice = models.CharField(
        _("publish API"), max_length=10, choices=Api.choices, default=Api.AUTO
    )
    # The API in use: the choice, or what the automatic choice learnt from 1688's refusals.
    api_in_use = models.CharField(
        _("publish API in use"), max_length=10, choices=Api.choices, default=Api.SCHEMA
    )
    api_note = models.CharField(_("why"), max_length=300, blank=True)
    album_id = models.BigIntegerField(_("photobank album"), null=True, blank=True)
    freight_template_id = models.BigIntegerField(_("freight template"), null=True, blank=True)
    send_address_id = models.BigIntegerField(_("send-goods address"), null=True, blank=True)
    # The choices as 1688 listed them: [{"id", "name", "default"}].
    albums = models.JSONField(default=list, blank=True)
    freight_templates = models.JSONField(default=list, blank=True)
    send_addresses = models.JSONField(default=list, blank=True)
    fetched_at = models.DateTimeField(_("read from 1688"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("shop publishing settings")
        verbose_name_plural = _("shop publishing settings")

    def __str__(self):
        return f"{self.shop_id} {self.api_in_use}"


class CategoryNode(models.Model):
    shop = models.ForeignKey("catalog.Shop", on_delete=models.CASCADE, related_name="+")
    category_id = models.BigIntegerField(_("category id"))
    name = models.CharField(_("name"), max_length=200)
    parent_id = models.BigIntegerField(null=True, blank=True)
    is_leaf = models.BooleanField(default=False)
    path = models.CharField(_("path"), max_length=600, blank=True)  # 女装 > 上衣 > 女式T恤
    fetched_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["path", "category_id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "category_id"], name="category_node_once")
        ]

    def __str__(self):
        return self.path or self.name


class AttributeSchemaCache(models.Model):
    shop = models.ForeignKey("catalog.Shop", on_delete=models.CASCADE, related_name="+")
    category_id = models.BigIntegerField(_("category id"))
    answer = models.JSONField(default=dict)  # alibaba.category.attribute.get as answered
    fetched_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("attribute schema")
        verbose_name_plural = _("attribute schemas")
        constraints = [
            models.UniqueConstraint(fields=["shop", "category_id"], name="attribute_schema_once")
        ]

    def __str__(self):
        return f"{self.shop_id} {self.category_id}"


class PhotobankPicture(models.Model):
    shop = models.ForeignKey("catalog.Shop", on_delete=models.CASCADE, related_name="+")
    sha256 = models.CharField(max_length=64)  # of the picture as staff gave it
    path = models.CharField(_("photobank path"), max_length=500)
    album_id = models.BigIntegerField(null=True, blank=True)
    image_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("photobank picture")
        verbose_name_plural = _("photobank pictures")
        constraints = [
            models.UniqueConstraint(fields=["shop", "sha256"], name="photobank_picture_once")
        ]

    def __str__(self):
        return self.path
