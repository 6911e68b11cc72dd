"""The follow pages, for each role, against the sandbox over HTTP with real Redis and real
workers: link coverage and linking by paste, the SKU mapping editor with its suggestions, the
rule editor (managers save; operators are refused) with the dry run per offer, the margin
report flagging a negative margin, the approval inbox (operators approve or reject; a viewer
sees it and is refused), the history with the live-edit undo, and the shop page saying why
following waits."""

import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.urls import reverse

from catalog.follow import rules, selectors
from catalog.models import FollowRule, Product, SkuLink, SourceLink
from catalog.models.live_edits import LiveEdit
from tests.conftest import run_worker
from tests.follow.conftest import (
    CENT,
    changed_by_hand_then_followed,
    prices_factor,
    supplier_moves,
)

pytestmark = pytest.mark.django_db(transaction=True)

# The fixtures `world` (an own offer priced per SKU, linked and mapped to a supplier offer, the
# shop's rule a 20 % margin) and `people` (one user per role) are tests/follow/conftest.py's.

ROLES = ("operator", "manager", "viewer")


def login(client, world, role):
    client.force_login(world[role])
    return client


def html_of(answer) -> str:
    return answer.content.decode()


def refused_with_the_403_page(answer) -> bool:
    return answer.status_code == 403 and 'data-code="permission_denied"' in html_of(answer)


def unlinked_offer(world) -> Product:
    return (
        Product.objects.filter(shop=world["shop"], status="published", source_link__isnull=True)
        .exclude(images=[])
        .order_by("pk")
        .first()
    )


def test_every_follow_page_opens_for_each_role(client, sandbox, world):
    supplier_moves(sandbox, world, sku_prices=prices_factor(world, "0.10"))  # waits: a 90 % drop
    run_worker()
    waiting = LiveEdit.objects.get(origin=LiveEdit.Origin.FOLLOW)
    assert waiting.status == LiveEdit.Status.AWAITING
    own, shop = world["own"], world["shop"]
    pages = [
        reverse("catalog:follow_coverage"),
        reverse("catalog:follow_offer", args=[own.pk]),
        reverse("catalog:follow_offer", args=[unlinked_offer(world).pk]),
        reverse("catalog:follow_rule", args=[shop.pk]),
        reverse("catalog:follow_offer_rule", args=[own.pk]),
        reverse("catalog:follow_margins"),
        reverse("catalog:follow_inbox"),
        reverse("catalog:follow_history"),
        reverse("catalog:shop_detail", args=[shop.pk]),
    ]
    for role in ROLES:
        login(client, world, role)
        for url in pages:
            for language in ("en", "zh-hans"):
                answer = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
                assert answer.status_code == 200, (role, url, language)
        inbox = html_of(client.get(reverse("catalog:follow_inbox"), HTTP_ACCEPT_LANGUAGE="en"))
        assert f'data-change="{waiting.pk}"' in inbox
        assert ('class="approve"' in inbox) == (role != "viewer")  # no button to be refused by
        rule_page = html_of(client.get(reverse("catalog:follow_rule", args=[shop.pk])))
        assert ('id="rule-save"' in rule_page) == (role == "manager")
        assert 'id="rule-dry-run"' in rule_page  # everyone may try values
        home = html_of(client.get(reverse("home")))
        assert 'id="nav-follow"' in home


def test_coverage_lists_the_unlinked_and_an_operator_links_one_by_pasting(client, sandbox, world):
    login(client, world, "operator")
    page = client.get(reverse("catalog:follow_coverage"), HTTP_ACCEPT_LANGUAGE="en")
    html = html_of(page)
    listed = Product.objects.filter(shop=world["shop"], delisted_at__isnull=True).count()
    assert page.context["coverage"].linked == 1 and page.context["coverage"].offers == listed
    assert f"1 of {listed} own offers" in html
    other = unlinked_offer(world)
    assert f'data-product="{other.pk}"' in html
    assert f'data-product="{world["own"].pk}"' not in html  # linked: not in the list
    assert "/catalog/sourcing/image/?image_url=" in html  # the image search by its picture

    supplier = world["supplier"].offer_id
    answer = client.post(
        reverse("catalog:follow_link", args=[other.pk]),
        {"ref": f"https://detail.1688.com/offer/{supplier}.html", "back": "coverage"},
    )
    assert answer.status_code == 302
    assert answer["Location"] == reverse("catalog:follow_offer", args=[other.pk])
    assert SourceLink.objects.get(product=other).supplier_offer_id == supplier

    bad = client.post(
        reverse("catalog:follow_link", args=[unlinked_offer(world).pk]),
        {"ref": "no offer here", "back": "coverage"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "Paste one supplier offer" in html_of(bad)
    assert SourceLink.objects.count() == 2

    viewer = login(client, world, "viewer").post(
        reverse("catalog:follow_link", args=[unlinked_offer(world).pk]), {"ref": str(supplier)}
    )
    assert refused_with_the_403_page(viewer) and SourceLink.objects.count() == 2


def test_the_mapping_editor_preselects_suggestions_and_saves_the_mapping(client, world):
    link, pairs = world["link"], world["pairs"]
    SkuLink.objects.filter(link=link).delete()  # as if nothing were mapped yet
    login(client, world, "operator")
    url = reverse("catalog:follow_offer", args=[world["own"].pk])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    form = page.context["form"]
    suggested = selectors.sku_suggestions(world["own"], selectors.watched(link.supplier_offer_id))
    for own_sku, _supplier in pairs:
        field = form[f"sku_{own_sku.pk}"]
        want = suggested.get(own_sku.pk)
        assert field.value() == (str(want.sku_id) if want else "")
    assert html_of(page).count('class="badge validated"') == len(
        [own for own, _s in pairs if own.pk in suggested]
    )

    # Map each own SKU to its pair, the last one to nothing.
    data = {f"sku_{own.pk}": str(supplier.sku_id) for own, supplier in pairs}
    data[f"sku_{pairs[-1][0].pk}"] = ""
    answer = client.post(url, data, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "SKU mapping saved" in html_of(answer)
    mapped = dict(SkuLink.objects.filter(link=link).values_list("sku_id", "supplier_sku_id"))
    assert mapped == {own.pk: supplier.sku_id for own, supplier in pairs[:-1]}

    # A supplier SKU of another offer is refused with a message; nothing changes.
    answer = client.post(url, {f"sku_{pairs[0][0].pk}": "999999999"}, follow=True)
    assert answer.status_code == 200
    assert dict(SkuLink.objects.filter(link=link).values_list("sku_id", "supplier_sku_id")) == (
        mapped
    )

    viewer = login(client, world, "viewer").post(url, data)
    assert refused_with_the_403_page(viewer)


def test_managers_edit_the_rule_and_operators_are_refused(client, world):
    url = reverse("catalog:follow_rule", args=[world["shop"].pk])
    rule = selectors.shop_rule(world["shop"])
    data = {
        "active": "on",
        "follow_price": "on",
        "follow_stock": "on",
        "margin_percent": "35",
        "fixed_add": "1",
        "round_to": "1",
        "floor": "",
        "ceiling": "",
        "tiers": "follow",
        "stock_buffer": "2",
        "stock_cap": "",
        "sold_out": "delist",
        "gone": "delist",
        "relist": "on",
        "approval_percent": "30",
        "min_margin_percent": "5",
        "max_changes_per_day": "10",
    }
    operator = login(client, world, "operator").post(url, data)
    assert refused_with_the_403_page(operator)
    rule.refresh_from_db()
    assert rule.margin_percent == Decimal("20")

    login(client, world, "manager")
    wrong = client.post(url, {**data, "floor": "50", "ceiling": "10"}, HTTP_ACCEPT_LANGUAGE="en")
    assert wrong.status_code == 200 and "below the lowest price" in html_of(wrong)
    rule.refresh_from_db()
    assert rule.margin_percent == Decimal("20")

    saved = client.post(url, data)
    assert saved.status_code == 302
    rule.refresh_from_db()
    assert (rule.margin_percent, rule.round_to, rule.sold_out, rule.stock_buffer) == (
        Decimal("35"),
        "1",
        "delist",
        2,
    )
    assert rule.updated_by == world["manager"]

    # An offer's own rule starts from the shop's and is removed again.
    offer_url = reverse("catalog:follow_offer_rule", args=[world["own"].pk])
    client.post(offer_url, {**data, "margin_percent": "50"})
    assert FollowRule.objects.get(product=world["own"]).margin_percent == Decimal("50")
    client.post(reverse("catalog:follow_offer_rule_delete", args=[world["own"].pk]))
    assert not FollowRule.objects.filter(product=world["own"]).exists()


def test_the_dry_run_shows_per_offer_what_would_change_without_calling_1688(client, sandbox, world):
    supplier_moves(sandbox, world, sku_prices=prices_factor(world, "1.10"))  # not followed yet
    sandbox.reset_stats()
    login(client, world, "operator")  # reads and tries; saves nothing
    rule = selectors.shop_rule(world["shop"])
    data = {
        "active": "on",
        "follow_price": "on",
        "follow_stock": "on",
        "margin_percent": "50",
        "fixed_add": "0",
        "round_to": "",
        "tiers": "follow",
        "stock_buffer": "0",
        "sold_out": "zero",
        "gone": "delist",
        "relist": "on",
        "approval_percent": "100",
        "min_margin_percent": "0",
        "max_changes_per_day": "10",
    }
    answer = client.post(
        reverse("catalog:follow_dry_run", args=[world["shop"].pk]),
        data,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 200
    html = html_of(answer)
    rows = re.findall(r'<tr data-product="(\d+)">', html)
    assert rows == [str(world["own"].pk)]
    assert "1 of 1 linked offers would change now." in html
    for own, supplier in world["pairs"]:
        own.refresh_from_db()
        cost = (supplier.price * Decimal("1.10")).quantize(CENT)
        after = (cost * Decimal("1.5")).quantize(CENT, rounding=ROUND_HALF_UP)  # as the bulk edit
        assert f"¥{own.price} → <b>¥{after}</b>" in html, own
    assert sum(sandbox.calls().values()) == 0  # no 1688 call
    rule.refresh_from_db()
    assert rule.margin_percent == Decimal("20")  # nothing saved
    assert not LiveEdit.objects.filter(origin=LiveEdit.Origin.FOLLOW).exists()

    bad = client.post(
        reverse("catalog:follow_dry_run", args=[world["shop"].pk]),
        {**data, "margin_percent": "abc"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert bad.status_code == 200 and 'id="dry-run"' not in html_of(bad)
    assert "Enter a number." in html_of(bad)


def test_the_margin_report_flags_a_negative_margin(client, sandbox, world):
    rules.pause(user=world["manager"], shop=world["shop"])  # the supplier's rise is not followed
    supplier_moves(sandbox, world, sku_prices=prices_factor(world, "3"))
    run_worker()
    login(client, world, "viewer")
    answer = client.get(reverse("catalog:follow_margins"), {"negative": "1"})
    html = html_of(answer)
    rows = answer.context["rows"]
    assert rows and all(row.negative for row in rows)
    assert html.count('class="negative-margin"') == len(rows) == answer.context["negative"]
    assert {str(own) for own, _s in world["pairs"]} <= {row.label for row in rows}
    own, supplier = world["pairs"][0]
    own.refresh_from_db()
    cost = (supplier.price * 3).quantize(CENT)
    assert f"¥{cost}" in html and f"¥{own.price}" in html


def test_operators_approve_and_reject_and_a_viewer_is_refused(client, sandbox, world):
    supplier_moves(sandbox, world, sku_prices=prices_factor(world, "0.10"))
    run_worker()
    first = LiveEdit.objects.get(origin=LiveEdit.Origin.FOLLOW)
    assert first.status == LiveEdit.Status.AWAITING

    viewer = login(client, world, "viewer").post(reverse("catalog:follow_approve", args=[first.pk]))
    assert refused_with_the_403_page(viewer)
    first.refresh_from_db()
    assert first.status == LiveEdit.Status.AWAITING

    login(client, world, "operator")
    client.post(reverse("catalog:follow_reject", args=[first.pk]))
    first.refresh_from_db()
    assert first.status == LiveEdit.Status.DISCARDED and first.decided_by == world["operator"]
    again = client.post(
        reverse("catalog:follow_approve", args=[first.pk]), follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "no longer waiting" in html_of(again)

    supplier_moves(sandbox, world, sku_prices=prices_factor(world, "0.11"))
    run_worker()
    second = LiveEdit.objects.get(status=LiveEdit.Status.AWAITING)
    answer = client.post(reverse("catalog:follow_approve", args=[second.pk]))
    assert answer.status_code == 302
    run_worker()
    second.refresh_from_db()
    assert second.status == LiveEdit.Status.DONE and second.decided_by == world["operator"]


def test_the_history_undoes_a_rules_change_through_the_live_edit_undo(client, sandbox, world):
    supplier_moves(sandbox, world, sku_prices=prices_factor(world, "1.10"))
    run_worker()
    change = LiveEdit.objects.get(origin=LiveEdit.Origin.FOLLOW)
    assert change.status == LiveEdit.Status.DONE
    login(client, world, "viewer")
    html = html_of(client.get(reverse("catalog:follow_history"), HTTP_ACCEPT_LANGUAGE="en"))
    assert f'data-change="{change.pk}"' in html and "follow-undo" not in html
    assert str(world["supplier"].offer_id) in html  # the reason names the supplier offer

    login(client, world, "operator")
    html = html_of(client.get(reverse("catalog:follow_history")))
    assert 'class="secondary follow-undo"' in html
    answer = client.post(reverse("catalog:live_undo", args=[change.pk]))
    undo = LiveEdit.objects.get(undo_of=change)
    assert answer["Location"] == reverse("catalog:live_detail", args=[undo.pk])
    html = html_of(client.get(reverse("catalog:follow_history")))
    assert f"#{undo.pk}</a>" in html and "follow-undo" not in html  # no second undo


def test_the_shop_page_says_why_following_waits(client, world):
    url = reverse("catalog:shop_detail", args=[world["shop"].pk])
    login(client, world, "viewer")
    html = html_of(client.get(url, HTTP_ACCEPT_LANGUAGE="en"))
    assert 'id="shop-follow"' in html and "follow-blocked-reason" not in html
    rules.pause(user=world["manager"], shop=world["shop"])
    html = html_of(client.get(url, HTTP_ACCEPT_LANGUAGE="en"))
    assert "Following is paused for this shop." in html
    html = html_of(client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert "Following is paused" not in html


def test_the_rule_form_offers_every_rule_setting_but_the_pause_switch():
    from catalog.follow.forms import RuleForm

    assert sorted(RuleForm.Meta.fields) == sorted(set(rules.FIELDS) - {"paused"})


def test_the_history_flags_a_price_changed_on_1688_by_hand(client, sandbox, world):
    _own, change = changed_by_hand_then_followed(sandbox, world)
    login(client, world, "viewer")
    html = html_of(client.get(reverse("catalog:follow_history"), HTTP_ACCEPT_LANGUAGE="en"))
    row = re.search(rf'<tr data-change="{change.pk}">.*?</tr>', html, re.S).group(0)
    assert "follow-conflict" in row and "1 conflict<" in row
