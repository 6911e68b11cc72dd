"""Benchmark: validate and upload one batch to the sandbox over real HTTP, then retry nothing.

    .venv/bin/python bench/upload_bench.py --items 500

Prints figures (seconds, items/s, add calls); asserts nothing. Own data folder and sandbox.
"""

import argparse
import os
import shutil
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sync_bench import DATA, ROOT, start_sandbox  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--chunk", type=int, default=50)
    args = parser.parse_args()

    shutil.rmtree(DATA, ignore_errors=True)
    DATA.mkdir(parents=True)
    sandbox, url = start_sandbox(DATA / "sandbox.sqlite3")
    os.environ.update(
        ERP_DATA_DIR=str(DATA),
        OPEN1688_GATEWAY=url,
        OPEN1688_RATE_PER_SECOND="100000",
        UPLOAD_CHUNK_SIZE=str(args.chunk),
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp1688.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import requests
    from django.core.management import call_command
    from django.utils import timezone

    from catalog.models import UploadBatch, UploadItem
    from catalog.validation import validate_batch
    from sync.gateway import connect_shop
    from sync.open1688.answers import parse_token
    from sync.upload import run_upload

    call_command("migrate", verbosity=0)
    http = requests.Session()
    member = "b2b-bench0002"
    http.post(
        f"{url}/_sandbox/sellers", json={"member_id": member, "login_id": "b", "name": "上货压测"}
    )
    token = http.post(f"{url}/_sandbox/tokens", json={"app_key": "8688001", "member_id": member})
    shop = connect_shop(parse_token(token.json(), timezone.now()), name="上货压测")
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
    http.post(f"{url}/_sandbox/stats/reset")
    began = time.perf_counter()
    run_upload(batch.pk)
    took = time.perf_counter() - began
    batch.refresh_from_db()
    adds = http.get(f"{url}/_sandbox/stats").json()["calls"].get("alibaba.product.add", 0)
    print(
        f"upload: {took:.2f} s, {batch.items_succeeded / took:.0f} items/s, "
        f"{batch.items_succeeded} succeeded, {batch.items_failed} failed, {adds} add calls "
        f"(chunks of {args.chunk})"
    )
    print(
        "at the default shared limit of 5 requests/s the same batch takes "
        f"{args.items / 5:.0f} s: the limit, not the code, sets the pace"
    )
    sandbox.terminate()


if __name__ == "__main__":
    main()
