"""Pages show only the actions the user's role may take, and the refusal page names the roles
that may. zh_Hans and English."""

import pytest
from django.urls import reverse

from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def page(client, url: str, language: str = "zh-hans", **params):
    client.cookies["django_language"] = language
    return client.get(url, params, HTTP_ACCEPT_LANGUAGE=language)


def test_a_viewer_sees_no_sync_copy_or_live_edit_on_the_product_list(client):
    ProductFactory()
    client.force_login(UserFactory(roles=["viewer"]))
    html = page(client, reverse("catalog:product_list")).content.decode()
    assert 'value="sync"' not in html and 'value="copy"' not in html
    assert "live-edit-selected" not in html


def test_an_operator_may_copy_but_not_sync(client):
    ProductFactory()
    client.force_login(UserFactory(roles=["operator"]))
    html = page(client, reverse("catalog:product_list")).content.decode()
    assert 'value="copy"' in html and "live-edit-selected" in html
    assert 'value="sync"' not in html
    shops = page(client, reverse("catalog:shop_list")).content.decode()
    assert reverse("catalog:shop_sync", args=[ProductFactory().shop_id]) not in shops


def test_a_manager_sees_every_action(client):
    ProductFactory()
    client.force_login(UserFactory(roles=["manager"]))
    html = page(client, reverse("catalog:product_list")).content.decode()
    assert 'value="sync"' in html and 'value="copy"' in html


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-hans", "可以做这件事的角色：运营、主管。"),
        ("en", "Who may do this: Operator、Manager. Ask a manager to give you that role."),
    ],
)
def test_a_viewer_is_refused_the_live_edit_form_at_once_with_the_roles_that_may(
    client, language, words
):
    product = ProductFactory()
    client.force_login(UserFactory(roles=["viewer"]))
    answer = page(client, reverse("catalog:live_new"), language, offers=product.pk)
    html = answer.content.decode()
    assert answer.status_code == 403
    assert 'id="live-form"' not in html
    assert words in html


def test_a_sync_refused_to_an_operator_names_the_manager(client):
    product = ProductFactory()
    client.force_login(UserFactory(roles=["operator"]))
    client.cookies["django_language"] = "zh-hans"
    answer = client.post(reverse("catalog:shop_sync", args=[product.shop_id]))
    assert answer.status_code == 403
    assert "可以做这件事的角色：主管。" in answer.content.decode()


def test_a_viewer_sees_no_watch_button_in_search_results(client, connected_shop, sandbox):
    seller = "b2b-2209000077"
    sandbox.new_seller(seller, "义乌源头工厂")
    sandbox.control("seed", {"member_id": seller, "count": 40, "seed": 21})
    client.force_login(UserFactory(roles=["viewer"]))
    html = page(client, reverse("catalog:sourcing_search"), keyword="裙").content.decode()
    assert "watch-form" not in html
    client.force_login(UserFactory(roles=["operator"], username="op"))
    answer = page(client, reverse("catalog:sourcing_search"), keyword="裙")
    assert answer.context["results"].items and "watch-form" in answer.content.decode()
