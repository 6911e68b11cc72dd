"""Publishing: the batches staff stage offers in and upload (批量上货), and what the ERP keeps
about a shop's side of publishing.

- `UploadBatch`, `UploadItem`: a batch and its items, from staging to 1688's audit;
- `ShopPublishing`: the shop's publishing settings (album, freight template, send-goods address,
  which publish API is in use) and the choices read from 1688 for them;
- `CategoryNode`: the category tree as 1688 answered it for the shop
(catalog/publishing/categories.py);
- `AttributeSchemaCache`: a leaf's alibaba.category.attribute.get answer, parsed on read;
- `PhotobankPicture`: a picture already put into the shop's photobank (content hash → path),
  so it is never uploaded twice.
"""

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models.fields import MONEY, JSONField
from catalog.models.shops import Shop


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


def new_cargo_number() -> str:
    return "ERP" + uuid.uuid4().hex[:12].upper()


class UploadBatchQuerySet(models.QuerySet):
    def drafts(self):
        """Batches still being put together, which offers may be staged into: drafts and
        validated ones (not yet submitted)."""
        return self.filter(status__in=(UploadBatch.Status.DRAFT, UploadBatch.Status.VALIDATED))


class UploadBatch(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        VALIDATED = "validated", _("Validated")
        SUBMITTED = "submitted", _("Submitted")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        PARTLY_FAILED = "partly_failed", _("Partly failed")

    shop = models.ForeignKey(
        Shop, on_delete=models.PROTECT, related_name="upload_batches", verbose_name=_("shop")
    )
    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    job_id = models.CharField(_("job ID"), max_length=64, blank=True)
    items_total = models.PositiveIntegerField(_("items total"), default=0)
    items_invalid = models.PositiveIntegerField(_("items invalid"), default=0)
    items_pending = models.PositiveIntegerField(_("items pending"), default=0)
    items_succeeded = models.PositiveIntegerField(_("items succeeded"), default=0)
    items_failed = models.PositiveIntegerField(_("items failed"), default=0)
    items_unknown = models.PositiveIntegerField(_("items unknown"), default=0)
    items_auditing = models.PositiveIntegerField(_("items auditing"), default=0)
    items_rejected = models.PositiveIntegerField(_("items rejected"), default=0)
    # Per-batch overrides of the shop's publishing defaults (catalog.models.publishing).
    freight_template_id = models.BigIntegerField(_("freight template"), null=True, blank=True)
    send_address_id = models.BigIntegerField(_("send-goods address"), null=True, blank=True)
    # Why the last run stopped early (quota wait, shop needs re-authorisation...), for staff.
    last_error = models.TextField(_("last error"), blank=True)

    # While the upload job owns a batch (queued or running), staging leaves it alone.
    LOCKED_STATUSES = (Status.SUBMITTED, Status.RUNNING)

    objects = UploadBatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("upload batch")
        verbose_name_plural = _("upload batches")
        ordering = ["-created_at", "-id"]
        permissions = [("submit_uploadbatch", _("Can submit a batch for upload, or retry it"))]

    def __str__(self):
        return self.name

    @property
    def is_locked(self) -> bool:
        return self.status in self.LOCKED_STATUSES

    @property
    def progress_percent(self) -> int:
        valid = self.items_total - self.items_invalid
        if valid <= 0:
            return 0
        done = self.items_succeeded + self.items_auditing + self.items_rejected + self.items_failed
        return round(100 * done / valid)


# The one definition of a valid staged item: no validation errors (also used in aggregates).
VALID_ITEM = Q(validation_errors={})


class UploadItemQuerySet(models.QuerySet):
    def valid(self):
        return self.filter(VALID_ITEM)

    def invalid(self):
        return self.exclude(VALID_ITEM)

    def not_uploaded(self):
        """Items staging may still validate or change: pending or failed."""
        return self.filter(status__in=UploadItem.NOT_UPLOADED)

    def to_upload(self):
        """What an upload run works on, in order: valid items not yet succeeded."""
        return self.valid().filter(status__in=UploadItem.TO_UPLOAD).order_by("position", "id")

    def back_to_pending(self) -> int:
        """Send these items again from the start (a retry, a resubmit): pending, no sends or
        looks counted, no 1688 error kept; the offer id stays. Returns how many."""
        return self.update(
            status=UploadItem.Status.PENDING,
            sends=0,
            looks=0,
            next_check_at=None,
            remote_error_code="",
            remote_error_message="",
            updated_at=timezone.now(),
        )


class UploadItem(models.Model):
    class Status(models.TextChoices):
        # pending → uploading → (unknown →) auditing → published | rejected; or failed.
        PENDING = "pending", _("Pending")
        UPLOADING = "uploading", _("Uploading")
        UNKNOWN = "unknown", _("Unknown — checking")
        AUDITING = "auditing", _("In 1688 audit")
        PUBLISHED = "published", _("Published")
        REJECTED = "rejected", _("Rejected in audit")
        FAILED = "failed", _("Failed")

    class Source(models.TextChoices):
        FORM = "form", _("Form")
        IMPORT = "import", _("Import")
        COPY = "copy", _("Copied offer")

    batch = models.ForeignKey(
        UploadBatch, on_delete=models.CASCADE, related_name="items", verbose_name=_("batch")
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.FORM
    )
    source_offer_id = models.BigIntegerField(_("source offer ID"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=255, blank=True)
    category_id = models.BigIntegerField(_("category id"), null=True, blank=True)
    price = models.DecimalField(_("price"), null=True, blank=True, **MONEY)
    price_ranges = JSONField(_("price ranges"), default=list, blank=True)
    stock = models.BigIntegerField(
        _("stock"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    unit = models.CharField(_("unit"), max_length=20, default="件")
    min_order_quantity = models.PositiveIntegerField(_("min order quantity"), default=1)
    images = JSONField(_("images"), default=list, blank=True)
    attributes = JSONField(_("attributes"), default=list, blank=True)
    skus = JSONField(_("SKUs"), default=list, blank=True)
    cargo_number = models.CharField(
        _("cargo number"), max_length=64, default=new_cargo_number,
        help_text=_("The cargo number is also the key that finds the offer on 1688."),
    )  # fmt: skip
    description = models.TextField(_("description"), blank=True)
    validation_errors = JSONField(_("validation errors"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    remote_offer_id = models.BigIntegerField(_("1688 offer id"), null=True, blank=True)
    remote_error_code = models.CharField(_("remote error code"), max_length=100, blank=True)
    remote_error_message = models.TextField(_("remote error message"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    # Exactly once (catalog/publishing/upload/run.py): sends since the last staff retry; looks on
    # 1688 in the
    # current unknown episode; when the next look (or audit check) is due.
    sends = models.PositiveSmallIntegerField(_("sends"), default=0)
    looks = models.PositiveSmallIntegerField(_("looks"), default=0)
    next_check_at = models.DateTimeField(_("next check"), null=True, blank=True)
    publish_api = models.CharField(_("publish API"), max_length=10, blank=True)
    offer_status = models.CharField(_("1688 offer status"), max_length=20, blank=True)
    # Photobank paths of `images`, in order, once the job put them there.
    picture_paths = JSONField(_("picture paths"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # Still to be uploaded: the only items staging may validate or change.
    NOT_UPLOADED = (Status.PENDING, Status.FAILED)
    # Sent or maybe sent without a known outcome: asked about on 1688 before any new send.
    UNRESOLVED = (Status.UPLOADING, Status.UNKNOWN)
    # What a run picks up (when valid).
    TO_UPLOAD = (Status.PENDING, Status.UPLOADING, Status.UNKNOWN)

    objects = UploadItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("upload item")
        verbose_name_plural = _("upload items")
        ordering = ["batch", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "cargo_number"], name="upload_item_cargo_unique_per_batch"
            ),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gt=0), name="upload_item_price_positive"
            ),
        ]
        indexes = [models.Index(fields=["batch", "status"], name="upload_item_batch_status")]

    def __str__(self):
        return self.title or self.cargo_number
