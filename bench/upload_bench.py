"""Benchmark: validate and upload one batch to the sandbox over real HTTP, then retry nothing.

    .venv/bin/python bench/upload_bench.py --items 500

Prints figures (seconds, items/s, add calls); asserts nothing. Own data folder and sandbox.
"""

import argparse
import time
from decimal import Decimal

from harness import Bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--chunk", type=int, default=50)
    args = parser.parse_args()

    bench = Bench(UPLOAD_CHUNK_SIZE=str(args.chunk))
    from catalog.models import UploadBatch, UploadItem
    from catalog.validation import validate_batch
    from sync.upload import run_upload

    shop = bench.connected_shop("b2b-bench0002", "上货压测")
    batch = UploadBatch.objects.create(shop=shop, name="bench")
    UploadItem.objects.bulk_create(
        UploadItem(
            batch=batch,
            position=n,
            title=f"2026新款纯棉短袖T恤 压测 {n}",
            category_id=1031910,
            price=Decimal("19.90"),
            stock=100,
            images=["img/ibank/2026/001/002/1_1.jpg"],
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
    invalid = validate_batch(batch)
    print(f"validate {args.items} items: {time.perf_counter() - began:.2f} s, {invalid} invalid")
    bench.control("stats/reset")
    began = time.perf_counter()
    run_upload(batch.pk)
    took = time.perf_counter() - began
    batch.refresh_from_db()
    adds = bench.calls().get("alibaba.product.add", 0)
    print(
        f"upload: {took:.2f} s, {batch.items_succeeded / took:.0f} items/s, "
        f"{batch.items_succeeded} succeeded, {batch.items_failed} failed, {adds} add calls "
        f"(chunks of {args.chunk})"
    )
    print(
        "at the default shared limit of 5 requests/s the same batch takes "
        f"{args.items / 5:.0f} s: the limit, not the code, sets the pace"
    )
    bench.close()


if __name__ == "__main__":
    main()
