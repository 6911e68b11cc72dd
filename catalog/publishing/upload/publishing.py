"""What a publish needs besides the item: the shop's publishing settings, the pictures in the
shop's photobank, and the item as the parameters of either publish API.

- `publishing_for(shop)`: the shop's `ShopPublishing`, with albums, freight templates and
  send-goods addresses read from 1688 the first time (or on `refresh`) and defaults chosen;
- `api_for(shop, item)`: which API publishes this item (see `choose_api`); `switch_api` records
  a refusal (gw.APIACLDecline / gw.APIUnsupported) and moves the shop to the other API;
- `pictures_to_photobank(...)`: every picture not yet in the shop's photobank is read (a
  staged upload, or a URL read through erp1688/guarded_fetch.py: another seller's path from
  the image host too), made acceptable (erp1688/pictures.py: pixel cap before decoding, webp →
  jpg, transparent PNG flattened, > 2 MB recompressed) and added to the shop's album once
  (content hash → path per shop);
- `legacy_params(item, paths, ...)`: the legacy add's payload (the schema-driven add's body:
  catalog/publishing/upload/schema_body.py).
"""

import hashlib
import logging
import re

from django.conf import settings
from django.utils import timezone

from catalog.models import PhotobankPicture, Shop, ShopPublishing, UploadBatch, UploadItem
from catalog.publishing import staged_pictures
from catalog.publishing.categories import cached_attributes
from catalog.publishing.upload.payload import item_to_add_params
from catalog.shops.clients import call_as_shop
from erp1688 import guarded_fetch, pictures
from erp1688.messages import stored
from erp1688.messages import stored as _
from erp1688.refusals import Refused
from open1688 import Open1688Client
from open1688.types import CARGO_NUMBER_ATTRIBUTE

log = logging.getLogger(__name__)

PHOTO_MAX_BYTES = pictures.PHOTOBANK_MAX_BYTES
DOWNLOAD_MAX_BYTES = pictures.PICTURE_MAX_BYTES
DOWNLOAD_MB = DOWNLOAD_MAX_BYTES // 1024 // 1024
PHOTOBANK_PATH = re.compile(r"^img/ibank/[A-Za-z0-9_./-]+$")
MAIN_ALBUM_NAME = "商品主图"
Api = ShopPublishing.Api


class PictureError(Exception):
    """A picture that cannot be read or made acceptable; its argument is a stored message
    (erp1688.messages) for staff: str() of the error is the text in the active language."""

    @property
    def message(self):
        return self.args[0]


# --- settings ---------------------------------------------------------------------------------


def _choices(items, name_attr: str = "name") -> list[dict]:
    return [
        {
            "id": getattr(item, "album_id", None)
            or getattr(item, "template_id", None)
            or getattr(item, "address_id", None),
            "name": getattr(item, name_attr, "") or "",
            "default": bool(getattr(item, "is_default", False)),
        }
        for item in items
    ]


def _default(choices: list[dict], *, preferred_name: str = "") -> int | None:
    for choice in choices:
        if preferred_name and choice["name"] == preferred_name:
            return choice["id"]
    for choice in choices:
        if choice["default"]:
            return choice["id"]
    return choices[0]["id"] if choices else None


def publishing_for(
    shop: Shop, *, client: Open1688Client | None = None, refresh: bool = False
) -> ShopPublishing:
    """The shop's publishing settings; with a client, the choices are read from 1688 when they
    were never read (or on `refresh`) and missing defaults are chosen."""
    publishing, _created = ShopPublishing.objects.get_or_create(shop=shop)
    if client is None or (publishing.fetched_at and not refresh):
        return publishing
    publishing.albums = _choices(call_as_shop(shop, client, client.list_albums))
    publishing.freight_templates = _choices(
        call_as_shop(shop, client, client.list_freight_templates)
    )
    publishing.send_addresses = _choices(
        call_as_shop(shop, client, client.list_send_goods_addresses)
    )
    publishing.fetched_at = timezone.now()
    ids = {choice["id"] for choice in publishing.albums}
    if publishing.album_id not in ids:
        publishing.album_id = _default(publishing.albums, preferred_name=MAIN_ALBUM_NAME)
    ids = {choice["id"] for choice in publishing.freight_templates}
    if publishing.freight_template_id not in ids:
        publishing.freight_template_id = _default(publishing.freight_templates)
    ids = {choice["id"] for choice in publishing.send_addresses}
    if publishing.send_address_id not in ids:
        publishing.send_address_id = _default(publishing.send_addresses)
    publishing.save()
    return publishing


def choose_api(publishing: ShopPublishing, item: UploadItem, *, shop_id: int) -> str:
    """Staff's choice when they made one; automatically: the schema-driven add when the app is
    granted it and the item's category schema is known (the item was staged against it),
    else the legacy add (CSV rows in the text format, copied offers)."""
    if publishing.api_choice != Api.AUTO:
        return publishing.api_choice
    if publishing.api_in_use == Api.LEGACY:
        return Api.LEGACY  # 1688 refused this app the schema-driven add
    return Api.SCHEMA if cached_attributes(shop_id, item.category_id) else Api.LEGACY


def switch_api(publishing: ShopPublishing, refused: str, reason: str) -> str | None:
    """1688 refused this app `refused`: use the other API from now on (when staff left the
    choice automatic); returns the API to use now, or None when there is none left."""
    other = Api.LEGACY if refused == Api.SCHEMA else Api.SCHEMA
    if publishing.api_choice != Api.AUTO:
        return None
    publishing.api_in_use = other
    publishing.api_note = reason[:300]
    publishing.save(update_fields=["api_in_use", "api_note", "updated_at"])
    return other


def freight_and_address(batch: UploadBatch, publishing: ShopPublishing) -> tuple[int, int]:
    freight = batch.freight_template_id or publishing.freight_template_id or 0
    address = batch.send_address_id or publishing.send_address_id or 0
    return int(freight), int(address)


# --- pictures ---------------------------------------------------------------------------------


def _stored(refusal: Refused):
    """A picture or download refusal as a stored message (shown in each reader's language)."""
    message = stored(refusal.msgid)
    return message % refusal.params if refusal.params else message


def stage_picture(data: bytes) -> str:
    """Keep an uploaded picture until the job puts it into the photobank (in the staged
    pictures' storage, which the workers share: catalog/publishing/staged_pictures.py); its
    reference."""
    if len(data) > DOWNLOAD_MAX_BYTES:
        raise PictureError(_("the picture is over %(mb)d MB") % {"mb": DOWNLOAD_MB})
    try:
        pictures.check_picture(data)
    except pictures.PictureRefused as exc:
        raise PictureError(_stored(exc)) from exc
    return staged_pictures.keep(data)


def picture_bytes(reference: str) -> bytes:
    """A staged picture's bytes, or the download of an address through the guarded fetch."""
    if staged_pictures.is_reference(reference):
        data = staged_pictures.read(reference)
        if data is None:
            raise PictureError(_("the uploaded picture is no longer on the server"))
        return data
    try:
        return guarded_fetch.fetch(reference, max_bytes=DOWNLOAD_MAX_BYTES)
    except guarded_fetch.FetchRefused as exc:
        raise PictureError(
            _("could not download %(url)s: %(error)s")
            % {"url": reference[:200], "error": _stored(exc)}
        ) from exc


def acceptable_picture(data: bytes) -> tuple[bytes, str]:
    """The picture as 1688 takes it and its extension: erp1688/pictures.py's for_photobank,
    flattened on white and shrunk to JPEG by the same function as an image search's."""
    try:
        return pictures.for_photobank(data)
    except pictures.PictureRefused as exc:
        raise PictureError(_stored(exc)) from exc


def _kept_as_path(reference: str) -> str | None:
    """A picture already in a photobank (an img/ibank path, or the image host's URL of one)."""
    base = settings.OPEN1688_IMAGE_BASE
    if reference.startswith(base):
        reference = reference[len(base) :]
    return reference if PHOTOBANK_PATH.match(reference) and ".." not in reference else None


def pictures_to_photobank(
    shop: Shop,
    client: Open1688Client,
    item: UploadItem,
    publishing: ShopPublishing,
) -> list[str]:
    """The photobank paths of the item's pictures, uploading those not yet there (once per
    shop and content). Both publish APIs take only this seller's photobank paths: a path this
    shop's photobank is not known to hold (a copied offer's, another seller's) is downloaded
    from the image host and uploaded too. Raises PictureError for a picture that cannot be
    read or fixed."""
    paths: list[str] = []
    for number, reference in enumerate(item.images or [], 1):
        path = _kept_as_path(reference)
        if path and PhotobankPicture.objects.filter(shop=shop, path=path).exists():
            paths.append(path)
            continue
        if path:
            reference = settings.OPEN1688_IMAGE_BASE + path  # not known to be ours: fetch it
        try:
            data = picture_bytes(reference)
        except PictureError as exc:
            raise PictureError(
                _("picture %(n)d: %(error)s") % {"n": number, "error": exc.message}
            ) from exc
        digest = hashlib.sha256(data).hexdigest()
        known = PhotobankPicture.objects.filter(shop=shop, sha256=digest).first()
        if known:
            paths.append(known.path)
            continue
        try:
            fixed, extension = acceptable_picture(data)
        except PictureError as exc:
            raise PictureError(
                _("picture %(n)d: %(error)s") % {"n": number, "error": exc.message}
            ) from exc
        if publishing.album_id is None:
            publishing = publishing_for(shop, client=client, refresh=True)
        name = f"{item.cargo_number[:22]}-{number}.{extension}"[:30]
        photo = call_as_shop(
            shop, client, client.add_photo, album_id=publishing.album_id, name=name, image=fixed
        )
        PhotobankPicture.objects.get_or_create(
            shop=shop,
            sha256=digest,
            defaults={"path": photo.url, "album_id": photo.album_id, "image_id": photo.image_id},
        )
        paths.append(photo.url)
    return paths


# --- payloads ---------------------------------------------------------------------------------


def _attributes_with_cargo(item: UploadItem) -> list[dict]:
    attributes = [
        a
        for a in (item.attributes or [])
        if str(a.get("attributeID")) != str(CARGO_NUMBER_ATTRIBUTE)
    ]
    return [*attributes, {"attributeID": CARGO_NUMBER_ATTRIBUTE, "value": item.cargo_number}]


def legacy_params(
    item: UploadItem, paths: list[str], *, freight: int = 0, address: int = 0
) -> dict:
    """alibaba.product.add: 货号 as attribute 1398 (and each SKU's cargoNumber)."""
    params = item_to_add_params(item)
    params["attributes"] = _attributes_with_cargo(item)
    params["image"] = {"images": paths}
    params.setdefault("shippingInfo", {})
    if freight:
        params["shippingInfo"]["freightTemplateID"] = freight
    if address:
        params["shippingInfo"]["sendGoodsAddressId"] = address
    if not params["shippingInfo"]:
        del params["shippingInfo"]
    return params


# --- pre-flight -------------------------------------------------------------------------------

PREFLIGHT_MAX_PREVIEWS = 20  # add.preview calls of one pre-flight (each is an API call)


def preflight(batch: UploadBatch, *, client: Open1688Client) -> list[dict]:
    """Before submit: the batch validated (against the cached attribute schemas too), and for
    valid items 1688's alibaba.product.add.preview of the legacy payload (nothing is created;
    pictures not yet in the photobank are put there first, once). One entry per item not yet
    sent: {"item", "errors" (stored messages by field), "preview" (PreviewResult or None),
    "problem" (text)}."""
    from catalog.publishing.batch_validation import validate_batch

    validate_batch(batch)
    shop = batch.shop
    publishing = publishing_for(shop, client=client)
    freight, address = freight_and_address(batch, publishing)
    results = []
    previews = 0
    for item in batch.items.not_uploaded().order_by("position", "id"):
        entry = {"item": item, "errors": item.validation_errors, "preview": None, "problem": ""}
        results.append(entry)
        if item.validation_errors or previews >= PREFLIGHT_MAX_PREVIEWS:
            continue
        previews += 1
        try:
            paths = pictures_to_photobank(shop, client, item, publishing)
            params = legacy_params(item, paths, freight=freight, address=address)
            entry["preview"] = call_as_shop(shop, client, client.preview_product, params)
        except PictureError as exc:
            entry["problem"] = str(exc)
        except Exception as exc:  # noqa: BLE001 - any 1688 answer is shown, never a 500
            from catalog.common.operator_words import problem_words

            entry["problem"], entry["detail"] = problem_words(exc), f"{type(exc).__name__}: {exc}"
    return results
