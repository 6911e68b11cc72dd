"""Page speed at scale: every staff and admin list page, p50/p95 and queries per page.

Fills 100,000 products, 300,000 SKUs and 1,000,000 change rows (times --scale) with bulk inserts,
then requests each page through Django's test client as a superuser and prints a table.

    .venv/bin/python bench/pages_bench.py --scale 0.1                  # SQLite under data/
    DATABASE_URL=postgres://user:pass@127.0.0.1:5432/bench .venv/bin/python bench/pages_bench.py

The data stays in its own folder (data/bench-pages, or the given database) and is reused by the
next run of the same scale; --refill starts over. Target: p95 <= 300 ms on PostgreSQL
at full scale, and queries per page that do not depend on the data.
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "bench-pages"

PRODUCTS, SKUS_PER_PRODUCT, CHANGES = 100_000, 3, 1_000_000
BATCH = 5_000
WORDS = ("纯棉", "短袖", "T恤", "女装", "宽松", "韩版", "夏季", "新款", "保温杯", "不锈钢",
         "雨伞", "折叠", "收纳盒", "手机壳", "数据线", "袜子", "帽子")  # fmt: skip
CATEGORIES = ["女装T恤", "保温杯", "雨伞", "收纳盒", "手机壳", "数据线", "袜子", "帽子"]
STATUSES = ["published"] * 96 + ["outdated"] * 3 + ["auditing"]


def setup(database_url: str | None) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("ERP_DATA_DIR", str(DATA))
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp1688.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill(scale: float, seed: int = 1688) -> dict:
    """Shops, products, SKUs and change rows in bulk; returns what was made."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from catalog.models import PriceStockChange, Product, Shop, Sku

    rng = random.Random(seed)
    n_products = max(10, int(PRODUCTS * scale))
    n_changes = max(10, int(CHANGES * scale))
    now = timezone.now()
    started = time.perf_counter()
    with transaction.atomic():
        shops = [
            Shop.objects.create(member_id=f"b2b-bench{n:04d}", name=f"义乌基准店{n}")
            for n in range(5)
        ]
        products = []
        for n in range(n_products):
            price = Decimal(rng.randrange(300, 30000)) / 100
            title = "".join(rng.sample(WORDS, 5)) + f" {n}"
            products.append(
                Product(
                    shop=shops[n % len(shops)],
                    offer_id=700_000_000_000 + n,
                    subject=title,
                    category_id=1_031_910 + n % len(CATEGORIES),
                    status=STATUSES[n % len(STATUSES)],
                    unit="件",
                    amount_on_sale=rng.randrange(0, 5000),
                    cargo_number=f"HB-{n:06d}",
                    price_ranges=[
                        {"start_quantity": 2, "price": str(price)},
                        {
                            "start_quantity": 50,
                            "price": str((price * Decimal("0.9")).quantize(Decimal("0.01"))),
                        },
                    ],
                    images=[f"img/ibank/2026/{n % 1000:03d}/{n}/1.jpg"],
                    attributes=[{"attributeID": 287, "attributeName": "材质", "value": "棉"}],
                    # As the sync stores a detail answer (alibaba.product.get): under productInfo.
                    raw={
                        "productInfo": {
                            "categoryName": CATEGORIES[n % len(CATEGORIES)],
                            "subject": title,
                        }
                    },
                    remote_modified_at=now - timedelta(minutes=rng.randrange(0, 60 * 24 * 180)),
                    delisted_at=now if n % 500 == 0 else None,
                )
            )
            if len(products) == BATCH:
                Product.objects.bulk_create(products)
                products = []
        Product.objects.bulk_create(products)
        product_ids = list(Product.objects.order_by().values_list("id", "shop_id"))
        skus = []
        for pid, _shop in product_ids:
            for k in range(SKUS_PER_PRODUCT):
                skus.append(
                    Sku(
                        product_id=pid,
                        sku_id=pid * 10 + k,
                        cargo_number=f"HB-{pid:06d}-{k}",
                        attributes=[{"attributeID": 3216, "attributeValue": ["白", "黑", "红"][k]}],
                        price=Decimal(rng.randrange(300, 30000)) / 100,
                        stock=rng.randrange(0, 2000),
                    )
                )
            if len(skus) >= BATCH:
                Sku.objects.bulk_create(skus)
                skus = []
        Sku.objects.bulk_create(skus)
        sku_rows = list(Sku.objects.order_by().values_list("id", "sku_id", "product_id"))
        shop_of = dict(product_ids)
        changes = []
        for n in range(n_changes):
            sku_pk, sku_id, pid = sku_rows[rng.randrange(len(sku_rows))]
            is_stock = n % 2 == 0
            old = (
                Decimal(rng.randrange(0, 2000))
                if is_stock
                else Decimal(rng.randrange(300, 30000)) / 100
            )
            new = (
                old + Decimal(rng.randrange(-50, 50))
                if is_stock
                else old * Decimal(rng.choice(["0.9", "0.95", "1.05", "1.2"]))
            )
            seen = now - timedelta(seconds=n * 15 // scale if scale < 1 else n * 15)
            changes.append(
                PriceStockChange(
                    shop_id=shop_of[pid],
                    product_id=pid,
                    sku_id=sku_pk,
                    remote_sku_id=sku_id,
                    field="stock" if is_stock else "price",
                    **PriceStockChange.value_columns(
                        "stock" if is_stock else "price",
                        old,
                        max(new, Decimal(0)).quantize(Decimal("0.01")),
                    ),
                    remote_modified_at=seen - timedelta(microseconds=n),
                    observed_at=seen,
                )
            )
            if len(changes) == BATCH:
                PriceStockChange.objects.bulk_create(changes)
                changes = []
        PriceStockChange.objects.bulk_create(changes)
        get_user_model().objects.create_superuser("bench", "bench@example.com", "bench")
    elapsed = time.perf_counter() - started
    return {"products": n_products, "changes": n_changes, "seconds": elapsed}


def empty() -> None:
    """Drop the previous fill with plain DELETEs (the ORM's cascade would load a million rows)."""
    from django.db import transaction

    from catalog.models import PriceStockChange, Product, Shop, Sku

    bench_shops = Shop.objects.filter(member_id__startswith="b2b-bench")
    with transaction.atomic():
        for model, key in ((PriceStockChange, "shop__in"), (Sku, "product__shop__in"),
                           (Product, "shop__in"), (Shop, "pk__in")):  # fmt: skip
            rows = model.objects.filter(**{key: bench_shops.values("pk")})
            rows._raw_delete(rows.db)


def pages() -> list[tuple[str, str]]:
    """(label, URL) of every page measured: staff pages with their filters, admin lists."""
    from django.contrib import admin
    from django.urls import reverse

    from catalog.mirror.pages import Key
    from catalog.models import PriceStockChange, Product, Shop

    product = Product.objects.order_by("id")[Product.objects.count() // 2]
    shop = Shop.objects.order_by("id").first()
    change = PriceStockChange.objects.order_by("-observed_at", "-id")[150]
    products = reverse("catalog:product_list")
    middle = Product.objects.order_by("-remote_modified_at", "-id")[Product.objects.count() // 2]
    deep = Key(middle.remote_modified_at, middle.pk).text()
    changes = reverse("catalog:change_list")
    after = f"{change.observed_at.isoformat()}_{change.pk}"
    listed = [
        ("dashboard", reverse("home")),
        ("products", products),
        ("products deep page (by key)", products + f"?after={deep}&n=1000"),
        ("products last page", products + "?last=1"),
        ("products searched (2 chars)", products + "?q=纯棉"),
        ("products searched (title)", products + "?q=保温杯"),
        ("products searched (SKU 货号)", products + f"?q=HB-{product.pk:06d}-1"),
        ("products searched (offer id)", products + f"?q={product.offer_id}"),
        ("products by shop", products + f"?shop={shop.pk}"),
        ("products auditing", products + "?status=auditing"),
        ("products gone", products + "?status=gone"),
        ("products by category", products + "?category=雨伞"),
        ("products price 100-120", products + "?price_min=100&price_max=120"),
        ("products stock < 10", products + "?stock_below=10"),
        ("products changed 1 day", products + "?changed_days=1"),
        ("products by title", products + "?sort=subject"),
        ("products by stock desc", products + "?sort=-stock"),
        ("product page", reverse("catalog:product_detail", args=[product.pk])),
        ("changes", changes),
        ("changes older page", changes + f"?after={after}"),
        ("changes by shop", changes + f"?shop={shop.pk}"),
        ("changes by product", changes + f"?product={product.offer_id}"),
        ("changes by field", changes + "?field=stock"),
        ("changes price up >10%", changes + "?field=price&direction=up&percent=10"),
        ("changes stock < 10", changes + "?stock_below=10"),
        ("changes last 7 days", changes + "?date_from=" + _days_ago(7)),
        ("batches", reverse("catalog:batch_list")),
        ("shops", reverse("catalog:shop_list")),
        ("shop page", reverse("catalog:shop_detail", args=[shop.pk])),
        ("alerts inbox", reverse("catalog:alert_inbox")),
    ]
    for model in admin.site._registry:
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        listed.append((f"admin {meta.app_label}.{meta.model_name}", url))
    listed += [
        ("admin products searched", reverse("admin:catalog_product_changelist") + "?q=保温杯"),
        ("admin changes by field", reverse("admin:catalog_pricestockchange_changelist")
         + "?field__exact=stock"),
    ]  # fmt: skip
    return listed


def _days_ago(days: int) -> str:
    from django.utils import timezone

    return str(timezone.localdate() - timedelta(days=days))


def measure(client, url: str, repeat: int) -> tuple[float, float, float, int, int]:
    """p50 and p95 wall-clock ms, p50 CPU ms of this process (with SQLite that includes the
    database's work; it is what a busy machine does not inflate), queries, HTTP status."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm the caches (templates, query plans)
    times, cpu = [], []
    queries = 0
    status = 0
    for _n in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            if getattr(response, "streaming", False):
                b"".join(response.streaming_content)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        queries, status = len(captured), response.status_code
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, statistics.median(cpu), queries, status


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 100k/300k/1M rows")
    parser.add_argument("--repeat", type=int, default=10, help="requests per page")
    parser.add_argument("--refill", action="store_true", help="drop the data and fill again")
    parser.add_argument("--only", default="", help="measure the pages whose label has this")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args(argv)
    setup(args.database_url)

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from catalog.models import PriceStockChange, Product

    try:
        wanted = max(10, int(PRODUCTS * args.scale))
        stale = not Product.objects.filter(raw__has_key="productInfo").exists()
        if args.refill or stale or Product.objects.count() != wanted:
            empty()
            get_user_model().objects.filter(username="bench").delete()
            made = fill(args.scale)
            print(f"filled {made['products']:,} products, {made['products'] * 3:,} SKUs, "
                  f"{made['changes']:,} changes in {made['seconds']:.0f} s")  # fmt: skip
            if connection.vendor == "sqlite":
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
            else:
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        client = Client()
        client.force_login(get_user_model().objects.get(username="bench"))
        counts = (Product.objects.count(), PriceStockChange.objects.count())
        print(f"{connection.vendor}, {counts[0]:,} products, {counts[1]:,} change rows, "
              f"{args.repeat} requests per page")  # fmt: skip
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        columns = ("p50 ms", "p95 ms", "cpu ms", "queries", "status")
        print(f"{'page':<38}" + "".join(f"{name:>9}" for name in columns))
        slow = 0
        for label, url in pages():
            if args.only and args.only not in label:
                continue
            p50, p95, cpu, queries, status = measure(client, url, args.repeat)
            slow += p95 > 300
            mark = "  > 300 ms" if p95 > 300 else ""
            print(f"{label:<38} {p50:>8.1f} {p95:>8.1f} {cpu:>8.1f} {queries:>8} {status:>8}{mark}")
        print(f"pages over 300 ms at p95: {slow}")
    finally:
        if not os.environ.get("REDIS_URL"):
            from erp1688.embedded_redis import stop_embedded_redis

            stop_embedded_redis(Path(os.environ["ERP_DATA_DIR"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
