"""The sourcing pages search with the shop staff pick (the first active shop by default), and
offer the category filter by name from the shop's cached category tree. Over HTTP against the
sandbox."""

import pytest
from django.urls import reverse

from catalog.models import CategoryNode
from tests.factories import ShopFactory, UserFactory

SUPPLIER = "b2b-2209800001"


@pytest.fixture
def keyword(sandbox):
    """A word of a seeded supplier offer's title: a keyword search finds something."""
    sandbox.new_seller(SUPPLIER, "温州鞋厂")
    sandbox.control("seed", {"member_id": SUPPLIER, "count": 8, "seed": 3})
    return sandbox.get("offers", member_id=SUPPLIER)["offers"][0]["subject"][:2]


@pytest.fixture
def operator_client(client, db):
    client.force_login(UserFactory(username="op", roles=["operator"]))
    return client


def test_search_uses_the_chosen_shop_and_the_first_active_one_by_default(
    operator_client, connected_shop, keyword
):
    stale = ShopFactory(name="过期授权店")  # a token the sandbox never issued
    url = reverse("catalog:sourcing_search")
    page = operator_client.get(url)
    choices = [shop.pk for shop in page.context["form"].fields["shop"].queryset]
    assert choices == [connected_shop.pk, stale.pk]
    html = page.content.decode()  # no empty choice: the browser shows the first one chosen
    assert html.index(f'<option value="{connected_shop.pk}"') < html.index(
        f'<option value="{stale.pk}"'
    )

    found = operator_client.get(url, {"keyword": keyword})  # no shop given: the first one
    assert found.context["results"] is not None and found.context["results"].items

    chosen = operator_client.get(url, {"keyword": keyword, "shop": stale.pk}, follow=True)
    assert chosen.status_code == 200 and chosen.context["results"] is None
    shown = [str(m) for m in chosen.context["messages"]]
    assert any("过期授权店" in text for text in shown), shown  # refused with that shop's name

    again = operator_client.get(url, {"keyword": keyword, "shop": connected_shop.pk})
    assert again.context["results"].items


@pytest.mark.parametrize("shop", ["999999", "abc", "-1"])
def test_an_unknown_shop_is_a_form_error_not_a_500(operator_client, connected_shop, shop):
    for name in ("catalog:sourcing_search", "catalog:sourcing_image"):
        page = operator_client.get(
            reverse(name), {"keyword": "鞋", "image_url": "https://x.test/a.jpg", "shop": shop}
        )
        assert page.status_code == 200 and page.context["form"].errors["shop"]
        assert page.context["results"] is None


def test_image_search_by_address_with_a_chosen_shop(operator_client, sandbox, connected_shop):
    stale = ShopFactory(name="过期授权店")
    url = reverse("catalog:sourcing_image")
    page = operator_client.get(
        url, {"image_url": "https://x.test/a.jpg", "shop": stale.pk}, follow=True
    )
    shown = [str(m) for m in page.context["messages"]]
    assert any("过期授权店" in text for text in shown), shown


def test_the_category_filter_is_offered_by_name_from_the_cached_tree(
    operator_client, connected_shop, keyword
):
    url = reverse("catalog:sourcing_search")
    page = operator_client.get(url).content.decode()
    assert 'list="category-names"' in page and "<datalist" not in page  # nothing cached: ids
    CategoryNode.objects.create(
        shop=connected_shop, category_id=1031910, name="女式T恤", parent_id=10166, is_leaf=True,
        path="女装 > 上衣 > 女式T恤",
    )  # fmt: skip
    CategoryNode.objects.create(
        shop=connected_shop, category_id=10166, name="上衣", parent_id=0, path="女装 > 上衣"
    )
    page = operator_client.get(url, {"keyword": "T恤", "category": "1031910"})
    html = page.content.decode()
    assert '<datalist id="category-names">' in html
    assert '<option value="女装 &gt; 上衣 &gt; 女式T恤">' in html  # picked by its name
    assert 'value="女装 &gt; 上衣"' not in html  # leaves only
    assert page.context["category_name"] == "女装 > 上衣 > 女式T恤"
    # Typed or picked by its path or name, it searches by that category's id.
    for typed in ["女装 > 上衣 > 女式T恤", "女式T恤"]:
        page = operator_client.get(url, {"keyword": "T恤", "category": typed})
        assert page.context["form"].cleaned_data["category"] == 1031910
        assert page.context["category_name"] == "女装 > 上衣 > 女式T恤"
    page = operator_client.get(url, {"keyword": "T恤", "category": "没有的类目"})
    assert page.context["form"].errors["category"] and page.context["results"] is None
    # Another shop's cache is not offered for this shop.
    other = ShopFactory(name="别的店")
    page = operator_client.get(url, {"keyword": "T恤", "shop": other.pk}, follow=True)
    assert "女式T恤" not in page.content.decode()
