"""Freight templates and send-goods addresses of a seller (alibaba.logistics.*).

Every seller has the same three templates and two addresses, with ids derived from the member
id (so two sellers never share one and nothing needs storing). Answers: ``{"result": [...]}``
(docs/protocol.md: `result` [{id, name, ...}] and [{id, addressName, fullAddress, isDefault}]).
"""

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .call import ApiCall

# freightTemplateID 0 = freight explained separately, 1 = the seller pays (docs/protocol.md):
# any seller may use them.
SPECIAL_TEMPLATE_IDS = (0, 1)
TEMPLATES = ("默认运费模板", "江浙沪包邮", "按重量计费")
ADDRESSES = (
    ("义乌仓", "浙江省 金华市 义乌市 稠城街道 工人北路1088号"),
    ("广州仓", "广东省 广州市 白云区 石井街道 石潭路28号"),
)


def _id(member_id: str, kind: str, index: int) -> int:
    digest = hashlib.sha1(f"{member_id}/{kind}/{index}".encode()).hexdigest()  # noqa: S324
    return 10_000_000 + int(digest[:10], 16) % 890_000_000


def templates(member_id: str) -> list[dict]:
    return [
        {
            "id": _id(member_id, "freight", index),
            "name": name,
            "isDefault": index == 0,
            "expressOrFree": "free" if "包邮" in name else "express",
            "fromAreaCode": "330782",
        }
        for index, name in enumerate(TEMPLATES)
    ]


def addresses(member_id: str) -> list[dict]:
    return [
        {
            "id": _id(member_id, "address", index),
            "addressName": name,
            "fullAddress": full,
            "isDefault": index == 0,
            "contactName": "张经理",
            "mobile": "13800000000",
        }
        for index, (name, full) in enumerate(ADDRESSES)
    ]


def owns_template(member_id: str, template_id: int) -> bool:
    return template_id in SPECIAL_TEMPLATE_IDS or any(
        t["id"] == template_id for t in templates(member_id)
    )


def owns_address(member_id: str, address_id: int) -> bool:
    return any(a["id"] == address_id for a in addresses(member_id))


def list_freight_templates(call: "ApiCall") -> dict:
    return {"result": templates(call.member_id)}


def list_send_goods_addresses(call: "ApiCall") -> dict:
    return {"result": addresses(call.member_id)}
