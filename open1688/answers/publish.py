"""Answers of publishing by schema: the publish form, the add, the legacy add's dry run
(docs/protocol.md, "Publishing what 1688 accepts").
"""

from __future__ import annotations

import json
from decimal import Decimal

from ..errors import BusinessError, MalformedResponseError
from ..types import NewProductResult, PreviewResult, ProductSchema
from .reader import Reader, is_true, raise_product_error


def _json_field(reader: Reader, key: str) -> dict:
    """A field that holds a JSON object, sent as a string (or, tolerated, as the object)."""
    value = reader.value(key, required=True)
    if isinstance(value, str):
        try:
            value = json.loads(value, parse_float=Decimal)
        except (ValueError, RecursionError):
            raise MalformedResponseError(f"{reader.path(key)} is not JSON") from None
    if not isinstance(value, dict):
        raise MalformedResponseError(f"{reader.path(key)} is not a JSON object")
    return value


def _raise_biz_error(result: Reader) -> None:
    """The schema-driven APIs: `result.success` false with `bizCode` (e.g. SYS_ERROR)."""
    flag = result.raw.get("success")
    code = result.text("bizCode") or result.text("code")
    if (flag is not None and not is_true(flag)) or (code and "bizData" not in result.raw):
        message = result.text("bizMessage") or result.text("message") or result.text("msg") or code
        raise BusinessError(message or "call failed", code=code or None)


def parse_product_schema(answer: object, category_id: int, scene: str) -> ProductSchema:
    """alibaba.new.product.getSchema: result.bizData is the schema as a JSON string."""
    top = Reader(answer)
    _raise_product_error_if_flat(top)
    result = top.child("result")
    _raise_biz_error(result)
    return ProductSchema(category_id, scene, _json_field(result, "bizData"), top.raw)


def _raise_product_error_if_flat(top: Reader) -> None:
    if "result" not in top.raw:
        raise_product_error(top)


def parse_new_product(answer: object) -> NewProductResult:
    """alibaba.new.product.add: result.bizData (JSON string) -> dataJson (JSON string or
    object) -> itemId; offerStatus in dataJson or in bizData.data; failure: result.bizCode."""
    top = Reader(answer)
    _raise_product_error_if_flat(top)
    result = top.child("result")
    _raise_biz_error(result)
    biz = Reader(_json_field(result, "bizData"), "result.bizData")
    data = Reader(_json_field(biz, "dataJson"), "result.bizData.dataJson")
    status = data.text("offerStatus")
    if not status and isinstance(biz.raw.get("data"), dict):  # a publisher reads it here
        status = biz.child("data").text("offerStatus")
    return NewProductResult(
        item_id=data.integer("itemId", required=True),
        offer_status=status,
        raw=top.raw,
    )


def parse_preview(answer: object) -> PreviewResult:
    """alibaba.product.add.preview: the add's flat shape {success, errorCode, errorMsg}."""
    top = Reader(answer)
    try:
        raise_product_error(top)
    except BusinessError as refusal:
        return PreviewResult(False, refusal.code or "", refusal.message, top.raw)
    return PreviewResult(True, "", "", top.raw)
