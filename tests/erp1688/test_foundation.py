import subprocess
import sys

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client

from catalog.models import Shop
from tests.factories import ProductFactory, ShopFactory

pytestmark = pytest.mark.django_db


def test_tokens_are_not_stored_in_plain_text():
    shop = ShopFactory(access_token="plain-access-0001", refresh_token="plain-refresh-0002")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token, refresh_token FROM catalog_shop WHERE id = %s", [shop.pk]
        )
        stored_access, stored_refresh = cursor.fetchone()
    assert "plain-access-0001" not in stored_access
    assert "plain-refresh-0002" not in stored_refresh
    reloaded = Shop.objects.get(pk=shop.pk)
    assert reloaded.access_token == "plain-access-0001"
    assert reloaded.refresh_token == "plain-refresh-0002"


def test_same_offer_cannot_be_stored_twice_for_one_shop():
    product = ProductFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(shop=product.shop, offer_id=product.offer_id)
    # Another shop may carry the same offer id (a copy is a different offer of another seller).
    ProductFactory(shop=ShopFactory(), offer_id=product.offer_id)


def test_healthz_reports_database_and_redis(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_dashboard_is_staff_only(staff_client):
    assert Client().get("/").status_code == 302
    ShopFactory(name="永康五金旗舰店")
    page = staff_client.get("/")
    assert page.status_code == 200
    assert "永康五金旗舰店" in page.content.decode()


@pytest.mark.system
def test_production_settings_refuse_missing_secrets(tmp_path):
    env = {"ERP_ENV": "production", "PATH": "/usr/bin:/bin", "ERP_DATA_DIR": str(tmp_path)}
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; from django.conf import settings; settings.SECRET_KEY",
        ],
        env={**env, "DJANGO_SETTINGS_MODULE": "erp1688.settings"},
        capture_output=True,
        text=True,
        cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]),
    )
    assert proc.returncode != 0
    assert "needs these environment variables" in proc.stderr
    assert "FIELD_ENCRYPTION_KEY" in proc.stderr


def test_stock_changes_show_whole_numbers_and_prices_cents():
    from decimal import Decimal

    from tests.factories import PriceStockChangeFactory

    stock = PriceStockChangeFactory(
        field="stock", old_value=Decimal("500"), new_value=Decimal("483")
    )
    price = PriceStockChangeFactory(
        field="price", old_value=Decimal("19.9"), new_value=Decimal("18.8")
    )
    assert (str(stock.old_shown), str(stock.new_shown), str(stock.delta)) == ("500", "483", "-17")
    assert (str(price.old_shown), str(price.delta)) == ("19.90", "-1.10")


def test_dashboard_shows_shops_that_need_reauthorisation(admin_client):
    ShopFactory(
        name="杭州箱包工厂", status=Shop.Status.NEEDS_REAUTH, status_reason="refresh token rejected"
    )
    page = admin_client.get("/").content.decode()
    assert "杭州箱包工厂" in page and "refresh token rejected" in page
    assert 'action="/shops/connect/"' in page
