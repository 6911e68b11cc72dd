"""product.increment.editInfo: the incremental edit of one's own offer (docs/protocol.md,
"Price and title edits").

Params ``catId``, ``scene``, ``offerId``, ``dataBody`` = ``{"formValues": {...}}``,
``bizParam``. ``formValues`` takes what practitioners report it takes: ``title``,
``description`` (``{"detailList": [{"content"}]}`` as the add, or text), ``priceRange``
(``[{priceRange_beginAmount, priceRange_price}]``; the add's ``pricerange_*`` spelling is read
too) and ``totalSales`` (an offer without SKUs). ``skuTable`` is accepted (a practitioner
sends it beside ``priceRange``) and not applied: what it changes there is not on record. Any
other field — ``catProp``, ``cbuSendAddress``, ``freight``, ``officialLogistics`` (reported
not taken) or one nobody reported — is refused by name, ``FIELD_NOT_EDITABLE``: the record
says "not supported" without saying how, and refusing keeps a client from believing it wrote
them. The whole ``priceRange`` list replaces the offer's tiers.

Answer: ``{"success": true, "result": "<JSON string>"}`` (the string is the sandbox's own
``{"success", "offerId"}``); a refusal ``{"success": false, "result": "<JSON string>"}`` with
``bizCode``/``bizMessage`` inside. Codes are the sandbox's own (not attested).
"""

import json
from typing import TYPE_CHECKING

from . import offer_input
from .new_product import SCENES
from .offer_input import OfferInvalid
from .product import acl_declined
from .publish import TITLE_WEIGHT_MAX, title_weight

if TYPE_CHECKING:
    from .call import ApiCall

API = "product.increment.editInfo"
TAKEN = ("title", "description", "priceRange", "totalSales", "skuTable")
PER_SKU_QUOTE = 1


class EditRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _answer(success: bool, **inner) -> dict:
    body = {"success": success, **inner}
    return {"success": success, "result": json.dumps(body, ensure_ascii=False)}


def _refused(code: str, message: str) -> dict:
    return _answer(False, bizCode=code, bizMessage=message)


def edit_info(call: "ApiCall") -> dict:
    refusal = acl_declined(call, API)
    if refusal is not None:
        return refusal
    params = call.params
    scene = params.get("scene", "")
    if scene not in SCENES:
        return _refused("SCENE_INVALID", f"scene {scene!r} is not one of {', '.join(SCENES)}")
    try:
        offer_id = int(params.get("offerId", ""))
        form = _form(params.get("dataBody", ""))
    except ValueError as error:
        return _refused("PARAM_INVALID", str(error))
    except EditRefused as refused:
        return _refused(refused.code, refused.message)
    store = call.store
    with store.write() as conn:
        offer = store.load_offer(conn, offer_id)
        if offer is None or offer.member_id != call.member_id:
            return _refused("PRODUCT_NOT_EXIST", f"商品不存在：{offer_id}")
        if str(offer.info.get("categoryID", "")) != str(params.get("catId", "")).strip():
            return _refused(
                "CATEGORY_MISMATCH",
                f"catId {params.get('catId')!r} is not the offer's category / 类目与商品不符",
            )
        try:
            _apply(offer.info, form)
        except (EditRefused, OfferInvalid) as refused:
            return _refused(refused.code, refused.message)
        offer.last_update_ms = store.clock.next_stamp(offer.last_update_ms)
        store.replace_offer(conn, offer)
    return _answer(True, offerId=offer_id)


def _form(raw: str) -> dict:
    try:
        body = json.loads(raw)
    except ValueError:
        raise EditRefused("PARAM_INVALID", "dataBody must be a JSON object") from None
    form = body.get("formValues") if isinstance(body, dict) else None
    if not isinstance(form, dict) or not form:
        raise EditRefused("PARAM_INVALID", "dataBody.formValues must be a non-empty object")
    for key in form:
        if key not in TAKEN:
            raise EditRefused(
                "FIELD_NOT_EDITABLE",
                f"{key} cannot be changed by {API} / 增量编辑不支持修改「{key}」",
            )
    return form


def _apply(info: dict, form: dict) -> None:
    if "title" in form:
        info["subject"] = _title(form["title"])
    if "description" in form:
        info["description"] = _description(form["description"])
    sale = dict(info.get("saleInfo") or {})
    skus = info.get("skuInfos") or []
    if "priceRange" in form:
        if sale.get("quoteType") == PER_SKU_QUOTE:
            raise EditRefused(
                "PRICE_INVALID", "the offer is priced per SKU: priceRange does not apply"
            )
        sale["priceRanges"] = _tiers(form["priceRange"])
    if "totalSales" in form:
        if skus:
            raise EditRefused("PARAM_INVALID", "totalSales is for an offer without SKUs")
        sale["amountOnSale"] = form["totalSales"]
    info["saleInfo"] = offer_input.normalise_sale_info(sale, [dict(s) for s in skus])


def _title(value) -> str:
    title = str(value).strip() if isinstance(value, str | int | float) else ""
    if not title:
        raise EditRefused("FIELD_REQUIRED", "title must not be empty / 商品标题不能为空")
    if title_weight(title) > TITLE_WEIGHT_MAX:
        raise EditRefused(
            "TITLE_TOO_LONG",
            f"the title counts {title_weight(title)}, at most {TITLE_WEIGHT_MAX} "
            "(a Chinese character counts 2)",
        )
    return title


def _description(value) -> str:
    if isinstance(value, str):
        return value
    details = value.get("detailList") if isinstance(value, dict) else None
    if not isinstance(details, list) or not all(isinstance(d, dict) for d in details):
        raise EditRefused("FIELD_VALUE_INVALID", 'description must be {"detailList": [...]}')
    return "".join(str(detail.get("content") or "") for detail in details)


def _tiers(raw) -> list[dict]:
    if not isinstance(raw, list) or not raw:
        raise EditRefused("PRICE_INVALID", "priceRange must be a non-empty list")
    tiers = []
    for index, tier in enumerate(raw):
        if not isinstance(tier, dict):
            raise EditRefused("PRICE_INVALID", f"priceRange[{index}] must be an object")
        price = tier.get("priceRange_price", tier.get("pricerange_price"))
        start = tier.get("priceRange_beginAmount", tier.get("pricerange_beginAmount", 1))
        if price in (None, ""):
            raise EditRefused("PRICE_INVALID", f"priceRange[{index}] needs priceRange_price")
        tiers.append({"startQuantity": start, "price": price})
    starts = [str(t["startQuantity"]) for t in tiers]
    if len(set(starts)) != len(starts):
        raise EditRefused("PRICE_INVALID", "two tiers start at the same quantity")
    return tiers
