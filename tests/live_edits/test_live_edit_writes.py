"""Tier prices and titles by product.increment.editInfo, the full product.edit when 1688
declines it to the app, the choice on the shop page, and the sandbox taking only what the
record says editInfo takes — over real HTTP against the sandbox, with a real RQ worker."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from catalog.live_edits.writes import EDIT_API, INCREMENT_API, edit_api_for, retitle_offer
from catalog.models import Product, Shop
from catalog.models.live_edits import LiveEdit
from catalog.shops.clients import make_client
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused
from open1688 import BusinessError
from tests.factories import UserFactory
from tests.live_edits.test_live_edits import apply_and_work, offer_with, remote, resync

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def operator(db):
    user = UserFactory(username="yunying")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["change_live_offer", "view_liveedit"])
    )
    return user


@pytest.fixture
def catalog(sandbox, connected_shop):
    sandbox.control("seed", {"member_id": connected_shop.member_id, "count": 30, "seed": 11})
    resync(connected_shop)
    return connected_shop


def decline(sandbox, settings, *apis):
    sandbox.control("acl", {"app_key": settings.OPEN1688_APP_KEY, "declined": list(apis)})


def raise_tiers(operator, product) -> LiveEdit:
    from catalog.live_edits.planning import plan_live_edit

    operation = plan_live_edit(user=operator, product_ids=[product.pk], kind="price", add="2")
    return apply_and_work(operator, operation)


def test_a_tier_price_edit_goes_by_edit_info_and_the_next_sync_reads_it_back(
    sandbox, catalog, operator
):
    product = offer_with(catalog, quote_types=(0, 2))
    before = remote(catalog, product.offer_id)
    sandbox.reset_stats()

    operation = raise_tiers(operator, product)

    assert operation.status == LiveEdit.Status.DONE, list(operation.lines.values("reason"))
    calls = sandbox.calls()
    assert calls.get(INCREMENT_API) == 1 and EDIT_API not in calls, calls
    after = remote(catalog, product.offer_id)
    assert [t.price for t in after.price_ranges] == [t.price + 2 for t in before.price_ranges]
    assert after.attributes == before.attributes and after.images == before.images
    assert after.skus == before.skus  # stock and SKUs untouched
    Product.objects.filter(pk=product.pk).update(price_ranges=[])  # forget: the sync must read
    resync(catalog)
    product.refresh_from_db()
    assert [Decimal(str(t["price"])) for t in product.price_ranges] == [
        t.price for t in after.price_ranges
    ]


def test_a_title_edit_goes_by_edit_info_and_the_next_sync_reads_it_back(sandbox, catalog, operator):
    product = offer_with(catalog, quote_types=(0, 1, 2))
    before = remote(catalog, product.offer_id)
    sandbox.reset_stats()

    done = retitle_offer(user=operator, product=product, title="  新款 纯棉T恤  女夏 ")

    assert (done.before, done.after, done.api) == (
        before.subject,
        "新款 纯棉T恤 女夏",
        INCREMENT_API,
    )
    assert sandbox.calls().get(INCREMENT_API) == 1
    after = remote(catalog, product.offer_id)
    assert after.subject == "新款 纯棉T恤 女夏"
    assert after.price_ranges == before.price_ranges and after.skus == before.skus
    Product.objects.filter(pk=product.pk).update(subject="stale")
    resync(catalog)
    product.refresh_from_db()
    assert product.subject == "新款 纯棉T恤 女夏"


def test_a_title_changed_on_1688_since_the_sync_is_a_conflict_not_overwritten(catalog, operator):
    product = offer_with(catalog, quote_types=(0, 1, 2))
    Product.objects.filter(pk=product.pk).update(subject="an older title")
    product.refresh_from_db()
    with pytest.raises(Refused) as refused:
        retitle_offer(user=operator, product=product, title="新标题")
    assert refused.value.code == RefusalCode.TITLE_CONFLICT
    assert remote(catalog, product.offer_id).subject != "新标题"


def test_the_product_page_changes_the_title_and_says_what_happened(sandbox, catalog, client):
    operator = UserFactory(username="ops", roles=["operator"])
    product = offer_with(catalog, quote_types=(0, 1, 2))
    old = product.subject
    page = reverse("catalog:product_detail", args=[product.pk])
    url = reverse("catalog:product_retitle", args=[product.pk])
    viewer = UserFactory(username="looker", roles=["viewer"])
    client.force_login(viewer)
    assert 'id="retitle-form"' not in client.get(page).content.decode()
    assert client.post(url, {"title": "看客改的标题"}).status_code == 403
    client.force_login(operator)
    assert 'id="retitle-form"' in client.get(page).content.decode()

    answer = client.post(
        url, {"title": "  夏季 新款纯棉T恤 "}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    html = answer.content.decode()
    assert f"Title changed on 1688: {old} → 夏季 新款纯棉T恤." in html
    assert remote(catalog, product.offer_id).subject == "夏季 新款纯棉T恤"
    product.refresh_from_db()
    assert product.subject == "夏季 新款纯棉T恤"

    # The mirror's title is not 1688's (changed there since the sync): refused in words, and
    # 1688 keeps its title.
    Product.objects.filter(pk=product.pk).update(subject="同步前的旧标题")
    answer = client.post(url, {"title": "我的标题"}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "Not overwritten." in answer.content.decode()
    assert remote(catalog, product.offer_id).subject == "夏季 新款纯棉T恤"
    answer = client.post(url, {"title": ""}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 200 and "required" in answer.content.decode()


def test_with_edit_info_declined_the_full_edit_writes_and_the_shop_page_says_why(
    sandbox, catalog, operator, staff_client, settings
):
    product = offer_with(catalog, quote_types=(0, 2))
    before = remote(catalog, product.offer_id)
    decline(sandbox, settings, INCREMENT_API)
    sandbox.reset_stats()

    operation = raise_tiers(operator, product)

    assert operation.status == LiveEdit.Status.DONE, list(operation.lines.values("reason"))
    calls = sandbox.calls()
    assert calls.get(INCREMENT_API) == 1 and calls.get(EDIT_API) == 1, calls
    after = remote(catalog, product.offer_id)
    assert [t.price for t in after.price_ranges] == [t.price + 2 for t in before.price_ranges]
    # The full edit was built from the fresh read: nothing else on the offer was lost.
    assert (after.subject, after.attributes, after.images) == (
        before.subject,
        before.attributes,
        before.images,
    )
    assert [(s.sku_id, s.spec_id, s.amount_on_sale) for s in after.skus] == [
        (s.sku_id, s.spec_id, s.amount_on_sale) for s in before.skus
    ]
    catalog.refresh_from_db()
    assert edit_api_for(catalog).api == EDIT_API
    page = staff_client.get(
        reverse("catalog:shop_detail", args=[catalog.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    text = page.content.decode()
    assert page.status_code == 200
    assert 'data-way="whole"' in text and "refused this app its incremental edit" in text
    assert EDIT_API not in text and "gw.APIACLDecline" not in text  # operator words only
    superuser = UserFactory(username="root", is_superuser=True, is_staff=True)
    staff_client.force_login(superuser)
    text = staff_client.get(
        reverse("catalog:shop_detail", args=[catalog.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert f'<code class="edit-api">{EDIT_API}</code>' in text  # behind "Details"
    assert "gw.APIACLDecline" in text

    # From now on the shop goes straight to the full edit: editInfo is not asked again.
    sandbox.reset_stats()
    done = retitle_offer(user=operator, product=Product.objects.get(pk=product.pk), title="新标题")
    assert done.api == EDIT_API
    assert INCREMENT_API not in sandbox.calls()
    assert remote(catalog, product.offer_id).price_ranges == after.price_ranges

    # A day later it is tried again; granted since, the note is cleared.
    decline(sandbox, settings)
    entries = [
        {**e, "at": (timezone.now() - timedelta(days=2)).isoformat()} for e in catalog.declined_apis
    ]
    Shop.objects.filter(pk=catalog.pk).update(declined_apis=entries)
    catalog.refresh_from_db()
    assert edit_api_for(catalog).api == INCREMENT_API
    product.refresh_from_db()
    done = retitle_offer(user=operator, product=product, title="再改一次标题")
    assert done.api == INCREMENT_API
    catalog.refresh_from_db()
    assert edit_api_for(catalog) == edit_api_for(catalog).__class__(INCREMENT_API)
    page = staff_client.get(
        reverse("catalog:shop_detail", args=[catalog.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert f'<code class="edit-api">{INCREMENT_API}</code>' in page.content.decode()
    assert 'data-way="incremental"' in page.content.decode()


def test_the_sandbox_refuses_fields_edit_info_does_not_take(catalog):
    product = offer_with(catalog, quote_types=(0, 2))
    detail_before = remote(catalog, product.offer_id)
    token = catalog.access_token

    def edit(form, **kwargs):
        with make_client() as client:
            client.increment_edit_info(
                token,
                offer_id=product.offer_id,
                category_id=kwargs.pop("category_id", detail_before.category_id),
                form_values=form,
                **kwargs,
            )

    for field, value in (
        ("catProp", {"p-1398": "X1"}),
        ("cbuSendAddress", {"value": 1}),
        ("freight", {"freightType": "T", "freightId": 1}),
        ("officialLogistics", {"weight": 1}),
    ):
        with pytest.raises(BusinessError) as refused:
            edit({"title": "不会生效", field: value})
        assert refused.value.code == "FIELD_NOT_EDITABLE" and field in refused.value.message
    with pytest.raises(BusinessError) as refused:
        edit({"title": "类目不符"}, category_id=(detail_before.category_id or 0) + 1)
    assert refused.value.code == "CATEGORY_MISMATCH"
    with pytest.raises(BusinessError) as refused:
        edit({"title": "x"}, scene="cbu_offer")
    assert refused.value.code == "SCENE_INVALID"
    assert remote(catalog, product.offer_id) == detail_before  # nothing was written

    # The practitioner's body: priceRange beside a skuTable with empty sku_props.
    first = detail_before.price_ranges[0]
    edit(
        {
            "priceRange": [{"priceRange_beginAmount": first.start_quantity, "priceRange_price": 9}],
            "skuTable": [{"sku_props": [], "sku_amountOnSale": 9, "sku_status": 1}],
        }
    )
    after = remote(catalog, product.offer_id)
    assert [(t.start_quantity, t.price) for t in after.price_ranges] == [(first.start_quantity, 9)]
    assert after.skus == detail_before.skus  # the skuTable is not applied


def test_an_sdk_shaped_edit_info_call_is_counted_and_takes_a_queued_fault(sandbox, catalog):
    product = offer_with(catalog, quote_types=(0, 1, 2))
    detail = remote(catalog, product.offer_id)
    sandbox.reset_stats()
    sandbox.fault(INCREMENT_API, "business_error", times=1)
    with make_client() as client:
        with pytest.raises(BusinessError) as refused:
            client.increment_edit_info(
                catalog.access_token,
                offer_id=product.offer_id,
                category_id=detail.category_id,
                form_values={"title": "故障之后"},
            )
        assert refused.value.code == "SANDBOX_REJECTED"
        client.increment_edit_info(
            catalog.access_token,
            offer_id=product.offer_id,
            category_id=detail.category_id,
            form_values={"title": "故障之后"},
        )
    assert sandbox.calls().get(INCREMENT_API) == 2
    assert remote(catalog, product.offer_id).subject == "故障之后"
