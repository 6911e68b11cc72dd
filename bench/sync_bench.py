"""Benchmark: first sync and incremental syncs of one shop against the sandbox over real HTTP.

    .venv/bin/python bench/sync_bench.py --offers 2000 --changed 0.01

Prints figures (requests, seconds, offers/s, change rows); asserts nothing. Uses its own data
folder (data/bench) and its own sandbox on a free port, so it never touches the demo data.
"""

import argparse
import time

from harness import Bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=2000)
    parser.add_argument("--changed", type=float, default=0.01, help="fraction mutated per round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    bench = Bench()
    from django.db import connection

    from catalog.models import PriceStockChange, Product
    from sync.catalog_sync import start_run, sync_shop

    shop = bench.connected_shop("b2b-bench0001", "压测店")
    started = time.perf_counter()
    bench.control("seed", {"member_id": shop.member_id, "count": args.offers, "seed": 1})
    print(f"sandbox seed: {args.offers} offers in {time.perf_counter() - started:.1f} s")
    print(f"database: {connection.vendor}")

    def measured_sync(label: str) -> None:
        bench.control("stats/reset")
        run = start_run(shop)
        began = time.perf_counter()
        sync_shop(run)
        took = time.perf_counter() - began
        calls = bench.calls()
        lists, gets = calls.get("alibaba.product.list.get", 0), calls.get("alibaba.product.get", 0)
        print(
            f"{label:<28} {took:7.2f} s  requests list={lists:>5} get={gets:>6}"
            f"  offers seen={run.offers_seen:>6}"
            f"  new={run.offers_created:>6}  changes={run.changes_written:>5}"
            f"  ({run.offers_seen / took:,.0f} offers/s)"
        )

    measured_sync("first sync")
    for n in range(1, args.rounds + 1):
        report = bench.control(
            "mutate", {"member_id": shop.member_id, "fraction": args.changed, "seed": n}
        )
        touched = set(report["price_changed"]) | set(report["stock_changed"])
        touched |= set(report["created"]) | set(report["delisted"])
        measured_sync(f"incremental #{n} ({len(touched)} touched)")
    measured_sync("incremental, no change")
    print(f"products={Product.objects.count()} change rows={PriceStockChange.objects.count()}")
    bench.close()


if __name__ == "__main__":
    main()
