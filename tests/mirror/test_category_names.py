"""Categories by name outside the item form: the product page names the category (the name
1688 sent with the offer, else the shop's cached category tree, else the id), and the bulk edit
of a batch takes a category by its path or name (offered from the tree) as well as by its id."""

import pytest
from django.urls import reverse

from catalog.common.category_names import category_from_text, category_label
from catalog.models import CategoryNode, UploadItem
from tests.factories import ProductFactory, UploadItemFactory, UserFactory, cache_schema

pytestmark = pytest.mark.django_db

DRESS = 1031918  # 连衣裙
TEE = 1031910


def tree(shop):
    CategoryNode.objects.create(
        shop=shop, category_id=10166, name="上衣", parent_id=0, path="女装 > 上衣"
    )
    CategoryNode.objects.create(
        shop=shop, category_id=DRESS, name="连衣裙", parent_id=10166, is_leaf=True,
        path="女装 > 连衣裙",
    )  # fmt: skip


@pytest.fixture
def viewer(client):
    client.force_login(UserFactory(username="looker", roles=["viewer"]))
    return client


def test_the_product_page_names_the_category_from_the_synced_answer(viewer):
    product = ProductFactory(category_id=TEE, raw={"productInfo": {"categoryName": "女式T恤"}})
    page = viewer.get(reverse("catalog:product_detail", args=[product.pk])).content.decode()
    assert "女式T恤" in page and f"({TEE})" in page
    viewer.cookies["django_language"] = "en"
    page = viewer.get(reverse("catalog:product_detail", args=[product.pk])).content.decode()
    assert "<dt>Category</dt>" in page and "Category id" not in page


def test_the_product_page_names_the_category_from_the_tree_else_shows_the_id(viewer):
    product = ProductFactory(category_id=DRESS, raw={})
    url = reverse("catalog:product_detail", args=[product.pk])
    assert f"<dd>{DRESS}</dd>" in viewer.get(url).content.decode()  # no name known: the id
    tree(product.shop)
    assert "女装 &gt; 连衣裙" in viewer.get(url).content.decode()


def test_names_and_ids_resolve_within_the_shops_tree():
    shop = ProductFactory().shop
    tree(shop)
    assert category_from_text("女装 > 连衣裙", shop_ids=[shop.pk]) == DRESS
    assert category_from_text("连衣裙", shop_ids=[shop.pk]) == DRESS
    assert category_from_text(" 1031910 ", shop_ids=[]) == TEE
    assert category_from_text("连衣裙", shop_ids=[shop.pk + 1]) is None  # another shop's tree
    assert category_from_text("没有", shop_ids=[shop.pk]) is None
    assert category_label(shop_id=shop.pk, category_id=DRESS) == "女装 > 连衣裙"
    assert category_label(shop_id=shop.pk, category_id=TEE) == str(TEE)
    assert category_label(shop_id=shop.pk, category_id=None) == ""


def test_bulk_edit_takes_a_category_by_name_and_offers_the_trees_leaves(staff_client):
    item = UploadItemFactory(category_id=TEE)
    batch = item.batch
    tree(batch.shop)
    cache_schema(batch.shop_id, DRESS)
    page = staff_client.get(reverse("catalog:batch_detail", args=[batch.pk])).content.decode()
    assert '<datalist id="bulk-category-names">' in page
    assert '<option value="女装 &gt; 连衣裙">' in page and 'value="女装 &gt; 上衣"' not in page
    url = reverse("catalog:batch_bulk_edit", args=[batch.pk])
    staff_client.post(url, {"items": [item.pk], "category_id": "女装 > 连衣裙"})
    assert UploadItem.objects.get(pk=item.pk).category_id == DRESS


def test_bulk_edit_refuses_an_unknown_category_name_in_words(staff_client):
    item = UploadItemFactory(category_id=TEE)
    url = reverse("catalog:batch_bulk_edit", args=[item.batch.pk])
    staff_client.cookies["django_language"] = "en"
    page = staff_client.post(url, {"items": [item.pk], "category_id": "没有的类目"}, follow=True)
    assert "No category of this name" in page.content.decode()
    assert UploadItem.objects.get(pk=item.pk).category_id == TEE
