"""The dashboard (home): running jobs with live progress, failures with their reason
and link, alerts, recent changes, the shared rate limit, counts per shop; a constant number of
queries whatever the amount of data; durations, money and dates for people."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from catalog.alerts import engine as alerts
from catalog.alerts.rules import create_rule
from catalog.models import PriceStockChange, SyncRun, UploadBatch
from catalog.shops.clients import make_client
from catalog.templatetags.erp_format import duration, yuan
from tests.factories import (
    PriceStockChangeFactory,
    ProductFactory,
    ShopFactory,
    SyncRunFactory,
    UploadBatchFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def fill(n: int) -> None:
    """n shops, each with products, runs (running, failed, succeeded), changes and a batch."""
    now = timezone.now()
    for i in range(n):
        shop = ShopFactory()
        for _ in range(3):
            ProductFactory(shop=shop)
        SyncRunFactory(
            shop=shop, status="running", started_at=now, offers_seen=40, offers_total=160
        )
        SyncRunFactory(
            shop=shop, status="failed", error="QuotaError: App call exceeds limited frequency",
            error_kind="quota", started_at=now - timedelta(minutes=5),
            finished_at=now - timedelta(minutes=4),
        )  # fmt: skip
        SyncRunFactory(
            shop=shop, status="succeeded", started_at=now - timedelta(minutes=9),
            finished_at=now - timedelta(minutes=7, seconds=55), offers_seen=300,
        )  # fmt: skip
        for _ in range(4):
            PriceStockChangeFactory(product__shop=shop, old_value=Decimal("19.9"))
        UploadBatchFactory(shop=shop, status=UploadBatch.Status.RUNNING, items_total=10)
        UploadBatchFactory(
            shop=shop, status=UploadBatch.Status.PARTLY_FAILED, items_failed=2,
            last_error="shop needs re-authorisation",
        )  # fmt: skip
        if i == 0:
            run = SyncRun.objects.filter(shop=shop, status="failed").get()
            alerts.on_run_finished(run=run)


def home(client):
    with CaptureQueriesContext(connection) as queries:
        answer = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 200
    return answer.content.decode(), len(queries)


def test_dashboard_shows_jobs_failures_alerts_changes_and_keeps_its_queries_constant(
    client, redis_conn
):
    user = UserFactory(username="boss", roles=["manager"])
    create_rule(user=user, kind="sync_failing")
    client.force_login(user)
    client.cookies["django_language"] = "en"
    fill(2)
    html, few = home(client)
    fill(6)
    html, many = home(client)
    assert few == many, (few, many)

    assert 'id="dashboard-jobs" hx-get="/catalog/dashboard/jobs/"' in html  # live while running
    assert "40 of 160 offers" in html and 'style="width: 25%"' in html
    failures = html.split('id="dashboard-failures"')[1].split("</section>")[0]
    assert "Quota" in failures and "The 1688 call quota" in failures
    assert "/catalog/shops/" in failures and "/catalog/batches/" in failures
    assert "shop needs re-authorisation" in failures
    assert 'id="dashboard-alerts"' in html and "the sync failed" in html
    assert "¥19.90" in html  # money: ¥ and two decimals
    durations = re.findall(r'<td class="run-duration">([^<]*)</td>', html)
    assert "1 min 5 s" in durations  # a 65 s run, not 0:01:05
    assert durations and not any(":" in shown for shown in durations), durations
    assert "rate limit shared by all workers" in html

    jobs = client.get(reverse("catalog:dashboard_jobs")).content.decode()
    assert "40 of 160 offers" in jobs and "hx-trigger" in jobs
    SyncRun.objects.filter(status="running").update(status="succeeded")
    UploadBatch.objects.filter(status="running").update(status="done")
    jobs = client.get(reverse("catalog:dashboard_jobs")).content.decode()
    assert "hx-trigger" not in jobs and "Nothing is running." in jobs  # polling stops


def test_recent_changes_are_the_newest_rows_through_the_index(client):
    client.force_login(UserFactory(username="boss", roles=["manager"]))
    old = timezone.now() - timedelta(days=30)
    for _ in range(25):
        PriceStockChangeFactory(observed_at=old)
    newest = PriceStockChangeFactory(sku__product__subject="最新的一条变动")
    html, _ = home(client)
    assert "最新的一条变动" in html
    with connection.cursor() as cursor:
        sql = str(
            PriceStockChange.objects.filter(product__isnull=False)
            .order_by("-observed_at", "-id")[:20]
            .query
        )
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql.replace("None", "NULL"))
            plan = " ".join(str(row) for row in cursor.fetchall())
            assert "change_observed_id" in plan and "TEMP B-TREE" not in plan, plan
    assert newest.pk


def test_rate_limit_in_use_is_read_from_the_limiters_redis_key(client, redis_conn, settings):
    settings.OPEN1688_RATE_PER_SECOND = 2.0
    client.force_login(UserFactory(username="boss", roles=["manager"]))
    client.cookies["django_language"] = "en"
    html, _ = home(client)
    assert ": 0% in use of 2 calls per second" in html
    with make_client() as api:  # the limiter every worker shares, as the client builds it
        for _ in range(3):  # 3 calls at 2 per second: the later ones wait for their slots
            api._rate_limiter.acquire("alibaba.product.get")
    html, _ = home(client)
    reading = html.split('id="rate-limit"')[1].split("</div>")[0]
    assert ": 0% in use" not in reading and "in use of 2 calls per second" in reading


def test_viewer_without_shop_permission_sees_no_shop_rows(client):
    ShopFactory(name="别人看不到的店")
    client.force_login(UserFactory(username="nobody", is_staff=True))
    html, _ = home(client)
    assert "别人看不到的店" not in html


def test_durations_and_money_for_people():
    # In English explicitly: the words follow the active language, which no test may assume.
    with translation.override("en"):
        assert duration(timedelta(seconds=65.031594)) == "1 min 5 s"
        assert duration(timedelta(seconds=3.2)) == "3.2 s"
        assert duration(timedelta(hours=2, minutes=3, seconds=4)) == "2 h 3 min"
        assert duration(timedelta(days=3, hours=5)) == "3 d 5 h"
    with translation.override("zh-hans"):
        assert duration(timedelta(seconds=65.031594)) == "1 分 5 秒"
    assert duration(None) == ""
    assert yuan(Decimal("9.9")) == "¥9.90" and yuan(None) == "—" and yuan("x") == "—"


def visible_text(html: str) -> str:
    import re

    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'<select name="language".*?</select>', " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize(
    "url_name", ["home", "catalog:shop_list", "catalog:alert_inbox", "catalog:alert_rules"]
)
def test_pages_speak_one_language(client, redis_conn, url_name):
    """English pages show no Chinese but product data; Chinese pages none of these labels."""
    import re

    user = UserFactory(username="boss", roles=["manager"])
    create_rule(user=user, kind="sync_failing")
    fill(1)
    client.force_login(user)
    data = [*ShopFactory._meta.model.objects.values_list("name", flat=True)]
    data += [c.product.subject for c in PriceStockChange.objects.select_related("product")]
    data += [str(c.sku) for c in PriceStockChange.objects.select_related("sku")]
    data += list(UploadBatch.objects.values_list("name", flat=True))
    client.cookies["django_language"] = "en"
    text = visible_text(client.get(reverse(url_name)).content.decode())
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, "")
    assert not re.findall(r"[\u4e00-\u9fff]+", text)
    client.cookies["django_language"] = "zh-hans"
    text = visible_text(client.get(reverse(url_name)).content.decode())
    labels = ["Running now", "Unread alerts", "Shop health", "Next sync", "Alerts", "in use of",
              "Failures in the last", "What to do", "My alert rules", "Mark all read", "Every shop",
              "Authorisation", "Quota", "Duration", "the sync failed"]  # fmt: skip
    assert [label for label in labels if label in text] == []


def test_items_of_a_finished_batch_link_only_where_the_link_leads_somewhere(client):
    """Items of a finished batch were links that bounced back with an error: no longer."""
    import re

    from tests.factories import UploadItemFactory

    client.force_login(UserFactory(username="boss", roles=["manager"]))
    batch = UploadBatchFactory(status=UploadBatch.Status.PARTLY_FAILED)
    done = UploadItemFactory(batch=batch, title="已上传的商品", status="succeeded")
    failed = UploadItemFactory(batch=batch, title="上传失败的商品", status="failed")
    html = client.get(reverse("catalog:batch_detail", args=[batch.pk])).content.decode()
    links = set(re.findall(r'href="(/catalog/batches/\d+/items/\d+/)"', html))
    assert links == {reverse("catalog:item_edit", args=[batch.pk, failed.pk])}
    assert "已上传的商品" in html and done.pk
    for link in links:
        assert client.get(link).status_code == 200  # no bounce


@pytest.mark.django_db(transaction=True)
def test_each_shops_products_are_the_last_runs_count_not_a_count_per_view(
    client, sandbox, connected_shop
):
    from sync.catalog_sync import start_run, sync_shop

    client.force_login(UserFactory(username="boss", roles=["manager"]))
    client.cookies["django_language"] = "en"
    html, _ = home(client)
    row = html.split(f"/catalog/shops/{connected_shop.pk}/")[1].split("</tr>")[0]
    assert "<td>—</td>" in row  # never synced: no figure, not a 0

    sandbox.control("seed", {"member_id": connected_shop.member_id, "count": 23, "seed": 4})
    run = sync_shop(start_run(connected_shop))
    assert run.offers_mirrored == 23
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("home")).content.decode()
    row = html.split(f"/catalog/shops/{connected_shop.pk}/")[1].split("</tr>")[0]
    assert "<td>23</td>" in row
    counted = [
        q["sql"] for q in queries if 'FROM "catalog_product"' in q["sql"] and "COUNT" in q["sql"]
    ]
    assert not counted, counted
