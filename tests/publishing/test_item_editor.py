"""The staff item editor over HTTP against the sandbox's category schema: nothing typed in a
notation, a SKU grid kept by combination when it grows or is reordered, a failed save shown back
as typed with each error beside its field, pictures in the order and with the main one given."""

import io
import itertools
import json
import re
from hashlib import sha256

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from catalog.publishing.categories import attributes_for, search
from catalog.publishing.upload.publishing import stage_picture
from tests.factories import UploadBatchFactory
from tests.publishing.page_form import form_data, visible_text
from tests.publishing.test_publish import filled_attributes

pytestmark = pytest.mark.django_db

TEE = 1031910  # 女式T恤, a leaf of 女装
COLOUR, SIZE = 3216, 450


def picture(color, kind="PNG", size=(80, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, kind)
    return out.getvalue()


def ref(data: bytes) -> str:
    return "staged:" + sha256(data).hexdigest()


@pytest.fixture
def editor(connected_shop, client, staff_user):
    """A batch of the connected shop, the T-shirt leaf's schema read (and its name known), and
    the editor's base post: a valid item without SKUs."""
    client.force_login(staff_user)
    search(connected_shop, "女式T恤")
    schema = attributes_for(connected_shop, TEE)
    batch = UploadBatchFactory(shop=connected_shop)
    post = {
        "editor": "1",
        "structured": "1",
        "title": "纯棉短袖T恤",
        "category_id": str(TEE),
        "price": "19.90",
        "stock": "100",
        "unit": "件",
        "min_order_quantity": "1",
        "cargo_number": "",
        "description": "",
        "tier-0-qty": "",
        "tier-0-price": "",
        "picture": [stage_picture(picture((200, 30, 30)))],
    }
    for row in filled_attributes(schema, 是否进口="否"):
        post[f"attr-{row['attributeID']}"] = row["value"]
    return client, batch, post


def grid(dims: dict[int, list[str]], typed: dict) -> dict:
    """The grid's posted names as the page makes them: the dimensions' values in order, then one
    row per combination, its values from `typed` (combination -> price, stock, cargo)."""
    post = {f"dim-{attr_id}": values for attr_id, values in dims.items()}
    combos = itertools.product(*[[(a, v) for v in vs] for a, vs in dims.items()])
    for n, pairs in enumerate(combos):
        price, stock, cargo = typed.get(frozenset(pairs), ("", "", ""))
        post[f"sku-{n}-combo"] = json.dumps([list(p) for p in pairs], ensure_ascii=False)
        post.update({f"sku-{n}-price": price, f"sku-{n}-stock": stock, f"sku-{n}-cargo": cargo})
    return post


def rows_shown(data: dict) -> dict:
    """The grid rows a page shows: combination -> (price, stock, cargo), in page order."""
    rows = {}
    for name, values in data.items():
        if name.endswith("-combo") and name.startswith("sku-"):
            n = name.split("-")[1]
            pairs = frozenset(tuple(p) for p in json.loads(values[0]))
            rows[pairs] = tuple(data[f"sku-{n}-{k}"][0] for k in ("price", "stock", "cargo"))
    return rows


SIX = {
    frozenset({(COLOUR, colour), (SIZE, size)}): (f"{20 + n}.00", str(10 + n), f"T-{n}")
    for n, (colour, size) in enumerate(itertools.product(["白色", "黑色"], ["S", "M", "L"]))
}


def test_a_grown_and_reordered_grid_keeps_every_typed_value(editor):
    client, batch, post = editor
    post["stock"] = ""  # the SKUs' sum
    url = reverse("catalog:item_create", args=[batch.pk])
    six = grid({COLOUR: ["白色", "黑色"], SIZE: ["S", "M", "L"]}, SIX)
    assert client.post(url, {**post, **six}).status_code == 302
    item = batch.items.get()
    edit = reverse("catalog:item_edit", args=[batch.pk, item.pk])
    page = form_data(client.get(edit).content.decode())
    assert rows_shown(page) == SIX  # the edit page's grid holds the six rows as saved
    assert page[f"dim-{COLOUR}"][:2] == ["白色", "黑色"]

    # 红色 appended, the colours and the sizes reordered: rows move, nothing typed is lost.
    grown = {COLOUR: ["黑色", "白色", "红色"], SIZE: ["L", "S", "M"]}
    failed = client.post(edit, {**post, **grid(grown, SIX), "title": ""})
    assert failed.status_code == 200
    assert form_data(failed.content.decode())["stock"] == [""]  # as typed, not the sum
    shown = rows_shown(form_data(failed.content.decode()))
    assert len(shown) == 9
    assert {k: v for k, v in shown.items() if v != ("", "", "")} == SIX
    assert list(shown)[0] == frozenset({(COLOUR, "黑色"), (SIZE, "L")})  # the new order

    # A post whose rows were not rebuilt (no script ran): the typed rows are placed by their
    # combination into the grid of the dimensions posted, never lost.
    stale = {**post, **six, f"dim-{COLOUR}": ["白色", "黑色", "红色"], "title": ""}
    shown = rows_shown(form_data(client.post(edit, stale).content.decode()))
    assert len(shown) == 9 and {k: v for k, v in shown.items() if any(v)} == SIX

    assert client.post(edit, {**post, **grid(grown, SIX)}).status_code == 302
    item.refresh_from_db()
    saved = {
        frozenset((a["attributeID"], a["attributeValue"]) for a in sku["attributes"]): (
            sku["price"],
            str(sku["stock"]),
            sku["cargo_number"],
        )
        for sku in item.skus
    }
    assert saved == SIX  # the 红色 rows were left empty: not SKUs
    assert [a["attributeValue"] for a in item.skus[0]["attributes"]] == ["黑色", "L"]
    assert item.stock == sum(int(stock) for _p, stock, _c in SIX.values())


def test_a_failed_save_shows_every_value_as_typed_with_its_error(editor):
    client, batch, post = editor
    first, second = stage_picture(picture((10, 200, 10))), stage_picture(picture((10, 10, 200)))
    typed = {
        **post,
        **grid(
            {COLOUR: ["白色", "黑色"], SIZE: ["M"]},
            {
                frozenset({(COLOUR, "白色"), (SIZE, "M")}): ("x", "5", "W-M"),
                frozenset({(COLOUR, "黑色"), (SIZE, "M")}): ("21.00", "3", "B-M"),
            },
        ),
        "title": "",
        "price": "",
        "description": "宽松版型，纯棉",
        "cargo_number": "TS-EDIT-1",
        "min_order_quantity": "2",
        "tier-0-qty": "1",
        "tier-0-price": "abc",
        "tier-1-qty": "50",
        "tier-1-price": "8.50",
        "picture": [first, second],
        "picture_main": second,
    }
    answer = client.post(reverse("catalog:item_create", args=[batch.pk]), typed)

    assert answer.status_code == 200 and batch.items.count() == 0
    html = answer.content.decode()
    shown = form_data(html)
    for name, value in typed.items():
        if name in ("picture", "picture_main", "editor", "structured"):
            continue
        expected = value if isinstance(value, list) else [value]
        assert shown.get(name, [""])[: len(expected)] == expected, name
    assert shown["picture"] == [second, first] and shown["picture_main"] == [second]
    form = answer.context["form"]
    assert form.errors["title"] == ["标题必填"]
    assert form.errors["price_ranges"] == ["请修改标出的阶梯价。"]
    assert "price" not in form.errors  # the tiers were given: no "enter a price" beside it
    assert form.errors["skus"] == ["请修改标出的规格行。"]
    # Each row's problem beside it: the tier row and the SKU row that cannot be read.
    tier_row = html[html.index('name="tier-0-price"') :].split("</tr>")[0]
    assert "价格不是数字：abc" in tier_row
    sku_row = html[html.index('value="W-M"') :].split("</tr>")[0]
    assert "价格不是数字：x" in sku_row
    assert "商品未保存" in html
    # No text notation anywhere a reader sees, and no raw list fields.
    text = visible_text(html)
    assert "女式T恤" in text
    for raw in ("staged:", "(3216)", str(TEE), "=19.90@", "1:9.90"):
        assert raw not in text, raw
    for name in ("images", "attributes", "skus", "price_ranges"):
        assert f'name="{name}"' not in html, name

    fixed = {**typed, "title": "纯棉短袖T恤", "tier-0-price": "9.90"}
    fixed["sku-0-price"] = "19.90"  # a SKU's own price, with tiers: 1688 takes one of them
    answer = client.post(reverse("catalog:item_create", args=[batch.pk]), fixed)
    assert answer.status_code == 200
    assert "每个规格都按阶梯价销售" in answer.context["form"].errors["price_ranges"][0]
    # Priced by the tiers: the SKU prices left empty sell at the first tier's.
    fixed.update({name: "" for name in fixed if re.fullmatch(r"sku-\d+-price", name)})
    assert client.post(reverse("catalog:item_create", args=[batch.pk]), fixed).status_code == 302
    item = batch.items.get()
    assert item.price_ranges == [
        {"start_quantity": 1, "price": "9.90"},
        {"start_quantity": 50, "price": "8.50"},
    ]
    assert [s["price"] for s in item.skus] == ["9.90", "9.90"]
    assert item.images == [second, first] and item.cargo_number == "TS-EDIT-1"
    assert [s["cargo_number"] for s in item.skus] == ["W-M", "B-M"]


def test_pictures_posted_as_several_files_keep_their_order_and_main(editor):
    client, batch, post = editor
    kept = post["picture"][0]
    files = [picture(color) for color in ((250, 0, 0), (0, 250, 0), (0, 0, 250))]
    uploads = [SimpleUploadedFile(f"p{n}.png", data, "image/png") for n, data in enumerate(files)]
    answer = client.post(
        reverse("catalog:item_create", args=[batch.pk]),
        {**post, "picture_files": uploads, "picture_main": "file-1"},
    )
    assert answer.status_code == 302, answer.context["form"].errors
    item = batch.items.get()
    assert item.images == [ref(files[1]), kept, ref(files[0]), ref(files[2])]

    page = client.get(reverse("catalog:item_edit", args=[batch.pk, item.pk])).content.decode()
    shown = form_data(page)
    assert shown["picture"] == item.images and shown["picture_main"] == [ref(files[1])]
    thumb = reverse("catalog:staged_picture", args=[sha256(files[1]).hexdigest()])
    assert f'src="{thumb}"' in page
    small = client.get(thumb)
    assert small.status_code == 200 and small["Content-Type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(small.content)).size) <= 240
    assert client.get(reverse("catalog:staged_picture", args=["0" * 64])).status_code == 404

    # The batch's item list shows each item's main picture.
    detail = client.get(reverse("catalog:batch_detail", args=[batch.pk])).content.decode()
    assert f'<img class="thumb small" src="{thumb}"' in detail

    # The drop zone stages several at once, in order, and names the one it cannot take.
    dropped = client.post(
        reverse("catalog:item_pictures", args=[batch.pk]),
        {
            "picture_files": [
                SimpleUploadedFile("a.jpg", picture((1, 2, 3), "JPEG"), "image/jpeg"),
                SimpleUploadedFile("notes.png", b"not a picture", "image/png"),
                SimpleUploadedFile("c.png", files[2], "image/png"),
            ]
        },
    ).json()
    assert [p["ref"] for p in dropped["pictures"]] == [
        ref(picture((1, 2, 3), "JPEG")),
        ref(files[2]),
    ]
    assert dropped["pictures"][1]["src"] == reverse(
        "catalog:staged_picture", args=[sha256(files[2]).hexdigest()]
    )
    assert len(dropped["errors"]) == 1 and "notes.png" in dropped["errors"][0]


@pytest.mark.parametrize(
    "changes",
    [
        {"sku-0-combo": "not json", "sku-0-price": "1", "sku-0-stock": "1"},
        {"sku-0-combo": "[[3216]]", "sku-0-price": "1", "sku-0-stock": "1"},
        {"sku-0-combo": '[[3216, "白色"]]', "sku-0-price": "1e9999999", "sku-0-stock": "1"},
        {"sku-0-combo": '[[3216, "白色"]]', "sku-0-price": "1", "sku-0-stock": "1.5"},
        {"sku-0-combo": '[[3216, "白色"]]', "sku-0-price": "", "sku-0-stock": "4"},
        {"sku-0-combo": '[[99999999999999999999, "白"]]', "sku-0-price": "1", "sku-0-stock": "1"},
        {"tier-0-qty": "1e9999999", "tier-0-price": "1", "price": ""},
        {"tier-0-qty": "1", "tier-0-price": "", "price": ""},
        {"tier-3-qty": "5", "tier-3-price": "NaN", "price": ""},
        {"picture": ["javascript:alert(1)"]},
        {"picture": ["staged:" + "0" * 64]},
        {"picture": []},
        {"category_id": "²"},
        {"category_id": "9" * 40},
    ],
    ids=lambda changes: ",".join(f"{k}={str(v)[:20]!r}" for k, v in changes.items()),
)
def test_bad_editor_input_is_a_form_error(editor, changes):
    client, batch, post = editor
    answer = client.post(reverse("catalog:item_create", args=[batch.pk]), {**post, **changes})
    assert answer.status_code == 200
    assert answer.context["form"].errors
    assert batch.items.count() == 0


def test_odd_editor_input_is_no_server_error(editor):
    client, batch, post = editor
    url = reverse("catalog:item_create", args=[batch.pk])
    for changes in (
        {"picture_main": "file-" + "9" * 30},
        {"picture_main": "file-x"},
        {f"dim-{COLOUR}": ["白色" * 300, "，，，"], "sku-9999-price": "1"},
        {"sku-0-combo": json.dumps([[COLOUR, "白"]] * 500)},
    ):
        assert client.post(url, {**post, **changes}).status_code in (200, 302), changes


@pytest.mark.parametrize(
    ("typed", "row_of", "problem"),
    [
        ({"sku-0-price": "-5"}, "sku-0-price", "价格必须大于 0"),
        ({"sku-0-stock": "-1"}, "sku-0-price", "库存必须是不小于 0 的整数"),
        ({"sku-0-cargo": "白-M"}, "sku-0-price", "货号只能包含字母、数字"),
        ({"tier-0-qty": "0", "tier-0-price": "9.90"}, "tier-0-price", "起批量必须是不小于 1"),
        ({"tier-0-qty": "1", "tier-0-price": "0"}, "tier-0-price", "价格必须大于 0"),
    ],
)
def test_a_number_that_breaks_a_rule_is_shown_beside_its_row(editor, typed, row_of, problem):
    """A value that reads but breaks a staging rule is marked on its own row, as a value that
    cannot be read is — not as "the 1st SKU" above the grid, for the reader to count rows."""
    client, batch, post = editor
    one = {frozenset({(COLOUR, "白色"), (SIZE, "M")}): ("19.90", "5", "")}
    typed = {**post, "price": "", **grid({COLOUR: ["白色"], SIZE: ["M"]}, one), **typed}
    answer = client.post(reverse("catalog:item_create", args=[batch.pk]), typed)
    assert answer.status_code == 200 and batch.items.count() == 0
    html = answer.content.decode()
    row = html[html.index(f'name="{row_of}"') :].split("</tr>")[0]
    assert problem in row, row
