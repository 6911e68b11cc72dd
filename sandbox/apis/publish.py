"""Publishing as strict as 1688 (and no stricter): checks shared by both publish APIs
(the schema-driven add reads its form in sandbox/apis/new_product.py), alibaba.product.add.preview,
the strict path of the legacy alibaba.product.add, and the audit every new offer goes through.

What is checked (docs/sandbox-control.md, "Publishing"): the category is a leaf; the leaf's
required attributes and those its cascading rules (``attributeLevelMapStr``) make required are
present, each named in the refusal; dropdown/radio/multi values are among the attribute's
values unless marked ``isCustom``; numbers and dates parse; SKU dimensions are the leaf's sale
attributes; every picture is a photo in the seller's photobank; the freight template and the
send-goods address belong to the seller. The legacy add is checked so only with the
``strict_publish`` switch on; preview and the schema-driven add always.

Audit: a new offer is ``auditing`` for ``audit_seconds`` (a switch), then ``published``, or
``untread`` with a reason (``auditFailReason`` in productInfo, the sandbox's own field) when its
title holds one of ``audit_reject_words`` or a random draw falls under ``audit_reject_share``.
Audits settle when the gateway next answers any call after they are due.

Refusal codes are the sandbox's own (not attested); the legacy APIs answer them flat
(``errorCode``/``errorMsg``), the schema-driven ones as ``result.bizCode``/``bizMessage``.
"""

import random
import re
import threading
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from ..world import categories
from ..world.offers import Offer
from ..world.store import Store
from . import logistics, offer_input, photobank
from .offer_input import OfferInvalid

if TYPE_CHECKING:
    from .call import ApiCall

AUDITING = "auditing"
PUBLISHED = "published"
UNTREAD = "untread"
AUDIT_REASON_KEY = "auditFailReason"
TITLE_WEIGHT_MAX = 60  # the fast-publish rule: a Chinese character counts 2 (schema-driven add)
_DATE = re.compile(r"\d{4}(-\d{1,2}(-\d{1,2})?)?")
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
_audit_draw = random.Random()


class PublishRefused(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- the checks ----------------------------------------------------------------------------


def check(store: Store, member_id: str, fields: dict) -> None:
    """Raise PublishRefused for the first rule ``fields`` (parsed add fields) break."""
    category_id = int(fields["categoryID"])
    node = categories.node(category_id)
    if node is None:
        raise PublishRefused("CATEGORY_NOT_EXIST", f"类目不存在：{category_id}")
    if not node.is_leaf:
        raise PublishRefused(
            "CATEGORY_NOT_LEAF",
            f"只能发布到叶子类目 / {category_id} {node.name} is not a leaf category",
        )
    schema = categories.attributes_for(category_id) or ()
    _check_attributes(schema, category_id, fields.get("attributes") or [])
    _check_sku_attributes(schema, node, fields.get("skuInfos") or [])
    _check_pictures(store, member_id, fields)
    _check_shipping(member_id, fields.get("shippingInfo") or {})


def _check_attributes(schema, category_id: int, given: list) -> None:
    by_id = {attribute.attr_id: attribute for attribute in schema}
    chosen: dict[int, set[int]] = {}
    present: set[int] = set()
    for index, raw in enumerate(given):
        if not isinstance(raw, dict):
            raise PublishRefused("ATTRIBUTE_INVALID", f"attributes[{index}] must be an object")
        try:
            attr_id = int(raw.get("attributeID"))
        except (TypeError, ValueError):
            raise PublishRefused(
                "ATTRIBUTE_INVALID", f"attributes[{index}].attributeID must be an integer"
            ) from None
        attribute = by_id.get(attr_id)
        if attribute is None or attribute.sku:
            continue  # an attribute the category does not have is ignored, as 1688 does
        values = _values(raw)
        named = attribute.value_name(_int_or_none(raw.get("valueID")) or -1)
        if not values and named:  # a value given by its id alone
            values = [named]
        if not values:
            continue
        present.add(attr_id)
        chosen.setdefault(attr_id, set()).update(_value_ids(attribute, raw, values))
    for attribute in schema:
        if attribute.required and not attribute.sku and attribute.attr_id not in present:
            raise PublishRefused("ATTRIBUTE_REQUIRED", _missing(attribute))
    for condition, required in categories.cascades_for(category_id).items():
        when = [tuple(int(x) for x in part.split(":")) for part in condition.split(">")]
        if not all(value in chosen.get(attr, ()) for attr, value in when):
            continue
        for attr_id in (int(x) for x in str(required).split(",")):
            if attr_id not in present:
                reason = ", ".join(
                    f"{by_id[a].name} = {by_id[a].value_name(v)}" for a, v in when if a in by_id
                )
                raise PublishRefused("ATTRIBUTE_REQUIRED", _missing(by_id[attr_id], reason))


def _missing(attribute, because: str = "") -> str:
    when_cn = f"（{because} 时必填）" if because else ""
    when_en = f" (required when {because})" if because else ""
    return (
        f"缺少必填属性「{attribute.name}」({attribute.attr_id}){when_cn} / "
        f"the required attribute {attribute.name} ({attribute.attr_id}) is missing{when_en}"
    )


def _values(raw: dict) -> list[str]:
    value = raw.get("value", raw.get("attributeValue"))
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def _value_ids(attribute, raw: dict, values: list[str]) -> set[int]:
    kind = attribute.input_type
    custom = raw.get("isCustom") in (True, "true", "True")
    if kind in (categories.DROPDOWN, categories.RADIO, categories.MULTI):
        ids = set()
        given_id = raw.get("valueID")
        for value in values:
            value_id = attribute.value_id(value)
            if value_id is None and given_id not in (None, "", 0, "0"):
                value_id = _int_or_none(given_id)
                value_id = value_id if attribute.value_name(value_id or -1) else None
            if value_id is None and not custom:
                raise PublishRefused(
                    "ATTRIBUTE_VALUE_INVALID",
                    f"属性「{attribute.name}」的值「{value}」不在可选值中 / {value!r} is not one "
                    f"of the values of {attribute.name} ({attribute.attr_id}): "
                    f"{', '.join(attribute.values)}",
                )
            if value_id is not None:
                ids.add(value_id)
        return ids
    if kind == categories.NUMBER:
        for value in values:
            try:
                Decimal(value)
            except InvalidOperation:
                raise PublishRefused(
                    "ATTRIBUTE_VALUE_INVALID",
                    f"属性「{attribute.name}」须为数字 / {attribute.name} must be a number: "
                    f"{value!r}",
                ) from None
    if kind == categories.DATE:
        for value in values:
            if not _DATE.fullmatch(value):
                raise PublishRefused(
                    "ATTRIBUTE_VALUE_INVALID",
                    f"属性「{attribute.name}」须为日期 / {attribute.name} must be a date "
                    f"(yyyy-MM-dd): {value!r}",
                )
    return set()


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _check_sku_attributes(schema, node, skus: list) -> None:
    sale = {attribute.attr_id: attribute for attribute in schema if attribute.sku}
    for index, sku in enumerate(skus):
        for attribute in sku.get("attributes") or []:
            attr_id = attribute.get("attributeID")
            if attr_id not in sale:
                names = ", ".join(f"{a.name} ({a.attr_id})" for a in sale.values())
                raise PublishRefused(
                    "SKU_ATTRIBUTE_INVALID",
                    f"skuInfos[{index}]: {attr_id} 不是类目「{node.name}」的销售属性 / "
                    f"{attr_id} is not a sale attribute of {node.name}; use {names}",
                )


def _check_pictures(store: Store, member_id: str, fields: dict) -> None:
    pictures = list((fields.get("image") or {}).get("images") or [])
    if not pictures:
        raise PublishRefused("IMAGE_REQUIRED", "至少需要一张主图")
    sku_pictures = [
        str(attribute["skuImageUrl"])
        for sku in fields.get("skuInfos") or []
        for attribute in sku.get("attributes") or []
        if attribute.get("skuImageUrl")
    ]
    wanted = pictures + sku_pictures
    owned = photobank.owned_paths(store, member_id, wanted)
    for picture in wanted:
        if picture not in owned:
            raise PublishRefused(
                "IMAGE_NOT_IN_PHOTOBANK",
                f"图片须先上传到图片银行 / {picture} is not a photo of this seller's photobank "
                "(alibaba.photobank.photo.add)",
            )


def _check_shipping(member_id: str, shipping: dict) -> None:
    template = _int_or_none(shipping.get("freightTemplateID"))
    if template is None:
        raise PublishRefused(
            "FREIGHT_TEMPLATE_REQUIRED", "shippingInfo.freightTemplateID is required / 缺少运费模板"
        )
    if not logistics.owns_template(member_id, template):
        raise PublishRefused(
            "FREIGHT_TEMPLATE_INVALID",
            f"运费模板不存在：{template}",
        )
    address = _int_or_none(shipping.get("sendGoodsAddressId"))
    if address is None:
        raise PublishRefused(
            "SEND_ADDRESS_REQUIRED", "shippingInfo.sendGoodsAddressId is required / 缺少发货地址"
        )
    if not logistics.owns_address(member_id, address):
        raise PublishRefused(
            "SEND_ADDRESS_INVALID",
            f"发货地址不存在：{address}",
        )


def title_weight(title: str) -> int:
    """The fast-publish count: a Chinese (full-width) character counts 2."""
    return sum(2 if _CJK.match(char) else 1 for char in title)


# --- creating the offer and its audit ---------------------------------------------------------


def _parse_checked(call: "ApiCall", params: dict) -> tuple[dict, dict, list]:
    """(fields, saleInfo, skus) of an add, every rule checked; raises OfferInvalid or
    PublishRefused."""
    fields = offer_input.parse_fields(params, creating=True)
    fields.pop("cargoNumber", None)  # the SDK models no offer-level cargoNumber: 货号 is 1398
    check(call.store, call.member_id, fields)
    skus = fields.pop("skuInfos", [])
    sale = offer_input.normalise_sale_info(fields.pop("saleInfo", {}), skus)
    return _plain(fields), _plain(sale), _plain(skus)


def _plain(value):
    """JSON numbers were read as Decimal: stored as plain numbers (prices already are)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def create_offer(call: "ApiCall", fields: dict, sale: dict, skus: list) -> Offer:
    store = call.store
    switches = call.switches
    verdict, reason = _verdict(fields.get("subject", ""), switches)
    with store.write() as conn:
        product_id = offer_input.reserve_product_id(store, conn)
        sku_ids = offer_input.reserve_sku_ids(store, conn, len(skus))
        now = store.clock.next_stamp()
        info = offer_input.new_info(product_id, fields, sale, skus, sku_ids)
        seconds = float(switches.audit_seconds)
        info["status"] = AUDITING if seconds > 0 else verdict
        if seconds <= 0 and verdict == UNTREAD:
            info[AUDIT_REASON_KEY] = reason
        offer = Offer(product_id, call.member_id, now, now, info)
        store.insert_offers(conn, [offer])
        if seconds > 0:
            due = store.clock.now_ms() + int(seconds * 1000)
            conn.execute(
                "INSERT INTO audits VALUES (?, ?, ?, ?)", (product_id, due, verdict, reason)
            )
            _note_due(store, due)
    return offer


def reaudit(store: Store, conn, offer: Offer, switches) -> None:
    """An edit of an offer that failed audit puts it back into audit (the seller centre's
    "修改后重新提交审核"), judged again on its edited title."""
    verdict, reason = _verdict(offer.info.get("subject", ""), switches)
    offer.info.pop(AUDIT_REASON_KEY, None)
    seconds = float(switches.audit_seconds)
    if seconds <= 0:
        offer.info["status"] = verdict
        if verdict == UNTREAD:
            offer.info[AUDIT_REASON_KEY] = reason
        return
    offer.info["status"] = AUDITING
    due = store.clock.now_ms() + int(seconds * 1000)
    conn.execute(
        "INSERT OR REPLACE INTO audits VALUES (?, ?, ?, ?)",
        (offer.product_id, due, verdict, reason),
    )
    _note_due(store, due)


def _verdict(subject: str, switches) -> tuple[str, str]:
    for word in switches.audit_reject_words:
        if word and word in subject:
            return UNTREAD, f"标题含违禁词「{word}」"  # 1688 answers its operators in Chinese
    if switches.audit_reject_share > 0 and _audit_draw.random() < switches.audit_reject_share:
        return UNTREAD, "图片与类目不符"
    return PUBLISHED, ""


_due_lock = threading.Lock()
_next_due: dict[str, float] = {}  # store path -> the earliest pending audit (ms)


def _note_due(store: Store, due_ms: int) -> None:
    with _due_lock:
        _next_due[store.path] = min(_next_due.get(store.path, float("inf")), due_ms)


def settle_audits(store: Store) -> int:
    """Finish the audits that are due; the number finished. Cheap when none is due."""
    now = store.clock.now_ms()
    with _due_lock:
        due = _next_due.get(store.path, 0)  # unknown (a fresh process): look once
    if due > now:
        return 0
    settled = 0
    with store.write() as conn:
        rows = conn.execute(
            "SELECT product_id, verdict, reason FROM audits WHERE due_ms <= ?", (now,)
        ).fetchall()
        for product_id, verdict, reason in rows:
            offer = store.load_offer(conn, product_id)
            if offer is not None and offer.info.get("status") == AUDITING:
                offer.info["status"] = verdict
                if verdict == UNTREAD:
                    offer.info[AUDIT_REASON_KEY] = reason
                offer.last_update_ms = store.clock.next_stamp(offer.last_update_ms)
                store.replace_offer(conn, offer)
                settled += 1
            conn.execute("DELETE FROM audits WHERE product_id = ?", (product_id,))
        following = conn.execute("SELECT MIN(due_ms) FROM audits").fetchone()[0]
    with _due_lock:
        _next_due[store.path] = float("inf") if following is None else following
    return settled


# --- alibaba.product.add (strict) and alibaba.product.add.preview ---------------------------


def product_error(code: str, message: str) -> dict:
    return {"success": False, "errorCode": code, "errorMsg": message}


def add_legacy(call: "ApiCall") -> dict:
    """alibaba.product.add with the strict_publish switch on."""
    try:
        fields, sale, skus = _parse_checked(call, call.params)
    except (OfferInvalid, PublishRefused) as refused:
        return product_error(refused.code, refused.message)
    offer = create_offer(call, fields, sale, skus)
    return {"success": True, "productID": offer.product_id, "errorMsg": None}


def preview(call: "ApiCall") -> dict:
    """alibaba.product.add.preview: the add's checks, nothing created."""
    try:
        _parse_checked(call, call.params)
    except (OfferInvalid, PublishRefused) as refused:
        return product_error(refused.code, refused.message)
    return {"success": True, "errorMsg": None}


# --- the schema-driven APIs' refusal (sandbox/apis/new_product.py) -------------------------------


def biz_error(code: str, message: str) -> dict:
    return {"result": {"success": False, "bizCode": code, "bizMessage": message}}
