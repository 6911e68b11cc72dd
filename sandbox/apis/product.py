"""com.alibaba.product APIs: list.get, get, add, edit, modifyStock, expire.

Answer shapes follow docs/protocol.md: list.get wraps its page in
``result.result.pageResult`` (the SDK model) or ``result.pageResult`` (what four real parsers
read), as the app's switches say (sandbox/apis/switches.py); get/add/edit/... answer flat
``{"success", "errorCode", "errorMsg"}``.
"""

from dataclasses import replace
from typing import TYPE_CHECKING

from ..wire.errors import gateway_error
from ..wire.http import Response
from ..wire.timefmt import format_1688
from ..world import queries
from ..world.offers import Offer
from . import offer_input, publish
from .offer_input import OfferInvalid
from .params import (
    ParamInvalid,
    flag_param,
    id_list_param,
    int_param,
    json_param,
    string_list_param,
    time_param,
)

if TYPE_CHECKING:
    from .call import ApiCall

LIST_PAGE_SIZE_MAX = 20
YEAR_MS = 365 * 86_400_000
EXPIRED_STATUS = "outdated"


def list_error(code: str, message: str) -> dict:
    return {"result": {"success": False, "code": code, "message": message}}


def product_error(code: str, message: str) -> dict:
    return {"success": False, "errorCode": code, "errorMsg": message}


def not_found(product_id: int) -> dict:
    return product_error("PRODUCT_NOT_EXIST", f"商品不存在：{product_id}")


# --- alibaba.product.list.get -----------------------------------------------------------
def list_products(call: "ApiCall") -> dict:
    try:
        page_no = max(1, int_param(call.params, "pageNo", 1))
        page_size = min(LIST_PAGE_SIZE_MAX, max(1, int_param(call.params, "pageSize", 20)))
        query = _list_filter(call.params, call.member_id)
    except ParamInvalid as error:
        return list_error(error.code, str(error))
    lag_ms = int(call.switches.list_index_lag_seconds * 1000)
    if lag_ms:
        query = replace(query, indexed_before_ms=call.store.clock.now_ms() - lag_ms)
    total, offers = queries.list_page(call.store, query, (page_no - 1) * page_size, page_size)
    switches = call.switches
    page = {
        "pageIndex": page_no,
        "sizePerPage": page_size,
        switches.list_total: total,
        "resultList": [list_item(offer, with_skus=switches.list_skus) for offer in offers],
    }
    result = {"success": True, "code": None, "message": None}
    if switches.list_nesting == "result.pageResult":
        return {"result": {**result, "pageResult": page}}
    return {"result": {**result, "result": {"pageResult": page}}}


def _list_filter(params: dict[str, str], member_id: str) -> queries.ListFilter:
    # orderByCondition defaults to ID ascending: the sandbox's choice (not attested).
    order_by = params.get("orderByCondition", "ID").upper() or "ID"
    order_type = params.get("orderByType", "ASC").upper() or "ASC"
    if order_by not in ("ID", "MODIFY_DATE") or order_type not in ("ASC", "DESC"):
        raise ParamInvalid("orderByCondition must be ID|MODIFY_DATE and orderByType ASC|DESC")
    return queries.ListFilter(
        member_id=member_id,
        start_ms=time_param(params, "startModifyTime"),
        end_ms=time_param(params, "endModifyTime"),
        statuses=string_list_param(params, "statusList"),
        cargo_number=params.get("cargoNumber") or None,
        product_ids=id_list_param(params, "productIds"),
        subject_key=params.get("subjectKey") or None,
        category_id=int_param(params, "categoryId"),
        order_by_modify_date=order_by == "MODIFY_DATE",
        descending=order_type == "DESC",
    )


# What a list item carries with the list_skus switch on (one production ERP reads these).
LIST_SALE_KEYS = ("priceRanges", "amountOnSale", "quoteType", "unit")


def list_item(offer: Offer, *, with_skus: bool = False) -> dict:
    """By default no SKUs, prices or stock: a mirror needs alibaba.product.get for those.
    With ``with_skus``: also ``skuInfos``, ``saleInfo`` and ``productCargoNumber``."""
    info = offer.info
    item = {
        "productID": offer.product_id,
        "subject": info["subject"],
        "status": info["status"],
        "categoryID": info["categoryID"],
        "image": {"images": list((info.get("image") or {}).get("images") or [])},
        "createTime": format_1688(offer.create_ms),
        "lastUpdateTime": format_1688(offer.last_update_ms),
    }
    if info.get("cargoNumber"):  # absent when the seller set none (fastjson omits nulls)
        item["cargoNumber"] = info["cargoNumber"]
    if with_skus:
        sale = info.get("saleInfo") or {}
        item["saleInfo"] = {key: sale[key] for key in LIST_SALE_KEYS if key in sale}
        item["skuInfos"] = info.get("skuInfos") or []
        if info.get("cargoNumber"):
            item["productCargoNumber"] = info["cargoNumber"]
    return item


# --- alibaba.product.get ---------------------------------------------------------------
def get_product(call: "ApiCall") -> dict:
    # The official SDK: product.get reads only the caller's own offers ("只能查询自己所有的产品").
    # Another seller's offer answers like an unknown one (the exact refusal is not attested);
    # the strict_ownership switch off answers for any seller's offer (older tests).
    try:
        product_id = int_param(call.params, "productID")
    except ParamInvalid as error:
        return product_error(error.code, str(error))
    offer = call.store.get_offer(product_id)
    if offer is None:
        return not_found(product_id)
    if call.switches.strict_ownership and offer.member_id != call.member_id:
        return not_found(product_id)
    return {
        "success": True,
        "productInfo": offer.info,
        "createTime": format_1688(offer.create_ms),
        "lastUpdateTime": format_1688(offer.last_update_ms),
        "expireTime": format_1688(offer.create_ms + 2 * YEAR_MS),
        "bizGroupInfos": [],
    }


# --- alibaba.product.add ---------------------------------------------------------------
def add_product(call: "ApiCall") -> dict:
    if call.switches.strict_publish:  # checked like 1688, audited (sandbox/apis/publish.py)
        return publish.add_legacy(call)
    try:
        fields = offer_input.parse_fields(call.params, creating=True)
        skus = fields.pop("skuInfos", [])
        sale = offer_input.normalise_sale_info(fields.pop("saleInfo", {}), skus)
    except OfferInvalid as error:
        return product_error(error.code, error.message)
    store = call.store
    with store.write() as conn:
        product_id = offer_input.reserve_product_id(store, conn)
        fresh_sku_ids = offer_input.reserve_sku_ids(store, conn, len(skus))
        now = store.clock.next_stamp()
        info = offer_input.new_info(product_id, fields, sale, skus, fresh_sku_ids)
        store.insert_offers(conn, [Offer(product_id, call.member_id, now, now, info)])
    return {"success": True, "productID": product_id, "errorMsg": None}


# --- alibaba.product.edit --------------------------------------------------------------
def edit_product(call: "ApiCall") -> dict | Response:
    refusal = acl_declined(call, "alibaba.product.edit")
    if refusal is not None:
        return refusal
    try:
        product_id = int_param(call.params, "productID")
        fields = offer_input.parse_fields(call.params, creating=False)
    except ParamInvalid as error:
        return product_error(error.code, str(error))
    except OfferInvalid as error:
        return product_error(error.code, error.message)
    store = call.store
    with store.write() as conn:
        offer = store.load_offer(conn, product_id)
        if offer is None or offer.member_id != call.member_id:
            return not_found(product_id)
        failed_audit = offer.info.get("status") in AUDIT_FAILED_STATUSES
        try:
            _apply_edit(store, conn, offer, fields)
        except OfferInvalid as error:
            return product_error(error.code, error.message)
        if failed_audit:
            publish.reaudit(store, conn, offer, call.switches)
        offer.last_update_ms = store.clock.next_stamp(offer.last_update_ms)
        store.replace_offer(conn, offer)
    return {"success": True}


def _apply_edit(store, conn, offer: Offer, fields: dict) -> None:
    info = offer.info
    old_skus = info.get("skuInfos") or []
    skus = fields.pop("skuInfos", None)
    if skus is None:  # keep the SKUs, but re-check them against a changed saleInfo
        skus = [dict(sku) for sku in old_skus]
    else:
        fresh = offer_input.reserve_sku_ids(store, conn, len(skus))
        skus = offer_input.assign_sku_ids(offer.product_id, skus, old_skus, fresh)
    sale = {**info.get("saleInfo", {}), **fields.pop("saleInfo", {})}
    info["saleInfo"] = offer_input.normalise_sale_info(sale, skus)
    info["skuInfos"] = skus
    info.update(fields)
    if not info.get("cargoNumber"):
        info.pop("cargoNumber", None)


# --- who may change offers: API ACL and audit -------------------------------------------
def acl_declined(call: "ApiCall", api: str) -> Response | None:
    """gw.APIACLDecline (sandbox/wire/errors.py) for an app the control API marked as not granted
    ``api`` (some apps are refused product.edit: docs/protocol.md), before the offer is looked
    at."""
    if not call.store.is_api_declined(call.app_key, api):
        return None
    return gateway_error("gw.APIACLDecline", message=f"AppKey is not allowed(acl): {api}")


PUBLISHED_STATUS = "published"
AUDIT_STATUSES = {"auditing": "商品审核中"}
AUDIT_FAILED_STATUSES = {"untread", "FailAudited"}


# --- alibaba.product.modifyStock -------------------------------------------------------
def modify_stock(call: "ApiCall") -> dict | Response:
    """``productStockChange``: JSON array of ``{"productId", "skuStocks": [{"skuId",
    "stockChange"}]}``, or ``{"productId", "productAmountChange"}`` for an offer without SKUs
    (the shape two independent integrations send; ``amountOnSale`` is accepted for either
    amount too). The per-SKU ``skuId`` must carry the SKU's **specId**: a numeric skuId is
    refused (``SKU_NOT_EXIST``), the trap real integrations met; a ``specId`` key is accepted.
    ``increaceModify`` (sic): true (the default) adds the amounts, false sets them. All
    changes apply or none."""
    refusal = acl_declined(call, "alibaba.product.modifyStock")
    if refusal is not None:
        return refusal
    try:
        changes = json_param(call.params, "productStockChange", list, [])
        increment = flag_param(call.params, "increaceModify", True)
        with call.store.write() as conn:
            for change in changes:
                _apply_stock_change(call, conn, change, increment)
    except ParamInvalid as error:
        return product_error(error.code, str(error))
    except OfferInvalid as error:  # raised inside the transaction, which rolled back
        return product_error(error.code, error.message)
    return {"success": True}


def _apply_stock_change(call: "ApiCall", conn, change, increment: bool) -> None:
    if not isinstance(change, dict):
        raise OfferInvalid("PARAM_INVALID", "productStockChange items must be objects")
    product_id = _int(change.get("productId", change.get("productID")), "productId")
    offer = call.store.load_offer(conn, product_id)
    if offer is None or offer.member_id != call.member_id:
        raise OfferInvalid("PRODUCT_NOT_EXIST", not_found(product_id)["errorMsg"])
    skus = offer.info.get("skuInfos") or []
    if not skus:
        sale = offer.info["saleInfo"]
        amount = _amount(change, "productAmountChange")
        sale["amountOnSale"] = _new_amount(sale.get("amountOnSale", 0), amount, increment)
    for target in change.get("skuStocks") or []:
        sku = _find_sku(skus, target)
        amount = _amount(target, "stockChange")
        sku["amountOnSale"] = _new_amount(sku.get("amountOnSale", 0), amount, increment)
    if skus:
        offer.info["saleInfo"]["amountOnSale"] = sum(int(s["amountOnSale"]) for s in skus)
    offer.last_update_ms = call.store.clock.next_stamp(offer.last_update_ms)
    call.store.replace_offer(conn, offer)


def _find_sku(skus: list[dict], target) -> dict:
    if not isinstance(target, dict):
        raise OfferInvalid("PARAM_INVALID", "skuStocks items must be objects")
    wanted = str(target.get("skuId") or target.get("specId") or "")
    for sku in skus:
        if wanted == sku["specId"]:
            return sku
    if any(wanted == str(sku["skuId"]) for sku in skus):
        raise OfferInvalid(
            "SKU_NOT_EXIST", f"no SKU {wanted}: skuStocks[].skuId must carry the SKU's specId"
        )
    raise OfferInvalid("SKU_NOT_EXIST", f"no SKU {wanted or '(none given)'} in this offer")


def _amount(target: dict, key: str) -> int:
    value = target.get(key, target.get("amountOnSale"))
    return _int(value, key)


def _new_amount(old, amount: int, increment: bool) -> int:
    new = int(old or 0) + amount if increment else amount
    if new < 0:
        raise OfferInvalid("STOCK_INVALID", f"stock would become {new}")
    return new


def _int(value, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise OfferInvalid("PARAM_INVALID", f"{name} must be an integer") from error


# --- alibaba.product.expire ------------------------------------------------------------
def expire_products(call: "ApiCall") -> dict | Response:
    """``productIds`` (as in the official SDK): the offers become ``outdated``."""
    refusal = acl_declined(call, "alibaba.product.expire")
    if refusal is not None:
        return refusal
    try:
        product_ids = id_list_param(call.params, "productIds")
    except ParamInvalid as error:
        return product_error(error.code, str(error))
    store = call.store
    with store.write() as conn:
        offers, unknown = _own_offers(call, conn, product_ids)
        if unknown is not None:
            return unknown  # nothing written yet
        stamp = store.clock.next_stamp(max((o.last_update_ms for o in offers), default=0))
        for offer in offers:
            offer.info["status"] = EXPIRED_STATUS
            offer.last_update_ms = stamp
            store.replace_offer(conn, offer)
    return {"success": True}


def _own_offers(call: "ApiCall", conn, product_ids: list[int]) -> tuple[list[Offer], dict | None]:
    """(the caller's offers of ``product_ids``, None), or ([], the not-found answer for the
    first one that is unknown or another seller's)."""
    found = call.store.load_offers(conn, product_ids)
    for product_id in product_ids:
        offer = found.get(product_id)
        if offer is None or offer.member_id != call.member_id:
            return [], not_found(product_id)
    return [found[product_id] for product_id in dict.fromkeys(product_ids)], None


# --- alibaba.product.republish ---------------------------------------------------------
def republish_products(call: "ApiCall") -> dict | Response:
    """``productIds``: offers that are not on sale (``outdated``) go back on sale
    (``published``). The official SDK: a member relists at most 400 offers a day (China
    date; the cap is set with ``POST /_sandbox/limits``). Over the cap the whole call is
    refused (``REPUBLISH_LIMIT``); an offer in audit (``OFFER_AUDITING``) or that failed audit
    (``OFFER_AUDIT_FAILED``) is refused; an offer already on sale is left as it is and does not
    count. All or nothing. Error codes are the sandbox's own (not attested)."""
    refusal = acl_declined(call, "alibaba.product.republish")
    if refusal is not None:
        return refusal
    try:
        product_ids = id_list_param(call.params, "productIds")
    except ParamInvalid as error:
        return product_error(error.code, str(error))
    store = call.store
    with store.write() as conn:
        offers, unknown = _own_offers(call, conn, product_ids)
        if unknown is not None:
            return unknown
        for offer in offers:
            status = offer.info.get("status")
            if status in AUDIT_STATUSES:
                return product_error(
                    "OFFER_AUDITING", f"{offer.product_id}: {AUDIT_STATUSES[status]}"
                )
            if status in AUDIT_FAILED_STATUSES:
                return product_error(
                    "OFFER_AUDIT_FAILED",
                    f"{offer.product_id}: 审核未通过，请修改后重新提交",
                )
        waiting = [o for o in offers if o.info.get("status") != PUBLISHED_STATUS]
        cap = store.republish_cap(conn)
        used = store.republished_today(conn, call.member_id)
        if used + len(waiting) > cap:
            return product_error(
                "REPUBLISH_LIMIT",
                f"每天最多重新上架 {cap} 条，今天已上架 {used} 条 / "
                f"at most {cap} offers may be relisted a day; {used} already today",
            )
        stamp = store.clock.next_stamp(max((o.last_update_ms for o in waiting), default=0))
        for offer in waiting:
            offer.info["status"] = PUBLISHED_STATUS
            offer.last_update_ms = stamp
            store.replace_offer(conn, offer)
        store.count_republished(conn, call.member_id, len(waiting))
    return {"success": True}
