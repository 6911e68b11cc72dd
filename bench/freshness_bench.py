"""Benchmark: freshness: the delay from a change on 1688 to its row in the change log.

    .venv/bin/python bench/freshness_bench.py --offers 2000 --speedup 120 --hours 3

Changes arrive at random (Poisson) at 1 % of the shop per hour; the scheduler's rule
(sync.scheduling.due_shops: each shop every SYNC_INTERVAL_MINUTES, asked every minute) starts
the syncs; every call goes through the shared limiter at the 10 requests/s budget, and the
sandbox enforces the same 10/s.

Scaled, and said so in the output: the shop has `--offers` (not 100,000) offers, with changes
at the same 1 % per hour, and the schedule's clock runs `--speedup` times faster than the
wall clock (a 30-minute interval takes 15 s at 120×). The syncs themselves run in real time at
the real budget. A change's delay = (sync start - change) × speedup + (row written - sync
start), i.e. the wait for the schedule in scheduled time plus the sync's own time as measured.
"""

import argparse
import random
import statistics
import threading
import time
from datetime import UTC, datetime

from harness import Bench, table

BUDGET = 10.0  # requests/s
FULL_SHOP, RATE_PER_HOUR = 100_000, 0.01


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=2000)
    parser.add_argument("--speedup", type=float, default=120.0)
    parser.add_argument("--hours", type=float, default=3.0, help="scheduled hours of changes")
    args = parser.parse_args()
    bench = Bench(sandbox_rate=100_000, client_rate=100_000)
    try:
        measure(bench, args)
    finally:
        bench.close()


def measure(bench: Bench, args) -> None:
    from django.conf import settings

    from catalog.models import PriceStockChange, Product, SyncRun
    from sync.catalog_sync import start_run, sync_shop
    from sync.scheduling import due_shops

    interval_min = settings.SYNC_INTERVAL_MINUTES
    shop = bench.connected_shop("b2b-bench0005", "新鲜度压测")
    bench.control("seed", {"member_id": shop.member_id, "count": args.offers, "seed": 5})
    sync_shop(start_run(shop))  # the first sync, limit lifted (not what is measured)
    # From here on: the 10 requests/s budget at both ends.
    bench.set_sandbox_rate(BUDGET)
    settings.OPEN1688_RATE_PER_SECOND = BUDGET
    settings.SYNC_INTERVAL_MINUTES = interval_min / args.speedup  # the scheduler's clock

    per_second = args.offers * RATE_PER_HOUR / 3600 * args.speedup  # arrivals per real second
    span = args.hours * 3600 / args.speedup
    arrivals: list[tuple[float, list[int]]] = []  # (wall time, offers changed)
    stop = threading.Event()

    def changes() -> None:
        rng = random.Random(5)
        end = time.time() + span
        while not stop.is_set():
            stop.wait(rng.expovariate(per_second))
            if time.time() >= end:
                return
            when = time.time()
            report = bench.control(
                "mutate", {"member_id": shop.member_id, "price": 1, "seed": rng.randrange(10**9)}
            )
            arrivals.append((when, report["price_changed"]))

    feeder = threading.Thread(target=changes)
    feeder.start()
    tick = 60 / args.speedup  # the cron asks every (scheduled) minute
    runs: list[SyncRun] = []
    deadline = time.time() + span + interval_min * 60 / args.speedup + 5
    began = time.time()
    while time.time() < deadline:
        for due in due_shops():
            runs.append(sync_shop(start_run(due)))
        time.sleep(tick)
    stop.set()
    feeder.join()

    delays = []
    for when, offer_ids in arrivals:
        at = datetime.fromtimestamp(when, tz=UTC)
        row = (
            PriceStockChange.objects.filter(
                product__in=Product.objects.filter(shop=shop, offer_id__in=offer_ids),
                observed_at__gte=at,
            )
            .order_by("observed_at")
            .select_related("sync_run")
            .first()
        )
        if row is None or row.sync_run is None:
            continue
        started = row.sync_run.started_at
        wait = (started - at).total_seconds() * args.speedup
        work = (row.observed_at - started).total_seconds()
        delays.append(max(0.0, wait) + work)
    took = time.time() - began
    requests = sum(r.requests_made for r in runs)
    delays.sort()
    interval_s = interval_min * 60

    def minutes(seconds: float) -> str:
        return f"{seconds / 60:.1f} min"

    p95 = delays[min(len(delays) - 1, round(0.95 * (len(delays) - 1)))] if delays else 0
    print(f"\nscaled: a shop of {args.offers:,} offers (not {FULL_SHOP:,}), changes at "
          f"{RATE_PER_HOUR:.0%} of it per hour, schedule clock {args.speedup:.0f}× the wall "
          f"clock; {len(arrivals)} changes over {args.hours:.1f} scheduled hours, "
          f"{len(runs)} syncs, {requests} requests in {took:.0f} s "
          f"({requests / took:.2f}/s of the {BUDGET:.0f}/s budget)")  # fmt: skip
    table(
        ["interval (default)", "changes matched", "delay p50", "delay p95", "p95 / interval",
         "target p95"],
        [[f"{interval_min} min", f"{len(delays)} / {len(arrivals)}",
          minutes(statistics.median(delays)) if delays else "-", minutes(p95),
          f"{p95 / interval_s:.2f}", f"≤ {minutes(2 * interval_s)}"]],
    )  # fmt: skip
    # What the budget allows at full scale: a run every I seconds reads one list page per 20
    # changed offers (at least one) and a detail per changed offer.
    changed_per_s = FULL_SHOP * RATE_PER_HOUR / 3600

    def calls_per_run(seconds: float) -> float:
        changed = changed_per_s * seconds
        return max(1.0, changed / 20) + changed

    shortest = next(s for s in range(1, 3600) if calls_per_run(s) <= BUDGET * s)
    per_run = calls_per_run(interval_s)
    print(f"\nat {FULL_SHOP:,} offers ({changed_per_s * 3600:,.0f} changes/h): a run every "
          f"{interval_min} min makes ~{per_run:,.0f} calls ({per_run / BUDGET:.0f} s at "
          f"{BUDGET:.0f}/s), {100 * per_run / (BUDGET * interval_s):.1f} % of the interval's "
          f"budget, so the budget carries ~{BUDGET * interval_s / per_run:.0f} such shops; "
          f"for one shop it allows an interval down to {shortest} s (the scheduler asks every "
          f"minute, so 1 min is the shortest in practice; p95 then ≈ 1 min + the run)")  # fmt: skip


if __name__ == "__main__":
    main()
