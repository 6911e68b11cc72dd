"""The real client (open1688) against the sandbox over HTTP for the publishing APIs: what
the client reads is what the sandbox answers, retries only where they are safe."""

import io
import json
import threading
import time

import pytest
from PIL import Image
from publishing_kit import (
    SCENE,
    T_SHIRT,
    eventually,
    legacy_offer,
    ready_seller_via_client,
    schema_body,
    schema_form,
)
from sandbox_client import APP_KEY, APP_SECRET

from open1688 import BusinessError, Open1688Client, OutcomeUnknownError
from open1688.types import INPUT_MULTI, CategoryAttributes


class Counter:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, api, attempt, status, elapsed) -> None:
        with self.lock:
            self.calls.append(api)


@pytest.fixture
def counted():
    return Counter()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(gateway, counted, sleeps):
    with Open1688Client(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        gateway=gateway.base_url,
        read_timeout=0.5,
        max_retries=2,
        sleep=sleeps.append,
        on_request=counted,
    ) as built:
        yield built


@pytest.fixture
def token(gateway):
    return gateway.token()


def data_body(client, token, **changes) -> dict:
    # a 40-character name: the client cuts it to the photobank's 30
    _, photo, template, address = ready_seller_via_client(client, token, name="主图" * 20)
    row = {"sku_props": [{"name": "p-3216", "value": -1, "text": "白色"},
                         {"name": "p-450", "value": -2, "text": "M"}],
           "sku_price": 19.9, "sku_amountOnSale": 5, "sku_cargoNumber": "CL-001-W-M"}  # fmt: skip
    values = schema_form(
        photo, template, address, title="纯棉短袖T恤女", outerId="CL-001", skuTable=[row]
    )
    values.update(changes)
    return json.loads(schema_body(values))


def test_category_tree_walk_and_search(client, token, counted):
    roots = client.category_children(token, 0)
    assert {"女装", "数码配件", "家纺"} <= {root.name for root in roots}
    assert all(root.parent_id == 0 and not root.is_leaf for root in roots)
    started = time.monotonic()
    counted.calls.clear()
    tree = client.category_tree(token)
    elapsed = time.monotonic() - started
    leaves = [c for c in tree if c.is_leaf]
    assert len(leaves) >= 250 and len(tree) - len(leaves) >= 60
    assert len(counted.calls) == len(tree) + 1  # one alibaba.category.get per category
    assert elapsed < 30
    by_id = {c.category_id: c for c in tree}
    shirt = by_id[T_SHIRT]
    assert shirt.name == "女式T恤" and by_id[shirt.parent_id].name == "T恤"
    found = client.search_categories(token, "保温杯")
    assert [c.category_id for c in found] == [121950004] and found[0].is_leaf


def test_attribute_schema_is_typed_with_cascading_rules(client, token):
    schema = client.get_category_attributes(token, T_SHIRT)
    assert isinstance(schema, CategoryAttributes)
    assert [a.name for a in schema.sale_attributes] == ["颜色", "尺码"]
    seasons = schema.attribute(122216347)
    assert seasons.input_type == INPUT_MULTI and seasons.value_named("夏季").value_id
    plain = schema.required_ids({})
    assert 1398 in plain and 8243 not in plain
    imported = schema.attribute(1141).value_named("是").value_id
    assert 8243 in schema.required_ids({1141: {imported}})


def test_500_2_is_retried_after_one_to_three_seconds(gateway, client, token, sleeps):
    gateway.control(
        "POST", "/_sandbox/faults", api="alibaba.category.attribute.get", kind="preparing", times=2
    )
    schema = client.get_category_attributes(token, T_SHIRT)
    assert schema.attributes
    assert len(sleeps) == 2 and all(1.0 <= s <= 3.0 for s in sleeps)


def test_500_2_gives_up_after_three_answers(gateway, client, token):
    gateway.control(
        "POST", "/_sandbox/faults", api="alibaba.category.attribute.get", kind="preparing", times=3
    )
    with pytest.raises(BusinessError) as raised:
        client.get_category_attributes(token, T_SHIRT)
    assert raised.value.code == "500_2"


def test_schema_sys_error_is_retried(gateway, client, token, sleeps):
    gateway.control(
        "POST", "/_sandbox/faults", api="alibaba.new.product.getSchema", kind="sys_error"
    )
    schema = client.get_product_schema(token, T_SHIRT, scene=SCENE)
    assert schema.category_id == T_SHIRT
    assert schema.schema["global"]["systemParam"]["catId"] == T_SHIRT
    assert len(sleeps) == 1


def test_publish_through_the_schema_api_then_audit(gateway, client, token):
    gateway.control("POST", "/_sandbox/switches", app_key=APP_KEY, audit_seconds=0.3)
    result = client.add_new_product(
        token, category_id=T_SHIRT, data_body=data_body(client, token), scene=SCENE
    )
    assert result.offer_status == "auditing"
    (found,) = client.find_products_by_cargo_number(token, "CL-001-W-M")
    assert found.product_id == result.item_id
    status = eventually(lambda: client.get_product(token, result.item_id).status, "published")
    assert status == "published"


def test_refusals_name_the_attribute(client, token):
    body = data_body(
        client, token, catProp={"p-2176": "其他", "p-1141": "否", "p-122216347": ["夏季"]}
    )
    with pytest.raises(BusinessError) as raised:
        client.add_new_product(token, category_id=T_SHIRT, data_body=body, scene=SCENE)
    assert raised.value.code == "ATTRIBUTE_REQUIRED" and "面料" in raised.value.message


def test_a_rejected_offer_carries_the_reason(gateway, client, token):
    gateway.control("POST", "/_sandbox/switches", app_key=APP_KEY, audit_seconds=0)
    body = data_body(client, token, title="违禁纯棉T恤")
    result = client.add_new_product(token, category_id=T_SHIRT, data_body=body, scene=SCENE)
    detail = client.get_product(token, result.item_id)
    assert detail.status == "untread" and "违禁" in detail.audit_reason


def test_add_sys_error_is_an_unknown_outcome(gateway, client, token):
    body = data_body(client, token)
    gateway.control("POST", "/_sandbox/faults", api="alibaba.new.product.add", kind="sys_error")
    with pytest.raises(OutcomeUnknownError):
        client.add_new_product(token, category_id=T_SHIRT, data_body=body, scene=SCENE)


def test_apply_late_add_is_unknown_never_resent_and_appears_later(gateway, client, token, counted):
    body = data_body(client, token)
    gateway.control(
        "POST", "/_sandbox/faults", api="alibaba.new.product.add", kind="apply_late", delay=0.8
    )
    counted.calls.clear()
    with pytest.raises(OutcomeUnknownError):
        client.add_new_product(token, category_id=T_SHIRT, data_body=body, scene=SCENE)
    assert counted.calls == ["alibaba.new.product.add"]  # not retried
    assert client.find_products_by_cargo_number(token, "CL-001") == ()
    found = eventually(lambda: len(client.find_products_by_cargo_number(token, "CL-001")), 1)
    assert found == 1


def test_photo_rules_reach_the_client_as_business_errors(client, token):
    album = client.list_albums(token)[0]
    buffer = io.BytesIO()
    Image.new("RGBA", (64, 64), (0, 0, 0, 0)).save(buffer, format="PNG")
    with pytest.raises(BusinessError) as raised:
        client.add_photo(token, album_id=album.album_id, name="透明", image=buffer.getvalue())
    assert raised.value.code == "IMAGE_TRANSPARENT"


def test_legacy_add_and_preview(client, token):
    seller = ready_seller_via_client(client, token)
    product = legacy_offer(seller.photo, seller.template, seller.address, cargo="LG-7")
    assert client.preview_product(token, product).ok
    bad = {**product, "shippingInfo": {"freightTemplateID": 424242}}
    refused = client.preview_product(token, bad)
    assert not refused.ok and refused.code == "FREIGHT_TEMPLATE_INVALID"
    product_id = client.add_product(token, product)
    (found,) = client.find_products_by_cargo_number(token, "LG-7")
    assert found.product_id == product_id and found.status == "auditing"
