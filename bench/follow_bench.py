"""Benchmark: following suppliers: a supplier's move to the own offer written on 1688.

    .venv/bin/python bench/follow_bench.py --changes 30 --linked 10000 --speedup 30

The product runs as the Procfile runs it: an RQ worker with its scheduler and the push channel
(`watch_push`, the sandbox's WebSocket) in their own processes; the sandbox moves supplier
offers (`POST /_sandbox/offers/move`) and this process watches its own offers' modify stamps
on the sandbox (`GET /_sandbox/offers`, not a gateway call) for the write.

1. push: `--changes` own offers, each linked to a supplier offer (catalog/follow/services.py
   `link_offer`, SKUs mapped by hand with `map_skus`) and brought in step by the shop's rule
   first; then each supplier offer's price moves +10 % (inside the 30 % approval guard) at a
   random moment; delay = own offer written - supplier move.
2. requests: bursts of 20 moves on `--bursts` supplier offers inside the coalescing window;
   the sandbox's counters by API give the calls per own offer.
3. poll: push off; the watch poll (catalog/watch/services.py `poll_due`, the cron's job) on a
   schedule clock `--speedup` times the wall clock (WATCH_POLL_MINUTES and the cron's 5 minutes
   scaled, and the cache with them); delay = (supplier read - move) × speedup + (write - read),
   the wait in scheduled time plus the work as measured.
4. dry run: the rule over `--linked` linked offers of a second shop (its own offers synced from
   the sandbox; the supplier snapshots copies of the real reads of part 1), timed, with the
   sandbox's call counter read before and after.
"""

import argparse
import random
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import requests
from harness import DATA, ROOT, Bench, table

OWN, SUPPLIER, DRY_OWN = "b2b-benchfollow1", "b2b-benchsupplier", "b2b-benchfollow2"
POLL_MINUTES, CRON_MINUTES, CACHE_SECONDS = 30.0, 5.0, 300.0  # the product's defaults
WRITES = ("edit", "update", "modify", "expire", "repost")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=30, help="own offers moved, per part")
    parser.add_argument("--bursts", type=int, default=5, help="supplier offers given 20 moves")
    parser.add_argument("--linked", type=int, default=10_000, help="linked offers, dry run")
    parser.add_argument("--speedup", type=float, default=30.0, help="poll schedule clock")
    parser.add_argument("--spread", type=float, default=60.0, help="seconds the moves span")
    args = parser.parse_args()
    bench = Bench()
    children: list[subprocess.Popen] = []
    try:
        measure(bench, args, children)
    finally:
        for child in children:
            stop(child)
        bench.close()


def start(*command: str) -> subprocess.Popen:
    log = open(DATA / f"{command[0]}.log", "a")  # noqa: SIM115 (kept open for the child)
    return subprocess.Popen(
        [sys.executable, "manage.py", *command], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )


def stop(child: subprocess.Popen) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()


def measure(bench: Bench, args, children: list) -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from catalog.follow.engine import coalesce_seconds
    from catalog.shops.clients import make_client
    from sync.catalog_sync import start_run, sync_shop

    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "x")
    shop = bench.connected_shop(OWN, "跟价压测")
    bench.control("sellers", {"member_id": SUPPLIER, "name": "压测货源厂"})
    own_ids = bench.control("seed", {"member_id": OWN, "count": 400, "seed": 11})["product_ids"]
    supplier_ids = bench.control("seed", {"member_id": SUPPLIER, "count": 400, "seed": 12})
    sync_shop(start_run(shop))
    with make_client() as client:
        pairs = link_pairs(user, shop, client, own_ids, supplier_ids["product_ids"], args.changes)
    settings_note = f"coalescing window {coalesce_seconds():.0f} s"
    children.append(start("rqworker", "default", "sync", "upload", "--with-scheduler"))
    align(bench, user, shop, pairs)

    push = bench.control("push", {"app_key": settings.OPEN1688_APP_KEY, "websocket": True})
    channel = start("watch_push", "--url", push["ws_url"])
    children.append(channel)
    time.sleep(3)  # connected, replayed
    pushed = timed_moves(bench, pairs, args.spread, seed=1)
    bursts = burst_requests(bench, pairs[: args.bursts])
    stop(channel)
    bench.control("push", {"app_key": settings.OPEN1688_APP_KEY, "enabled": False})
    polled = poll_moves(bench, pairs, args)

    print(f"\n{len(pairs)} own offers linked to supplier offers priced per SKU, rule: price = "
          f"supplier × 1.20, approval above a 30 % move, {settings_note}; a worker with its "
          f"scheduler and the push channel in their own processes (2-core machine, shared: "
          f"wall-clock figures are noisy)")  # fmt: skip
    interval = POLL_MINUTES * 60
    table(
        ["path", "changes written", "delay p50", "delay p95", "max", "target p95"],
        [["push (WebSocket)", f"{len(pushed.delays)} / {pushed.moves}",
          f"{p(pushed.delays, 50):.1f} s", f"{p(pushed.delays, 95):.1f} s",
          f"{max(pushed.delays, default=0):.1f} s", "≤ 60 s"],
         ["poll only (scheduled time)", f"{len(polled.delays)} / {polled.moves}",
          f"{p(polled.delays, 50) / 60:.1f} min", f"{p(polled.delays, 95) / 60:.1f} min",
          f"{max(polled.delays, default=0) / 60:.1f} min",
          f"≤ {POLL_MINUTES:.0f} min (one poll interval)"]],
    )  # fmt: skip
    print(f"\npoll: schedule clock {args.speedup:.0f}× the wall clock (poll interval "
          f"{interval / args.speedup:.0f} s, cron every {CRON_MINUTES * 60 / args.speedup:.0f} s "
          f"real); p95 / interval = {p(polled.delays, 95) / interval:.2f}")  # fmt: skip
    table(
        ["burst", "own offers", "moves each", "own writes / offer", "own reads / offer",
         "supplier reads / offer", "follow changes / offer", "target"],
        [["20 moves inside the window", bursts["offers"], 20, bursts["writes"],
          bursts["reads"], bursts["supplier_reads"], bursts["changes"],
          "≤ 1 read + 1 write per own offer"]],
    )  # fmt: skip
    print("calls by API during the bursts: " + ", ".join(
        f"{name} {count}" for name, count in sorted(bursts["calls"].items())))  # fmt: skip
    dry_run(bench, user, pairs, args.linked)


# --- setting up ------------------------------------------------------------------------------


def link_pairs(user, shop, client, own_ids, supplier_ids, count: int) -> list[tuple]:
    """(own Product, supplier offer id) pairs: own offers priced per SKU linked to supplier
    offers priced per SKU, own SKU i mapped to supplier SKU i (mod their count)."""
    from catalog.follow import selectors
    from catalog.follow.services import link_offer, map_skus
    from catalog.models import Product

    own = [
        p
        for p in Product.objects.filter(shop=shop, offer_id__in=own_ids, status="published")
        .prefetch_related("skus")
        .order_by("offer_id")
        if p.quote_type == 1 and p.skus.all()
    ]
    pairs = []
    suppliers = iter(supplier_ids)
    for product in own:
        if len(pairs) == count:
            break
        for supplier_id in suppliers:
            link = link_offer(user=user, product=product, ref=supplier_id, client=client)
            watched = selectors.watched(supplier_id)
            offered = selectors.supplier_skus(watched)
            prices = [s.get("price") for s in ((watched.snapshot or {}).get("skus") or {}).values()]
            if link.watch_error or not offered or None in prices:
                link.delete()
                continue
            mapping = {
                sku.pk: offered[i % len(offered)].sku_id for i, sku in enumerate(product.skus.all())
            }
            map_skus(user=user, link=link, mapping=mapping)
            pairs.append((product, supplier_id))
            break
    if len(pairs) < count:
        raise SystemExit(f"only {len(pairs)} own offers could be linked")
    return pairs


def align(bench: Bench, user, shop, pairs) -> None:
    """The shop's rule, and every own offer brought in step once: a first follow may move a
    price a lot (the own offers were priced on their own), so the approval guard is lifted
    for it and what still waits is approved, then the guard is set back."""
    from catalog.follow import rules
    from catalog.follow.services import approve_change, follow_now
    from catalog.models.live_edits import LiveEdit

    rules.set_rule(user=user, shop=shop, margin_percent="20", approval_percent="999",
                   max_changes_per_day=1000)  # fmt: skip
    follow_now(user=user, shop=shop)
    settle(timeout=300)
    for operation in LiveEdit.objects.filter(status=LiveEdit.Status.AWAITING):
        approve_change(user=user, operation=operation)
    settle(timeout=300)
    rules.set_rule(user=user, shop=shop, approval_percent="30")


def settle(timeout: float) -> None:
    """Wait until the default queue is idle (nothing queued, started or scheduled), no follow
    is due and no live edit is queued or running (one left confirming is settled by the
    minute job, which does not run here)."""
    import django_rq
    from rq.registry import ScheduledJobRegistry, StartedJobRegistry

    from catalog.follow.engine import DUE_KEY
    from catalog.models.live_edits import LiveEdit

    busy = (LiveEdit.Status.QUEUED, LiveEdit.Status.RUNNING)
    queue = django_rq.get_queue("default")
    registries = (StartedJobRegistry(queue=queue), ScheduledJobRegistry(queue=queue))
    deadline = time.time() + timeout
    while time.time() < deadline:
        idle = (
            queue.count == 0
            and all(registry.count == 0 for registry in registries)
            and not queue.connection.zcard(DUE_KEY)
            and not LiveEdit.objects.filter(status__in=busy).exists()
        )
        if idle:
            return
        time.sleep(0.5)
    raise SystemExit("follows did not settle")


# --- measuring -------------------------------------------------------------------------------


class Moves:
    def __init__(self) -> None:
        self.moves = 0
        self.delays: list[float] = []


def stamps(http: requests.Session, url: str) -> dict[int, str]:
    answer = http.get(f"{url}/_sandbox/offers", params={"member_id": OWN}, timeout=30)
    return {o["productID"]: o["lastUpdateTime"] for o in answer.json()["offers"]}


def run_moves(bench: Bench, pairs, spread: float, seed: int, factor: str, wait: float):
    """Move each pair's supplier price by `factor` at a random moment within `spread` s (in a
    thread) while the own offers' modify stamps on the sandbox are watched every 0.2 s.
    Returns ({own offer id: move time}, {own offer id: first time seen written})."""
    rng = random.Random(seed)
    plan = sorted((rng.uniform(0, spread), product.offer_id, s) for product, s in pairs)
    moved: dict[int, float] = {}

    def mover() -> None:
        http, began = requests.Session(), time.time()
        for at, own_id, supplier_id in plan:
            time.sleep(max(0.0, began + at - time.time()))
            moved[own_id] = time.time()
            body = {"product_id": supplier_id, "price_factor": factor}
            http.post(f"{bench.url}/_sandbox/offers/move", json=body, timeout=30)

    before = stamps(bench.http, bench.url)
    thread = threading.Thread(target=mover)
    thread.start()
    seen = watch_writes(bench, [own_id for _at, own_id, _s in plan], before, spread + wait)
    thread.join()
    return moved, seen


def watch_writes(bench: Bench, own_ids, before: dict, timeout: float) -> dict[int, float]:
    """{own offer id: when its modify stamp on the sandbox was first seen changed}."""
    seen: dict[int, float] = {}
    deadline = time.time() + timeout
    while len(seen) < len(own_ids) and time.time() < deadline:
        now, current = time.time(), stamps(bench.http, bench.url)
        for own_id in own_ids:
            if own_id not in seen and current.get(own_id) != before.get(own_id):
                seen[own_id] = now
        time.sleep(0.2)
    return seen


def timed_moves(bench: Bench, pairs, spread: float, seed: int) -> Moves:
    moved, seen = run_moves(bench, pairs, spread, seed, "1.10", wait=180)
    result = Moves()
    result.moves = len(moved)
    result.delays = sorted(seen[o] - moved[o] for o in seen if o in moved)
    settle(timeout=120)
    return result


def burst_requests(bench: Bench, pairs) -> dict:
    """20 moves on each supplier offer back to back (inside the coalescing window), then the
    sandbox's counters once everything settled."""
    from catalog.models.live_edits import LiveEdit

    first_change = LiveEdit.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    bench.http.post(f"{bench.url}/_sandbox/stats/reset")
    before = stamps(bench.http, bench.url)
    for _round in range(20):
        for _product, supplier_id in pairs:
            bench.control("offers/move", {"product_id": supplier_id, "price_factor": "1.005"})
    watch_writes(bench, [product.offer_id for product, _s in pairs], before, 120)
    time.sleep(5)
    settle(timeout=120)
    calls = bench.calls()
    own = len(pairs)
    writes = sum(n for name, n in calls.items() if any(w in name for w in WRITES))
    reads = sum(n for name, n in calls.items() if name.startswith("alibaba.product.get"))
    supplier = calls.get("product.search.queryProductDetail", 0)
    changes = LiveEdit.objects.filter(pk__gt=first_change, origin=LiveEdit.Origin.FOLLOW).count()
    return {
        "offers": own,
        "writes": round(writes / own, 2),
        "reads": round(reads / own, 2),
        "supplier_reads": round(supplier / own, 2),
        "changes": round(changes / own, 2),
        "calls": calls,
    }


def poll_moves(bench: Bench, pairs, args) -> Moves:
    """Moves seen by the poll alone, on the scaled schedule clock."""
    from django.conf import settings
    from django.db import connection

    from catalog.models import PriceStockChange
    from catalog.watch.services import forget_cached, poll_due

    settings.WATCH_POLL_MINUTES = POLL_MINUTES / args.speedup
    settings.WATCH_CACHE_SECONDS = CACHE_SECONDS / args.speedup
    tick = CRON_MINUTES * 60 / args.speedup
    interval = POLL_MINUTES * 60 / args.speedup
    for _product, supplier_id in pairs:  # cached by the worker for its own (longer) time
        forget_cached(supplier_id)
    poll_due()  # every supplier offer read once as the clock starts
    stop_polling = threading.Event()

    def polling() -> None:
        while not stop_polling.wait(tick):
            poll_due()
        connection.close()

    poller = threading.Thread(target=polling)
    poller.start()
    moved, seen = run_moves(bench, pairs, 2 * interval, seed=2, factor="1.08",
                            wait=interval + tick + 120)  # fmt: skip
    stop_polling.set()
    poller.join()
    result = Moves()
    result.moves = len(moved)
    supplier_of = {product.offer_id: s for product, s in pairs}
    for own_id, written in seen.items():
        at = datetime.fromtimestamp(moved[own_id], tz=UTC)
        row = (
            PriceStockChange.objects.filter(
                watched_offer__offer_id=supplier_of[own_id], observed_at__gte=at
            )
            .order_by("observed_at")
            .first()
        )
        if row is None:
            continue
        read = row.observed_at.timestamp()
        result.delays.append(max(0.0, read - moved[own_id]) * args.speedup + (written - read))
    result.delays.sort()
    settle(timeout=120)
    return result


def dry_run(bench: Bench, user, pairs, linked: int) -> None:
    """The rule over `linked` linked offers of a second shop: no 1688 call."""
    from catalog.follow import rules, selectors
    from catalog.models import Product, SkuLink, SourceLink, WatchedOffer
    from sync.catalog_sync import start_run, sync_shop

    shop = bench.connected_shop(DRY_OWN, "跟价试算压测")
    bench.control("seed", {"member_id": DRY_OWN, "count": linked, "seed": 13})
    began = time.time()
    sync_shop(start_run(shop))
    synced = time.time() - began
    templates = list(
        WatchedOffer.objects.filter(offer_id__in=[s for _p, s in pairs]).values_list(
            "snapshot", flat=True
        )
    )
    products = list(Product.objects.filter(shop=shop).prefetch_related("skus").order_by("pk"))
    base = 9_000_000_000_000  # supplier ids of the copies: never an offer of the sandbox
    WatchedOffer.objects.bulk_create(
        [
            WatchedOffer(offer_id=base + i, snapshot=templates[i % len(templates)], active=False)
            for i in range(len(products))
        ],
        batch_size=1000,
    )
    links = SourceLink.objects.bulk_create(
        [
            SourceLink(product=product, supplier_offer_id=base + i, origin="manual")
            for i, product in enumerate(products)
        ],
        batch_size=1000,
    )
    sku_links = []
    for i, (product, link) in enumerate(zip(products, links, strict=True)):
        supplier_skus = list(templates[i % len(templates)].get("skus") or {})
        for j, sku in enumerate(product.skus.all()):
            if supplier_skus:
                supplier_sku = int(supplier_skus[j % len(supplier_skus)])
                sku_links.append(
                    SkuLink(link=link, sku=sku, supplier_sku_id=supplier_sku, origin="manual")
                )
    SkuLink.objects.bulk_create(sku_links, batch_size=2000)
    rule = rules.set_rule(user=user, shop=shop, margin_percent="25", round_to="0.1",
                          stock_buffer=2)  # fmt: skip
    rows = []
    for attempt in ("first", "second"):
        calls_before = bench.stats()["total"]
        began = time.time()
        result = selectors.dry_run(rule)
        took = time.time() - began
        calls = bench.stats()["total"] - calls_before
        held = sum(1 for row in result.rows if row.hold)
        rows.append([attempt, result.offers, len(result.rows), held, result.unwatched,
                     f"{took:.2f} s", calls])  # fmt: skip
    print(f"\ndry run: {len(products):,} own offers synced from the sandbox in {synced:.0f} s "
          f"(not measured), {len(sku_links):,} SKU links; supplier snapshots: copies of the "
          f"{len(templates)} real reads of part 1 (a dry run reads snapshots only)")  # fmt: skip
    table(
        ["run", "linked offers", "would change", "would wait for approval", "no snapshot",
         "seconds", "1688 calls"],
        rows + [["target", f"{linked:,}", "", "", "", "≤ 5 s", 0]],
    )  # fmt: skip


def p(values: list[float], percent: int) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, round(percent / 100 * (len(values) - 1)))]


if __name__ == "__main__":
    main()
