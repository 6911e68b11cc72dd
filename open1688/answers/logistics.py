"""Answers of the seller's freight templates and send-goods addresses."""

from __future__ import annotations

from ..types import FreightTemplate, SendGoodsAddress
from .reader import Reader, is_true, result_list


def parse_freight_templates(answer: object) -> tuple[FreightTemplate, ...]:
    """alibaba.logistics.myFreightTemplate.list.get: `result` [{id, name, ...}]."""
    return tuple(
        FreightTemplate(
            template_id=item.integer("id", required=True),
            name=item.text("name"),
            is_default=is_true(item.value("isDefault")),
            raw=item.raw,
        )
        for item in result_list(Reader(answer), "result")
    )


def parse_send_goods_addresses(answer: object) -> tuple[SendGoodsAddress, ...]:
    """alibaba.logistics.mySendGoodsAddress.list.get: `result` [{id, addressName,
    fullAddress, isDefault}]."""
    return tuple(
        SendGoodsAddress(
            address_id=item.integer("id", required=True),
            name=item.text("addressName") or item.text("name"),
            full_address=item.text("fullAddress") or item.text("address"),
            is_default=is_true(item.value("isDefault")),
            raw=item.raw,
        )
        for item in result_list(Reader(answer), "result")
    )
