"""Publishing what 1688 accepts, one kit for every test that adds offers to the sandbox.

The legacy alibaba.product.add is checked like 1688 by default (docs/sandbox-control.md,
"Publishing"): a leaf, the leaf's required attributes (货号 1398 among them), SKU dimensions
from the leaf's sale attributes, every picture a path of the seller's photobank, the seller's own
freight template and send-goods address. So a test publishes as a real client would: it uploads
a picture first (alibaba.photobank.photo.add), reads its freight template and address, then
sends the full payload.

Imported as ``publishing_kit`` by tests/sandbox (like ``sandbox_client``) and as
``tests.sandbox.publishing_kit`` from tests/; it imports neither the sandbox nor the app, so either
client fits: ``SandboxClient`` (tests/sandbox/sandbox_client.py, raw HTTP) through
``ready_seller`` / ``legacy_fields``, the app's own ``Open1688Client`` through
``ready_seller_via_client`` / ``legacy_offer``.
"""

import io
import json
import time
from typing import NamedTuple

from PIL import Image

T_SHIRT = 1031910  # a leaf (女装 > T恤 > 女式T恤)
CARGO_ATTRIBUTE = 1398  # 货号 travels as this attribute of the leaf
LOGISTICS = "com.alibaba.logistics"


class Seller(NamedTuple):
    """What a seller publishes with: its token, a photobank picture path, its freight template
    and send-goods address."""

    token: str
    photo: str
    template: int
    address: int


def eventually(read, expected, timeout: float = 10.0):
    """Read until the value is `expected` (an audit or a late apply settles on the sandbox's
    clock): the value read last, to assert on; no fixed sleep guessing how long it takes."""
    deadline = time.monotonic() + timeout
    value = read()
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.05)
        value = read()
    return value


def ok(answer) -> dict:
    assert answer.status_code == 200, answer.text
    return answer.json()


# --- the photobank, freight and address, over raw HTTP (SandboxClient) -------------------------
def picture(kind: str = "JPEG", size=(640, 640), mode="RGB", colour=(200, 40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, format=kind)
    return buffer.getvalue()


def upload(gateway, token: str, data: bytes, *, name: str = "主图", album=None) -> dict:
    """alibaba.photobank.photo.add of `data` into `album` (the seller's first by default)."""
    if album is None:
        albums = ok(gateway.call("alibaba.photobank.album.getList", token=token))["albumInfos"]
        album = albums[0]["albumID"]
    return photo_call(gateway, token, {"albumID": album, "name": name}, data)


def photo_call(gateway, token: str, params: dict, data: bytes) -> dict:
    """photo.add as multipart: the fields are signed, the file's bytes are not."""
    answer = gateway.call(
        "alibaba.photobank.photo.add",
        params,
        token=token,
        files={"imageBytes": ("p.bin", data, "application/octet-stream")},
    )
    return ok(answer)


def shipping(gateway, token: str) -> tuple[int, int]:
    """(the seller's first freight template id, its first send-goods address id)."""
    templates = ok(
        gateway.call(
            "alibaba.logistics.myFreightTemplate.list.get", namespace=LOGISTICS, token=token
        )
    )["result"]
    addresses = ok(
        gateway.call(
            "alibaba.logistics.mySendGoodsAddress.list.get", namespace=LOGISTICS, token=token
        )
    )["result"]
    return templates[0]["id"], addresses[0]["id"]


def ready_seller(gateway, token: str) -> Seller:
    """The token's seller ready to publish: a picture uploaded, its template and address."""
    photo = upload(gateway, token, picture())["image"]["url"]
    template, address = shipping(gateway, token)
    return Seller(token, photo, template, address)


def ready_seller_via_client(client, token: str, *, name: str = "主图") -> Seller:
    """The same through the app's own client (open1688's Open1688Client); the picture
    is named `name`, its default send-goods address is taken."""
    album = client.list_albums(token)[0]
    photo = client.add_photo(token, album_id=album.album_id, name=name, image=picture())
    template = client.list_freight_templates(token)[0]
    address = next(a for a in client.list_send_goods_addresses(token) if a.is_default)
    return Seller(token, photo.url, template.template_id, address.address_id)


def instant_audit(gateway, app_key: str) -> None:
    """New offers of `app_key` decided at once (`published`) instead of after the audit."""
    gateway.control("POST", "/_sandbox/switches", app_key=app_key, audit_seconds=0)


# --- the legacy add's payload ------------------------------------------------------------------
def tee_attributes(cargo: str) -> list[dict]:
    """女式T恤's required attributes: 货号 1398, 品牌, 是否进口, 面料, 适用季节 (multi)."""
    return [
        {"attributeID": CARGO_ATTRIBUTE, "value": cargo},
        {"attributeID": 2176, "value": "其他"},
        {"attributeID": 1141, "value": "否"},
        {"attributeID": 287, "value": "棉麻"},
        {"attributeID": 122216347, "value": "春季"},
        {"attributeID": 122216347, "value": "夏季"},
    ]


def tee_sku(colour: str, size: str, price: str, amount: int, cargo: str | None = None) -> dict:
    """A SKU along the leaf's sale attributes 颜色 3216 and 尺码 450."""
    sku = {
        "attributes": [
            {"attributeID": 3216, "attributeValue": colour},
            {"attributeID": 450, "attributeValue": size},
        ],
        "price": price,
        "amountOnSale": amount,
    }
    if cargo:
        sku["cargoNumber"] = cargo
    return sku


def legacy_offer(
    photo: str, template: int, address: int, *, cargo: str = "H11-LG-001", **changes
) -> dict:
    """alibaba.product.add's parameters as objects (the app's client JSON-encodes them): a
    T-shirt with 货号 `cargo` and one SKU; `changes` replace whole parameters."""
    offer = {
        "subject": "2026新款纯棉短袖T恤女",
        "categoryID": T_SHIRT,
        "attributes": tee_attributes(cargo),
        "image": {"images": [photo]},
        "skuInfos": [tee_sku("白色", "S", "15.00", 10, f"{cargo}-W-S")],
        "saleInfo": {"priceRanges": [{"startQuantity": 2, "price": "15.00"}]},
        "shippingInfo": {
            "freightTemplateID": template,
            "sendGoodsAddressId": address,
            "unitWeight": 0.2,
        },
    }
    offer.update(changes)
    return offer


def form_fields(offer: dict) -> dict:
    """Parameters as form fields: objects and arrays as JSON strings."""
    return {
        key: json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
        for key, value in offer.items()
    }


def legacy_fields(photo: str, template: int, address: int, **changes) -> dict:
    """``legacy_offer`` as form fields for SandboxClient.call; `changes` are form values as
    sent (objects already as JSON strings), `cargo` the 货号."""
    cargo = changes.pop("cargo", "H11-LG-001")
    fields = form_fields(legacy_offer(photo, template, address, cargo=cargo))
    fields.update(changes)
    return fields


def add_legacy(gateway, seller: Seller, **changes) -> dict:
    """alibaba.product.add of ``legacy_fields`` over raw HTTP; the answer's JSON."""
    fields = legacy_fields(seller.photo, seller.template, seller.address, **changes)
    return ok(gateway.call("alibaba.product.add", fields, token=seller.token))


# --- the schema-driven add (alibaba.new.product.add) in the names working publishers send ----
SCENE = "popular"  # a scene working publishers send (cbu, popular, industry)


def schema_form(photo: str, template: int, address: int, **changes) -> dict:
    """`dataBody.formValues` as a public batch publisher that got offer ids back sends it
    (docs/protocol.md, "The schema-driven publish body"): a custom brand, two SKUs priced per
    SKU, the picture as primaryPicture.imageList[{url}]. `changes` replace whole fields; a
    value None drops the field."""
    values = {
        "title": "2026新款纯棉短袖T恤女",
        "outerId": "H11-TS-001",
        "primaryPicture": {"imageList": [{"url": photo}]},
        "catProp": {
            "p-2176": {"value": -1, "text": "义乌小燕子", "custom": True},
            "p-1141": "否",
            "p-287": "纯棉",
            "p-122216347": ["夏季"],
        },
        "saleProp": {
            "p-3216": [{"value": -1, "text": "白色", "custom": True, "imgUrl": photo},
                       {"value": -2, "text": "黑色", "custom": True}],
            "p-450": [{"value": -3, "text": "M", "custom": True},
                      {"value": -4, "text": "L", "custom": True}],
        },
        "skuTable": [
            {"sku_props": [{"id": 3216, "name": "p-3216", "label": "颜色", "value": -1,
                            "text": "白色"},
                           {"id": 450, "name": "p-450", "label": "尺码", "value": -3, "text": "M"}],
             "sku_price": 19.9, "sku_amountOnSale": 100, "sku_cargoNumber": "H11-TS-001-W-M",
             "sku_status": 1},
            {"sku_props": [{"id": 3216, "name": "p-3216", "label": "颜色", "value": -2,
                            "text": "黑色"},
                           {"id": 450, "name": "p-450", "label": "尺码", "value": -4, "text": "L"}],
             "sku_price": 21.9, "sku_amountOnSale": 50, "sku_cargoNumber": "H11-TS-001-B-L",
             "sku_status": 1},
        ],
        "quotationType": {"value": 1},
        "priceRange": [{"pricerange_beginAmount": 1, "pricerange_price": 19.9}],
        "cbuUnit": {"unit": "件"},
        "onlineTrade": {"value": 17410},
        "invReduce": {"value": "1", "text": "下单时扣减"},
        "upshelfTime": {"value": 1, "subText": "商品已经开售"},
        "freight": {"freightType": "T", "freightId": template},
        "cbuSendAddress": {"value": address},
        "description": {"detailList": [{"id": "0", "title": "图文详情",
                                        "content": "<p>纯棉短袖</p>", "isRequired": True}]},
        "beginAmount": 1,
        "weight": 0.3,
        "totalSales": 150,
    }  # fmt: skip
    values.update(changes)
    return {key: value for key, value in values.items() if value is not None}


def schema_body(values: dict, cat_id: int = T_SHIRT) -> str:
    """The dataBody JSON string: formValues and the form's global systemParam."""
    system = {"catId": cat_id, "contextPath": f"/{SCENE}"}
    return json.dumps({"formValues": values, "global": {"systemParam": system}})
