"""Changing live offers (price, stock, delist, relist) against the sandbox gateway over real
HTTP, with a real RQ worker on Redis: preview, apply, conflicts, refusals, change log, undo."""

from decimal import Decimal

import pytest
import requests
from django.contrib.auth.models import Permission
from django.utils import translation
from django.utils.translation import gettext as _

from catalog.live_edits.planning import plan_live_edit
from catalog.live_edits.run import run_live_edit
from catalog.live_edits.services import apply_live_edit, discard_live_edit, plan_undo
from catalog.mirror.selectors import product_list_queryset
from catalog.models import ChangeSource, PriceStockChange, Product, Sku, SyncRun
from catalog.models.live_edits import LiveEdit, LiveEditLine
from catalog.shops.clients import make_client
from erp1688.messages import render
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import PermissionRefused, Refused
from erp1688.roles import ROLES
from open1688 import BusinessError
from sync.catalog_sync import start_run, sync_shop
from tests.conftest import run_worker
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
Line = LiveEditLine.Status


class RecordingSession(requests.Session):
    """A real session that also keeps what each call posted: (API name, form fields)."""

    def __init__(self):
        super().__init__()
        self.sent: list[tuple[str, dict]] = []

    def post(self, url, data=None, **kwargs):
        self.sent.append((url.rstrip("/").split("/")[-2], dict(data or {})))
        return super().post(url, data=data, **kwargs)


@pytest.fixture
def operator(db):
    user = UserFactory(username="yunying")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["change_live_offer", "view_liveedit"])
    )
    return user


@pytest.fixture
def catalog(sandbox, connected_shop):
    """The shop with 30 sandbox offers mirrored by a first sync."""
    sandbox.control("seed", {"member_id": connected_shop.member_id, "count": 30, "seed": 11})
    resync(connected_shop)
    return connected_shop


def resync(shop) -> SyncRun:
    run = sync_shop(start_run(shop, kind=SyncRun.Kind.FULL))
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


def remote(shop, offer_id):
    with make_client() as client:
        return client.get_product(shop.access_token, offer_id)


def offer_with(shop, *, quote_types, min_skus=0, exclude=()):
    for product in Product.objects.filter(shop=shop, status="published").order_by("offer_id"):
        if product.pk in exclude or product.quote_type not in quote_types:
            continue
        skus = list(product.skus.all())
        if len(skus) >= min_skus and (min_skus == 0 or all(s.stock is not None for s in skus)):
            return product
    pytest.skip(f"the seeded catalogue has no offer of quote type {quote_types}")


def apply_and_work(user, operation) -> LiveEdit:
    apply_live_edit(user=user, operation=operation)
    run_worker("default")
    operation.refresh_from_db()
    return operation


def test_absolute_stock_on_three_skus_sends_specids_and_the_next_sync_agrees(catalog, operator):
    product = offer_with(catalog, quote_types=(0, 1, 2), min_skus=3)
    skus = list(product.skus.order_by("sku_id"))[:3]
    before = {s.sku_id: s.stock for s in skus}
    operation = plan_live_edit(
        user=operator,
        product_ids=[product.pk],
        kind="stock",
        stock_mode="set",
        stock=37,
        sku_ids=[s.pk for s in skus],
    )
    preview = list(operation.lines.order_by("remote_sku_id"))
    assert [(ln.remote_sku_id, ln.before, ln.after) for ln in preview] == [
        (s.sku_id, str(before[s.sku_id]), "37") for s in skus
    ]
    assert operation.status == LiveEdit.Status.DRAFT
    assert remote(catalog, product.offer_id).skus[0].amount_on_sale == skus[0].stock  # not sent

    apply_live_edit(user=operator, operation=operation)
    session = RecordingSession()
    with make_client(session=session) as client:
        run_live_edit(operation.pk, client=client)  # the job body, with the posts recorded

    operation.refresh_from_db()
    assert operation.status == LiveEdit.Status.DONE
    (stock_call,) = [fields for api, fields in session.sent if api == "alibaba.product.modifyStock"]
    assert stock_call["increaceModify"] == "false"  # absolute, said explicitly
    import json

    (change,) = json.loads(stock_call["productStockChange"])
    spec_ids = {s.sku_id: s.spec_id for s in remote(catalog, product.offer_id).skus}
    assert change == {
        "productId": product.offer_id,
        "skuStocks": [{"skuId": spec_ids[s.sku_id], "stockChange": 37} for s in skus],
    }
    rows = PriceStockChange.objects.filter(product=product)
    assert sorted((r.remote_sku_id, r.old_stock, r.new_stock) for r in rows) == sorted(
        (s.sku_id, Decimal(before[s.sku_id]), Decimal(37)) for s in skus
    )
    assert {(r.source, r.made_by_id, r.live_edit_id) for r in rows} == {
        (ChangeSource.ERP, operator.pk, operation.pk)
    }

    run = resync(catalog)  # the next sync finds exactly the new values, and logs nothing new
    assert {s.sku_id: s.stock for s in Sku.objects.filter(pk__in=[s.pk for s in skus])} == {
        s.sku_id: 37 for s in skus
    }
    assert {s.sku_id: s.amount_on_sale for s in remote(catalog, product.offer_id).skus} | {
        s.sku_id: 37 for s in skus
    } == {s.sku_id: s.amount_on_sale for s in remote(catalog, product.offer_id).skus}
    assert run.changes_written == 0
    assert PriceStockChange.objects.filter(product=product).count() == 3


def test_adjusting_stock_sends_a_delta(catalog, operator):
    product = offer_with(catalog, quote_types=(0, 1, 2), min_skus=1)
    sku = max(product.skus.all(), key=lambda s: s.stock)
    operation = plan_live_edit(
        user=operator,
        product_ids=[product.pk],
        kind="stock",
        stock_mode="adjust",
        stock=-2 if sku.stock >= 2 else 5,
        sku_ids=[sku.pk],
    )
    (line,) = operation.lines.all()
    apply_live_edit(user=operator, operation=operation)
    session = RecordingSession()
    with make_client(session=session) as client:
        run_live_edit(operation.pk, client=client)
    (stock_call,) = [fields for api, fields in session.sent if api == "alibaba.product.modifyStock"]
    assert stock_call["increaceModify"] == "true"
    assert f'"stockChange":{int(line.after) - int(line.before)}' in stock_call["productStockChange"]
    remote_sku = {s.sku_id: s for s in remote(catalog, product.offer_id).skus}[sku.sku_id]
    assert remote_sku.amount_on_sale == int(line.after)

    undo = apply_and_work(operator, plan_undo(user=operator, operation=operation))
    assert undo.status == LiveEdit.Status.DONE and undo.params["mode"] == "set"
    remote_sku = {s.sku_id: s for s in remote(catalog, product.offer_id).skus}[sku.sku_id]
    assert remote_sku.amount_on_sale == int(line.before)


def test_a_stock_delta_whose_answer_is_lost_is_confirmed_by_a_re_read_not_sent_twice(
    sandbox, catalog, operator
):
    product = offer_with(catalog, quote_types=(0, 1, 2), min_skus=1)
    sku = product.skus.order_by("sku_id").first()
    operation = plan_live_edit(
        user=operator,
        product_ids=[product.pk],
        kind="stock",
        stock_mode="adjust",
        stock=7,
        sku_ids=[sku.pk],
    )
    sandbox.fault("alibaba.product.modifyStock", "drop_after_apply")  # applied, answer lost
    sandbox.reset_stats()
    operation = apply_and_work(operator, operation)

    (line,) = operation.lines.all()
    assert line.status == Line.APPLIED and int(line.after) == sku.stock + 7
    assert sandbox.calls()["alibaba.product.modifyStock"] == 1  # a delta is never replayed
    remote_sku = {s.sku_id: s for s in remote(catalog, product.offer_id).skus}[sku.sku_id]
    assert remote_sku.amount_on_sale == sku.stock + 7


def test_a_change_made_on_1688_since_the_last_sync_is_a_conflict_not_overwritten(
    sandbox, catalog, operator
):
    product = offer_with(catalog, quote_types=(1,), min_skus=2)
    skus = list(product.skus.order_by("sku_id"))
    operation = plan_live_edit(
        user=operator, product_ids=[product.pk], kind="price", multiply="1.05"
    )
    # Someone changes the first SKU's price on 1688 after the sync and the preview.
    sandbox.control(
        "offers/update",
        {"product_id": product.offer_id, "sku_prices": {str(skus[0].sku_id): "66.60"}},
    )
    operation = apply_and_work(operator, operation)

    assert operation.status == LiveEdit.Status.PARTLY_DONE
    lines = {ln.remote_sku_id: ln for ln in operation.lines.all()}
    conflict = lines[skus[0].sku_id]
    assert conflict.status == Line.CONFLICT
    assert conflict.found == "66.60" and "66.60" in conflict.reason
    prices = {s.sku_id: s.price for s in remote(catalog, product.offer_id).skus}
    assert prices[skus[0].sku_id] == Decimal("66.60")  # not overwritten
    for sku in skus[1:]:
        assert lines[sku.sku_id].status == Line.APPLIED
        assert prices[sku.sku_id] == Decimal(lines[sku.sku_id].after)
        assert Decimal(lines[sku.sku_id].after) == (sku.price * Decimal("1.05")).quantize(
            Decimal("0.01")
        )


def test_price_change_then_undo_restores_the_previous_values(catalog, operator):
    by_sku = offer_with(catalog, quote_types=(1,), min_skus=1)
    by_tier = offer_with(catalog, quote_types=(0, 2))
    original = {p.offer_id: remote(catalog, p.offer_id) for p in (by_sku, by_tier)}

    operation = plan_live_edit(
        user=operator, product_ids=[by_sku.pk, by_tier.pk], kind="price", add="3", round_to="1"
    )
    fields = set(operation.lines.values_list("field", flat=True))
    assert fields == {LiveEditLine.Field.PRICE, LiveEditLine.Field.TIER_PRICE}
    operation = apply_and_work(operator, operation)
    assert operation.status == LiveEdit.Status.DONE, list(operation.lines.values("reason"))
    changed = remote(catalog, by_tier.offer_id)
    assert [t.price for t in changed.price_ranges] == [
        (t.price + 3).quantize(Decimal(1), rounding="ROUND_HALF_UP")
        for t in original[by_tier.offer_id].price_ranges
    ]
    tier_rows = PriceStockChange.objects.filter(
        product=by_tier, field=PriceStockChange.Field.TIER_PRICE, source=ChangeSource.ERP
    )
    assert tier_rows.count() == len(changed.price_ranges)
    # The product list's price sort reads the new lowest prices, as the list shows them.
    assert Product.objects.get(pk=by_tier.pk).sort_price == min(
        t.price for t in changed.price_ranges
    )
    for product in product_list_queryset().filter(pk__in=[by_sku.pk, by_tier.pk]):
        assert product.sort_price == product.low_price

    undo = plan_undo(user=operator, operation=operation)
    assert undo.undo_of == operation and undo.status == LiveEdit.Status.DRAFT
    assert {(ln.before, ln.after) for ln in undo.lines.all()} == {
        (ln.after, ln.before) for ln in operation.lines.all()
    }
    undo = apply_and_work(operator, undo)
    assert undo.status == LiveEdit.Status.DONE
    for product in (by_sku, by_tier):
        now = remote(catalog, product.offer_id)
        was = original[product.offer_id]
        assert [t.price for t in now.price_ranges] == [t.price for t in was.price_ranges]
        assert [s.price for s in now.skus] == [s.price for s in was.skus]
    with pytest.raises(Refused) as refused:
        plan_undo(user=operator, operation=operation)
    assert refused.value.code == RefusalCode.ALREADY_UNDONE
    assert resync(catalog).changes_written == 0  # the mirror already holds every value


def test_delist_and_relist_round_trip(catalog, operator):
    products = [offer_with(catalog, quote_types=(0, 1, 2))]
    products.append(offer_with(catalog, quote_types=(0, 1, 2), exclude={products[0].pk}))
    ids = [p.pk for p in products]

    delist = apply_and_work(operator, plan_live_edit(user=operator, product_ids=ids, kind="delist"))
    assert delist.status == LiveEdit.Status.DONE
    for product in products:
        assert remote(catalog, product.offer_id).status == "outdated"
        product.refresh_from_db()
        assert product.status == "outdated" and product.delisted_at is not None

    relist = apply_and_work(operator, plan_live_edit(user=operator, product_ids=ids, kind="relist"))
    assert relist.status == LiveEdit.Status.DONE
    for product in products:
        assert remote(catalog, product.offer_id).status == "published"
        product.refresh_from_db()
        assert product.status == "published" and product.delisted_at is None
    assert resync(catalog).changes_written == 0


def test_the_daily_relist_cap_is_shown_per_offer(sandbox, catalog, operator):
    first = offer_with(catalog, quote_types=(0, 1, 2))
    second = offer_with(catalog, quote_types=(0, 1, 2), exclude={first.pk})
    ids = [first.pk, second.pk]
    apply_and_work(operator, plan_live_edit(user=operator, product_ids=ids, kind="delist"))
    sandbox.control("limits", {"republish_per_day": 1})

    relist = apply_and_work(operator, plan_live_edit(user=operator, product_ids=ids, kind="relist"))

    assert relist.status == LiveEdit.Status.PARTLY_DONE
    # The job goes offer by offer (by product id): the first relist fits, the second does not.
    lines = {ln.product_id: ln for ln in relist.lines.all()}
    done, refused = sorted(lines)
    assert lines[done].status == Line.APPLIED, lines[done].reason
    assert lines[refused].status == Line.REFUSED
    # Reasons are stored as message ids and shown in the reader's language.
    assert render(lines[refused].reason) == _(
        "1688's daily relist limit is reached; relist this offer tomorrow."
    )
    for language, words in (("en", "daily relist limit"), ("zh-hans", "上架")):
        with translation.override(language):
            assert words in render(lines[refused].reason)
    statuses = {p.pk: remote(catalog, p.offer_id).status for p in (first, second)}
    assert statuses == {done: "published", refused: "outdated"}


def test_an_app_refused_product_edit_is_shown_per_offer(sandbox, catalog, operator, settings):
    product = offer_with(catalog, quote_types=(0, 1, 2))
    before = remote(catalog, product.offer_id)
    declined = ["product.increment.editInfo", "alibaba.product.edit"]  # both price writes
    sandbox.control("acl", {"app_key": settings.OPEN1688_APP_KEY, "declined": declined})
    operation = plan_live_edit(user=operator, product_ids=[product.pk], kind="price", price="9.9")

    operation = apply_and_work(operator, operation)

    assert operation.status == LiveEdit.Status.FAILED  # nothing took
    assert {ln.status for ln in operation.lines.all()} == {Line.REFUSED}
    assert {render(ln.reason) for ln in operation.lines.all()} == {
        _("1688 refused: this app is not allowed to call %(api)s (API access not granted).")
        % {"api": "alibaba.product.edit"}
    }
    after = remote(catalog, product.offer_id)
    assert after.price_ranges == before.price_ranges and after.skus == before.skus
    catalog.refresh_from_db()  # the shop page can say which API the app was not granted
    assert "alibaba.product.edit" in [entry["api"] for entry in catalog.declined_apis]
    assert not PriceStockChange.objects.filter(product=product).exists()


def test_the_sandbox_refuses_a_numeric_sku_id_in_modify_stock(catalog):
    product = offer_with(catalog, quote_types=(0, 1, 2), min_skus=1)
    sku = product.skus.first()
    change = {"productId": product.offer_id, "skuStocks": [{"skuId": sku.sku_id, "stockChange": 1}]}
    with make_client() as client, pytest.raises(BusinessError) as refused:
        client.modify_stock(catalog.access_token, [change], increment=True)
    assert refused.value.code == "SKU_NOT_EXIST" and "specId" in refused.value.message


def test_planning_refuses_bad_input_and_users_without_the_permission(catalog, operator):
    product = offer_with(catalog, quote_types=(0, 1, 2))
    cases = [
        ({"kind": "price", "round_to": "0.5"}, "bad_rounding"),
        ({"kind": "price"}, "no_price_rule"),
        ({"kind": "price", "add": "-100000"}, "price_not_positive"),
        ({"kind": "price", "multiply": "abc"}, "bad_number"),
        ({"kind": "stock", "stock_mode": "set", "stock": "-1"}, "bad_stock"),
        ({"kind": "stock", "stock_mode": "set", "stock": "1.5"}, "bad_stock"),
        ({"kind": "stock", "stock_mode": "adjust", "stock": "-100000"}, "stock_negative"),
        ({"kind": "rename"}, "bad_kind"),
    ]
    for params, code in cases:
        with pytest.raises(Refused) as refused:
            plan_live_edit(user=operator, product_ids=[product.pk], **params)
        assert refused.value.code == code, params
    with pytest.raises(Refused) as refused:
        plan_live_edit(user=operator, product_ids=[], kind="delist")
    assert refused.value.code == RefusalCode.NO_OFFERS
    viewer = UserFactory(username="zhidu")
    with pytest.raises(PermissionRefused):
        plan_live_edit(user=viewer, product_ids=[product.pk], kind="delist")
    assert not LiveEdit.objects.exists()
    assert "catalog.change_live_offer" in ROLES["operator"]
    assert "catalog.change_live_offer" in ROLES["manager"]


def test_the_pages_preview_apply_show_the_change_log_and_undo(catalog, operator, client):
    product = offer_with(catalog, quote_types=(1,), min_skus=2)
    client.force_login(operator)
    page = client.get(f"/catalog/live/new/?offers={product.pk}")
    assert page.status_code == 200 and str(product.offer_id) in page.content.decode()

    answer = client.post(
        f"/catalog/live/new/?offers={product.pk}",
        {"offers": str(product.pk), "kind": "price", "percent": "5", "round_to": "0.1"},
    )
    operation = LiveEdit.objects.get()
    assert answer.status_code == 302 and answer.url == f"/catalog/live/{operation.pk}/"
    preview = client.get(answer.url).content.decode()
    for line in operation.lines.all():
        assert line.before in preview and line.after in preview
    assert 'id="live-apply"' in preview

    assert client.post(f"/catalog/live/{operation.pk}/apply/").status_code == 302
    assert 'hx-get="/catalog/live/' in client.get(answer.url).content.decode()  # polling
    run_worker("default")
    result = client.get(f"/catalog/live/{operation.pk}/progress/").content.decode()
    assert 'id="live-changes"' in result and 'class="made-by">yunying<' in result
    assert "hx-get" not in result
    assert 'id="live-undo"' in result
    client.force_login(UserFactory(username="kanke", roles=["viewer"]))  # no undo to be refused
    assert 'id="live-undo"' not in client.get(f"/catalog/live/{operation.pk}/").content.decode()
    client.force_login(operator)

    undo = client.post(f"/catalog/live/{operation.pk}/undo/")
    undo_op = LiveEdit.objects.get(undo_of=operation)
    assert undo.url == f"/catalog/live/{undo_op.pk}/"
    assert client.get("/catalog/live/").status_code == 200


def test_the_pages_answer_bad_input_and_missing_permission_without_a_500(catalog, client):
    product = offer_with(catalog, quote_types=(0, 1, 2))
    viewer = UserFactory(username="zhidu", permissions=["view_liveedit"])
    client.force_login(viewer)
    url = f"/catalog/live/new/?offers={product.pk}"
    assert client.get(url).status_code == 403  # refused before a form to fill in for nothing
    form = {"offers": str(product.pk), "kind": "delist"}
    assert client.post(url, form).status_code == 403
    client.force_login(UserFactory(username="yunying", roles=["operator"]))
    form = {"offers": str(product.pk), "kind": "price", "percent": "abc"}
    assert client.post(url, form).status_code == 200  # a form error, shown in place
    assert client.get("/catalog/live/new/?offers=x,99999999999999999999").status_code == 200
    client.force_login(viewer)
    assert client.get("/catalog/live/424242/").status_code == 404
    assert client.get("/catalog/live/424242/apply/").status_code == 405
    assert not LiveEdit.objects.exists()
    client.force_login(UserFactory(username="nobody"))
    assert client.get("/catalog/live/").status_code == 403


def test_a_draft_is_applied_once_and_a_discarded_one_never(catalog, operator):
    product = offer_with(catalog, quote_types=(0, 1, 2))
    operation = plan_live_edit(user=operator, product_ids=[product.pk], kind="delist")
    apply_live_edit(user=operator, operation=operation)
    with pytest.raises(Refused) as refused:
        apply_live_edit(user=operator, operation=operation)  # a second click
    assert refused.value.code == RefusalCode.NOT_A_DRAFT
    run_worker("default")
    assert remote(catalog, product.offer_id).status == "outdated"

    other = plan_live_edit(user=operator, product_ids=[product.pk], kind="relist")
    discard_live_edit(user=operator, operation=other)
    with pytest.raises(Refused) as refused:
        apply_live_edit(user=operator, operation=other)
    assert refused.value.code == RefusalCode.NOT_A_DRAFT
    with pytest.raises(Refused) as refused:
        plan_undo(user=operator, operation=other)
    assert refused.value.code == RefusalCode.NOT_FINISHED
    run_worker("default")
    assert remote(catalog, product.offer_id).status == "outdated"


def test_a_stocktake_types_each_skus_count_on_the_page(catalog, operator, client):
    product = offer_with(catalog, quote_types=(0, 1, 2), min_skus=2)
    skus = list(product.skus.order_by("sku_id"))[:2]
    client.force_login(operator)
    page = client.get(f"/catalog/live/new/?offers={product.pk}").content.decode()
    assert f'name="value_stock_sku_{skus[0].pk}"' in page
    form = {"offers": str(product.pk), "kind": "stock", "stock_mode": "set"}
    form |= {f"value_stock_sku_{sku.pk}": str(n) for sku, n in zip(skus, (3, 140), strict=True)}
    answer = client.post(f"/catalog/live/new/?offers={product.pk}", form)
    operation = LiveEdit.objects.get()
    assert answer.status_code == 302
    assert sorted((ln.remote_sku_id, ln.after) for ln in operation.lines.all()) == [
        (skus[0].sku_id, "3"),
        (skus[1].sku_id, "140"),
    ]
    client.post(f"/catalog/live/{operation.pk}/apply/")
    run_worker("default")
    counts = {s.sku_id: s.amount_on_sale for s in remote(catalog, product.offer_id).skus}
    assert (counts[skus[0].sku_id], counts[skus[1].sku_id]) == (3, 140)

    form = {"offers": str(product.pk), "kind": "stock", "stock": "5"}
    form[f"value_stock_sku_{skus[0].pk}"] = "9"
    answer = client.post(f"/catalog/live/new/?offers={product.pk}", form)
    assert answer.status_code == 200  # a rule and typed values: refused in plain words
    assert LiveEdit.objects.count() == 1


def test_an_unreachable_1688_fails_the_offer_in_plain_words_and_sends_nothing(
    sandbox, catalog, operator, settings
):
    settings.OPEN1688_MAX_RETRIES = 1
    product = offer_with(catalog, quote_types=(0, 1, 2))
    operation = plan_live_edit(user=operator, product_ids=[product.pk], kind="delist")
    sandbox.fault("alibaba.product.get", "http500", times=2)  # the re-read and its one retry
    sandbox.reset_stats()
    operation = apply_and_work(operator, operation)

    (line,) = operation.lines.all()
    assert operation.status == LiveEdit.Status.FAILED and line.status == Line.FAILED
    assert render(line.reason).startswith(_("1688 could not be reached: %(error)s").split("%")[0])
    assert "alibaba.product.expire" not in sandbox.calls()
    assert remote(catalog, product.offer_id).status == "published"


def test_an_offer_in_audit_is_refused_relisting_in_plain_words(sandbox, catalog, operator):
    product = offer_with(catalog, quote_types=(0, 1, 2))
    sandbox.control("offers/update", {"product_id": product.offer_id, "status": "auditing"})
    resync(catalog)
    product.refresh_from_db()
    assert product.status == "auditing"

    relist = apply_and_work(
        operator, plan_live_edit(user=operator, product_ids=[product.pk], kind="relist")
    )

    (line,) = relist.lines.all()
    assert line.status == Line.REFUSED
    assert render(line.reason) == _(
        "1688 is auditing this offer, or it failed the audit; it cannot be changed now."
    )
    assert remote(catalog, product.offer_id).status == "auditing"


def test_checking_a_preview_marks_conflicts_before_anything_is_sent(
    sandbox, catalog, operator, client
):
    product = offer_with(catalog, quote_types=(1,), min_skus=2)
    first = product.skus.order_by("sku_id").first()
    operation = plan_live_edit(user=operator, product_ids=[product.pk], kind="price", add="1")
    sandbox.control(
        "offers/update", {"product_id": product.offer_id, "sku_prices": {str(first.sku_id): "77"}}
    )
    client.force_login(operator)
    sandbox.reset_stats()
    assert client.post(f"/catalog/live/{operation.pk}/check/").status_code == 302

    assert set(sandbox.calls()) == {"alibaba.product.get"}  # read, nothing written
    line = operation.lines.get(remote_sku_id=first.sku_id)
    assert line.status == Line.CONFLICT and line.found == "77.00"
    preview = client.get(f"/catalog/live/{operation.pk}/").content.decode()
    assert 'class="line-conflict"' in preview and 'id="live-apply"' in preview
    operation = apply_and_work(operator, operation)
    assert operation.lines.get(pk=line.pk).status == Line.CONFLICT
    assert operation.lines.filter(status=Line.APPLIED).count() == operation.lines.count() - 1
    prices = {s.sku_id: s.price for s in remote(catalog, product.offer_id).skus}
    assert prices[first.sku_id] == Decimal("77")
