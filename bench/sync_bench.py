"""Benchmark: first sync and incremental syncs of one shop against the sandbox over real HTTP.

    .venv/bin/python bench/sync_bench.py --offers 2000 --changed 0.01

Prints figures (requests, seconds, offers/s, change rows); asserts nothing. Uses its own data
folder (data/bench) and its own sandbox on a free port, so it never touches the demo data.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "bench"


def start_sandbox(db: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "serve",
            "--port",
            "0",
            "--db",
            str(db),
            "--rate",
            "100000",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline().strip()
    return proc, line.split()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=2000)
    parser.add_argument("--changed", type=float, default=0.01, help="fraction mutated per round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    shutil.rmtree(DATA, ignore_errors=True)
    DATA.mkdir(parents=True)
    sandbox, url = start_sandbox(DATA / "sandbox.sqlite3")
    os.environ.update(
        ERP_DATA_DIR=str(DATA), OPEN1688_GATEWAY=url, OPEN1688_RATE_PER_SECOND="100000"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp1688.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import requests
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from catalog.models import PriceStockChange, Product
    from sync.catalog_sync import start_run, sync_shop
    from sync.gateway import connect_shop
    from sync.open1688.answers import parse_token

    call_command("migrate", verbosity=0)
    http = requests.Session()
    member = "b2b-bench0001"
    http.post(
        f"{url}/_sandbox/sellers", json={"member_id": member, "login_id": "bench", "name": "压测店"}
    )
    started = time.perf_counter()
    http.post(f"{url}/_sandbox/seed", json={"member_id": member, "count": args.offers, "seed": 1})
    print(f"sandbox seed: {args.offers} offers in {time.perf_counter() - started:.1f} s")
    token = http.post(
        f"{url}/_sandbox/tokens",
        json={"app_key": os.environ.get("OPEN1688_APP_KEY", "8688001"), "member_id": member},
    ).json()
    shop = connect_shop(parse_token(token, timezone.now()), name="压测店")

    def measured_sync(label: str) -> None:
        http.post(f"{url}/_sandbox/stats/reset")
        run = start_run(shop)
        began = time.perf_counter()
        sync_shop(run)
        took = time.perf_counter() - began
        calls = http.get(f"{url}/_sandbox/stats").json()["calls"]
        lists, gets = calls.get("alibaba.product.list.get", 0), calls.get("alibaba.product.get", 0)
        print(
            f"{label:<28} {took:7.2f} s  requests list={lists:>5} get={gets:>6}"
            f"  offers seen={run.offers_seen:>6}"
            f"  new={run.offers_created:>6}  changes={run.changes_written:>5}"
            f"  ({run.offers_seen / took:,.0f} offers/s)"
        )

    print(f"database: {connection.vendor}")
    measured_sync("first sync")
    for n in range(1, args.rounds + 1):
        report = http.post(
            f"{url}/_sandbox/mutate",
            json={"member_id": member, "fraction": args.changed, "seed": n},
        ).json()
        touched = len(
            set(report["price_changed"]) | set(report["stock_changed"]) | set(report["created"])
        )
        measured_sync(f"incremental #{n} ({touched} touched)")
    measured_sync("incremental, no change")
    print(f"products={Product.objects.count()} change rows={PriceStockChange.objects.count()}")
    sandbox.terminate()


if __name__ == "__main__":
    main()
