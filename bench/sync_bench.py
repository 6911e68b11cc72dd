"""Benchmark: what a sync costs: full pull vs incremental at 1 % vs the naive approach.

    .venv/bin/python bench/sync_bench.py --offers 2000 --changed 0.01

- full pull: the first sync of a shop (every offer listed, a detail for each);
- incremental: the next sync after `--changed` of the offers changed on the sandbox;
- naive (the usual guide's loop): page through every offer on every run, sleep 0.5 s after
  each page "to be polite", read every offer's detail and save it with update_or_create.
All over real HTTP against the sandbox, limit lifted (the code is measured, not the quota);
requests are counted at the sandbox. Prints a table; asserts nothing.
"""

import argparse
import time

from harness import Bench, database_label, table

NAIVE_SLEEP = 0.5


def naive_pull(shop) -> None:
    """Every run reads everything: list pages with a polite sleep, a detail per offer."""
    from catalog.models import Product, Sku
    from catalog.shops.clients import make_client
    from sync.catalog_sync import tiers_json

    with make_client() as client:
        page_no = 1
        while True:
            page = client.list_products(shop.access_token, page_no=page_no, page_size=20)
            for item in page.items:
                detail = client.get_product(shop.access_token, item.product_id)
                product, _ = Product.objects.update_or_create(
                    shop=shop,
                    offer_id=detail.product_id,
                    defaults={
                        "subject": detail.subject[:255],
                        "status": detail.status[:40],
                        "amount_on_sale": detail.amount_on_sale,
                        "price_ranges": tiers_json(detail.price_ranges),
                        "remote_modified_at": detail.modify_time,
                        "raw": detail.raw,
                    },
                )
                for info in detail.skus:
                    Sku.objects.update_or_create(
                        product=product,
                        sku_id=info.sku_id,
                        defaults={"price": info.price, "stock": info.amount_on_sale},
                    )
            time.sleep(NAIVE_SLEEP)
            if not page.items or page_no * 20 >= page.total_records:
                return
            page_no += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=2000)
    parser.add_argument("--changed", type=float, default=0.01, help="fraction changed")
    args = parser.parse_args()

    bench = Bench()
    try:
        run_all(bench, args)
    finally:
        bench.close()


def run_all(bench: Bench, args) -> None:
    from sync.catalog_sync import start_run, sync_shop

    shop = bench.connected_shop("b2b-bench0001", "压测店")
    bench.control("seed", {"member_id": shop.member_id, "count": args.offers, "seed": 1})

    def measured(label: str, work) -> dict:
        bench.control("stats/reset")
        began = time.perf_counter()
        detail = work() or {}
        took = time.perf_counter() - began
        return {"label": label, "requests": bench.stats()["total"], "seconds": took, **detail}

    def sync() -> dict:
        run = sync_shop(start_run(shop))
        return {"changes": run.changes_written, "details": run.details_fetched}

    full = measured("full pull (first sync)", sync)
    # Exactly `--changed` of the offers (a price change each; the sandbox's `fraction` would
    # also change stock, create and delist, about twice as many offers).
    changed = max(1, round(args.offers * args.changed))
    report = bench.control("mutate", {"member_id": shop.member_id, "price": changed, "seed": 2})
    touched = {*report["price_changed"], *report["stock_changed"], *report["created"]}
    touched |= set(report["delisted"])
    incremental = measured(f"incremental, {len(touched)} offers changed", sync)
    nothing = measured("incremental, nothing changed", sync)
    # The naive loop's every run, over the same (already mirrored) shop.
    naive = measured("naive: all pages + 0.5 s sleep + every detail", lambda: naive_pull(shop))

    print(f"\n{database_label()}: a shop of {args.offers:,} offers, {args.changed:.0%} changed; "
          f"naive approach sleeps {NAIVE_SLEEP} s per page")  # fmt: skip
    rows = []
    for run in (full, incremental, nothing, naive):
        rows.append([
            run["label"], run["requests"], run["seconds"],
            f"{100 * run['requests'] / full['requests']:.2f} %",
            f"{100 * run['seconds'] / full['seconds']:.2f} %",
            f"{naive['requests'] / run['requests']:.0f}× / "
            f"{naive['seconds'] / run['seconds']:.0f}×",
        ])  # fmt: skip
    table(
        ["run", "requests", "seconds", "requests vs full", "time vs full",
         "naive costs × (requests / time)"],
        rows,
    )  # fmt: skip


if __name__ == "__main__":
    main()
