"""Benchmark: upload one batch to the sandbox over real HTTP at a shared limit, vs the floor.

    .venv/bin/python bench/upload_bench.py --items 1000 --rate 10

The floor is what the limit alone allows: calls made / rate (one add per item when nothing
fails). Prints a table; asserts nothing. Own data folder and sandbox (limit at both ends).
"""

import argparse
import time
from decimal import Decimal

from harness import Bench, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--chunk", type=int, default=50)
    parser.add_argument("--rate", type=float, default=10.0, help="requests/s (shared limit)")
    args = parser.parse_args()

    bench = Bench(sandbox_rate=args.rate, client_rate=args.rate, UPLOAD_CHUNK_SIZE=str(args.chunk))
    try:
        measure(bench, args)
    finally:
        bench.close()


def measure(bench: Bench, args) -> None:
    from catalog.models import UploadBatch, UploadItem
    from catalog.publishing.batch_validation import validate_batch
    from catalog.publishing.upload import run_upload
    from sync.management.commands.demo_setup import DEMO_ATTRIBUTES, DEMO_CATEGORY

    shop = bench.connected_shop("b2b-bench0002", "上货压测")
    batch = UploadBatch.objects.create(shop=shop, name="bench")
    UploadItem.objects.bulk_create(
        UploadItem(
            batch=batch,
            position=n,
            title=f"2026新款纯棉短袖T恤 压测 {n}",
            category_id=DEMO_CATEGORY,
            price=Decimal("19.90"),
            stock=100,
            images=["img/ibank/2026/001/002/1_1.jpg"],  # put into the photobank once
            attributes=[dict(a) for a in DEMO_ATTRIBUTES],  # what 1688 requires of a 女式T恤
            skus=[
                {
                    "attributes": [{"attributeID": 3216, "attributeValue": c}],
                    "price": "19.90",
                    "stock": 50,
                }
                for c in ("白色", "黑色")
            ],
        )
        for n in range(args.items)
    )
    began = time.perf_counter()
    validate_batch(batch)
    validated = time.perf_counter() - began
    bench.control("stats/reset")
    began = time.perf_counter()
    run_upload(batch.pk)
    took = time.perf_counter() - began
    batch.refresh_from_db()
    stats = bench.stats()
    calls = stats["calls"]
    adds = calls.get("alibaba.product.add", 0) + calls.get("alibaba.new.product.add", 0)
    floor = stats["total"] / args.rate
    print(f"\n{args.items:,} items, shared limit {args.rate:.0f} requests/s, "
          f"chunks of {args.chunk}; validation took {validated:.1f} s (not counted)")  # fmt: skip
    table(
        ["items", "accepted (in audit or published)", "failed", "calls (add)", "seconds",
         "floor (calls / rate)", "over the floor", "quota errors"],
        [[args.items, batch.items_succeeded + batch.items_auditing, batch.items_failed,
          f"{stats['total']} ({adds})",
          took, floor, f"{100 * (took - floor) / floor:+.1f} %",
          stats.get("refused", {}).get("gw.QosAppFrequencyLimit", 0)]],
    )  # fmt: skip


if __name__ == "__main__":
    main()
