"""The small things an operator meets every day: a favicon (no 404 on every page), a new batch
with the only shop chosen, an overdue sync said to be overdue, an empty chart that says so."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from catalog.models import PriceStockChange, SyncRun
from tests.factories import PriceStockChangeFactory, ShopFactory, SyncRunFactory

pytestmark = pytest.mark.django_db


def page(client, url: str, language: str = "zh-hans") -> str:
    client.cookies["django_language"] = language
    return client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()


def test_every_page_names_an_icon_and_favicon_ico_is_no_404(staff_client):
    assert 'rel="icon"' in page(staff_client, reverse("home"))
    answer = staff_client.get("/favicon.ico", follow=True)
    assert answer.status_code == 200
    assert b"<svg" in b"".join(answer.streaming_content)


def test_a_new_batch_preselects_the_only_shop(staff_client):
    shop = ShopFactory()
    html = page(staff_client, reverse("catalog:batch_create"))
    assert f'<option value="{shop.pk}" selected>' in html
    ShopFactory()
    html = page(staff_client, reverse("catalog:batch_create"))
    assert '<option value="" selected>' in html  # two shops: staff choose


@pytest.mark.parametrize(
    ("language", "words"),
    [("zh-hans", "已逾期 "), ("en", "overdue by ")],
)
def test_an_overdue_sync_reads_as_overdue(staff_client, language, words):
    shop = ShopFactory()
    run = SyncRunFactory(shop=shop, status=SyncRun.Status.SUCCEEDED)
    late = timedelta(minutes=settings.SYNC_INTERVAL_MINUTES + 20)
    SyncRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - late)
    html = page(staff_client, reverse("catalog:shop_list"), language)
    assert words in html
    assert "还剩 0 分钟" not in html and "in 0\xa0minutes" not in html


def test_a_sync_due_in_seconds_reads_within_a_minute(staff_client):
    shop = ShopFactory()
    run = SyncRunFactory(shop=shop, status=SyncRun.Status.SUCCEEDED)
    due_soon = timedelta(minutes=settings.SYNC_INTERVAL_MINUTES, seconds=-20)
    SyncRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - due_soon)
    html = page(staff_client, reverse("catalog:shop_list"), "en")
    assert "within a minute" in html and "in 0\xa0minutes" not in html


def test_an_empty_price_chart_says_no_data_yet(staff_client):
    change = PriceStockChangeFactory(field=PriceStockChange.Field.STOCK, old_value=10, new_value=8)
    html = page(staff_client, reverse("catalog:product_detail", args=[change.product_id]))
    assert "还没有价格数据" in html and 'id="stock-chart"' in html
    assert 'id="price-chart"' not in html
