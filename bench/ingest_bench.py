"""Benchmark: ingest, from 1688 answers to committed rows, next to the raw driver's ceiling.

    .venv/bin/python bench/ingest_bench.py --offers 5000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/ingest_bench.py

1. End to end over HTTP (keep-alive, limit lifted): a first sync of the sandbox shop, then an
   incremental sync after every offer changed; every answer is recorded on the way.
2. Replayed WITHOUT HTTP: the same sync code (sync_shop, the real client: signing, parsing)
   fed the recorded answers by a stand-in session, so the database path is what is measured:
   into an empty mirror (inserts), then the incremental answers (updates + change rows).
3. The floor of the client: the first sync's calls through the real client fed the recorded
   answers, without and with the typed reading, nothing written; and the same calls to the
   sandbox over HTTP, nothing parsed or written (the sandbox's own answer rate, which the
   end-to-end sync is compared with).
4. The ceiling: the same rows (same SKUs per offer, same JSON) written by the raw driver in
   one transaction, prepared before the clock (JSON columns as their text, as the sync sends
   them): executemany upserts (INSERT ... ON CONFLICT DO UPDATE) on SQLite; COPY into a
   temporary table, then one INSERT ... SELECT ... ON CONFLICT, on PostgreSQL (its
   executemany, a statement per row, is slower than the sync itself).
Prints a table; asserts nothing. Own data folder and sandbox (bench/harness.py).
"""

import argparse
import time

import requests
from harness import Bench, database_label, table

KEY_FIELDS = {"pageNo", "productID"}


def _key(url: str, fields: dict) -> tuple:
    api = url.rstrip("/").split("/")[-2]
    return (api, *sorted((k, v) for k, v in fields.items() if k in KEY_FIELDS))


class RecordingSession(requests.Session):
    """A real session that keeps every answer's body by (API, page or offer id), in call
    order (page 1 of the window since the cursor, then page 1 of the overlap's count)."""

    def __init__(self):
        super().__init__()
        self.answers: dict[tuple, list[bytes]] = {}

    def post(self, url, data=None, **kwargs):
        response = super().post(url, data=data, **kwargs)
        self.answers.setdefault(_key(url, data or {}), []).append(response.content)
        return response


class ReplaySession:
    """Stands in for requests.Session: answers each call with the recorded body, no HTTP."""

    def __init__(self, answers: dict[tuple, list[bytes]]):
        self.answers = {key: list(bodies) for key, bodies in answers.items()}

    def post(self, url, data=None, **kwargs):
        response = requests.Response()
        response.status_code = 200
        bodies = self.answers[_key(url, data or {})]
        response._content = bodies.pop(0) if len(bodies) > 1 else bodies[0]
        response.headers["Content-Type"] = "application/json;charset=UTF-8"
        response.url = url
        return response

    def close(self):
        pass


def sync_once(shop, session) -> tuple[float, object]:
    from catalog.shops.clients import make_client
    from sync.catalog_sync import start_run, sync_shop

    run = start_run(shop)
    with make_client(session=session) as client:
        began = time.perf_counter()
        sync_shop(run, client=client)
    return time.perf_counter() - began, run


def wipe(shop) -> None:
    from django.db import transaction

    from catalog.models import PriceStockChange, Product, Shop, Sku

    with transaction.atomic():
        for rows in (
            PriceStockChange.objects.filter(shop=shop),
            Sku.objects.filter(product__shop=shop),
            Product.objects.filter(shop=shop),
        ):
            rows._raw_delete(rows.db)
        Shop.objects.filter(pk=shop.pk).update(sync_cursor=None, pending_offers={})
    shop.refresh_from_db()


def store_only(shop, answers: dict[tuple, bytes]) -> float:
    """Seconds of the sync's store path alone (the lookup, the upserts, the change rows, one
    transaction per PAGES_PER_COMMIT pages of 20, as a long run commits) fed details parsed
    before the clock starts."""
    import json
    from decimal import Decimal

    from django.db import transaction

    from catalog.models import SyncRun
    from open1688.answers import parse_product_detail
    from open1688.transport import Answer
    from sync import ingest
    from sync.catalog_sync import PAGE_SIZE, PAGES_PER_COMMIT, start_run

    details = [
        # As the transport hands it over: the object, and the bytes it was read from.
        parse_product_detail(Answer(json.loads(bodies[0], parse_float=Decimal), bodies[0]))
        for key, bodies in sorted(answers.items())
        if key[0] == "alibaba.product.get"
    ]
    wipe(shop)
    run = start_run(shop, SyncRun.Kind.FULL)
    began = time.perf_counter()
    size = PAGE_SIZE * PAGES_PER_COMMIT
    for start in range(0, len(details), size):
        part = details[start : start + size]
        with transaction.atomic():
            known = ingest.known_offers(shop.pk, [d.product_id for d in part])
            ingest.write(run, shop, part, known)
    return time.perf_counter() - began


def client_only(shop, answers: dict[tuple, list[bytes]], *, typed: bool, session=None) -> float:
    """Seconds of the first sync's calls through the real client alone, fed the recorded
    answers: signing, the limiter, the transport and the JSON decoding (with Decimal prices),
    and with `typed` the typed reading of each answer too; nothing written. What no ingest
    through this client can go below. With a `session`, the same calls go to the sandbox over
    HTTP instead (its own answer rate)."""
    from catalog.shops.clients import make_client
    from open1688.answers import parse_product_detail, parse_product_list
    from open1688.apis import PRODUCT_NAMESPACE

    calls = []
    for key in sorted(answers):
        api, *fields = key
        params = {"webSite": "1688"}
        for name, value in fields:
            params[name] = value
        parse = parse_product_detail if api == "alibaba.product.get" else parse_product_list
        calls.append((api, params, parse))
    with make_client(session=session or ReplaySession(answers)) as client:
        began = time.perf_counter()
        for api, params, parse in calls:
            answer = client.call(PRODUCT_NAMESPACE, api, params, access_token=shop.access_token)
            if typed:
                parse(answer)
        return time.perf_counter() - began


def prepared_rows(shop):
    """The mirror's rows as executemany parameters (prepared by the fields, before timing)."""
    from django.db import connection

    from catalog.models import Product, Sku

    def columns(model, skip):
        return [f for f in model._meta.concrete_fields if f.column not in skip]

    def prepared(field, value):
        # JSON as the text the sync sends (PostgreSQL's adapter would encode it in the clock).
        value = field.get_db_prep_save(value, connection)
        dumps = getattr(value, "dumps", None)
        return dumps(value.obj) if dumps is not None else value

    product_fields = columns(Product, {"id"})
    sku_fields = columns(Sku, {"id", "product_id"})
    products = list(Product.objects.filter(shop=shop).order_by("offer_id"))
    offer_of = {p.pk: p.offer_id for p in products}
    product_rows = [
        tuple(prepared(f, getattr(p, f.attname)) for f in product_fields) for p in products
    ]
    skus = list(Sku.objects.filter(product__shop=shop).order_by("product_id", "sku_id"))
    sku_rows = [
        (offer_of[s.product_id], *(prepared(f, getattr(s, f.attname)) for f in sku_fields))
        for s in skus
    ]  # fmt: skip
    return product_fields, product_rows, sku_fields, sku_rows


def ceiling(shop, prepared) -> tuple[float, float]:
    """Seconds of the raw upserts: into empty tables (insert), then again (update)."""
    from django.db import connection, transaction

    product_fields, product_rows, sku_fields, sku_rows = prepared
    quote = connection.ops.quote_name
    p_cols = [f.column for f in product_fields]
    s_cols = ["product_id"] + [f.column for f in sku_fields]

    def upsert(table_name: str, cols: list[str], unique: tuple[str, str]) -> str:
        names, marks = ", ".join(map(quote, cols)), ", ".join(["%s"] * len(cols))
        sets = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in cols if c not in unique)
        return (
            f"INSERT INTO {table_name} ({names}) VALUES ({marks}) "  # noqa: S608 (model names)
            f"ON CONFLICT ({', '.join(unique)}) DO UPDATE SET {sets}"
        )

    product_sql = upsert("catalog_product", p_cols, ("shop_id", "offer_id"))
    sku_sql = upsert("catalog_sku", s_cols, ("product_id", "sku_id"))

    def write() -> float:
        began = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(product_sql, product_rows)
            cursor.execute("SELECT offer_id, id FROM catalog_product WHERE shop_id = %s", [shop.pk])
            ids = dict(cursor.fetchall())
            cursor.executemany(sku_sql, [(ids[row[0]], *row[1:]) for row in sku_rows])
        return time.perf_counter() - began

    def copied(cursor, table: str, cols: list[str], rows, unique: tuple[str, str]) -> None:
        """PostgreSQL's fastest way in for the same upsert: COPY into a temporary table, then
        one INSERT ... SELECT ... ON CONFLICT (one statement per executemany row is not a
        ceiling there: it is slower than the sync's own write)."""
        names = ", ".join(map(quote, cols))
        sets = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in cols if c not in unique)
        cursor.execute(
            f"CREATE TEMP TABLE ceiling_rows ON COMMIT DROP AS SELECT {names} "  # noqa: S608
            f"FROM {table} WITH NO DATA"
        )
        with cursor.copy(f"COPY ceiling_rows ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM ceiling_rows "  # noqa: S608
            f"ON CONFLICT ({', '.join(unique)}) DO UPDATE SET {sets}"
        )
        cursor.execute("DROP TABLE ceiling_rows")

    def write_copy() -> float:
        began = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            copied(cursor, "catalog_product", p_cols, product_rows, ("shop_id", "offer_id"))
            cursor.execute("SELECT offer_id, id FROM catalog_product WHERE shop_id = %s", [shop.pk])
            ids = dict(cursor.fetchall())
            rows = ((ids[row[0]], *row[1:]) for row in sku_rows)
            copied(cursor, "catalog_sku", s_cols, rows, ("product_id", "sku_id"))
        return time.perf_counter() - began

    wipe(shop)
    fastest = write_copy if connection.vendor == "postgresql" else write
    return fastest(), fastest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=5000)
    parser.add_argument("--profile", action="store_true", help="cProfile the replays")
    args = parser.parse_args()

    bench = Bench()
    try:
        measure(bench, args)
    finally:
        bench.close()


def measure(bench: Bench, args) -> None:
    from catalog.models import PriceStockChange, Sku

    db = database_label()
    shop = bench.connected_shop("b2b-bench0003", "入库压测")
    bench.control("seed", {"member_id": shop.member_id, "count": args.offers, "seed": 3})

    first = RecordingSession()
    http_first, run = sync_once(shop, first)
    n_first = run.offers_seen
    skus = Sku.objects.filter(product__shop=shop).count()
    half = args.offers // 2
    bench.control(
        "mutate", {"member_id": shop.member_id, "price": half, "stock": args.offers - half}
    )
    second = RecordingSession()
    http_second, run = sync_once(shop, second)
    n_second = run.details_fetched
    changes_http = run.changes_written

    wipe(shop)
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    replay_first, run = sync_once(shop, ReplaySession(first.answers))
    assert run.offers_created == n_first, (run.offers_created, n_first)
    if profiler:
        profiler.disable()
        profiler.print_stats("cumulative")
        profiler = cProfile.Profile()
        profiler.enable()
    replay_second, run = sync_once(shop, ReplaySession(second.answers))
    if profiler:
        profiler.disable()
        profiler.print_stats("tottime")
    assert run.changes_written == changes_http, (run.changes_written, changes_http)
    rows_changes = PriceStockChange.objects.filter(shop=shop).count()

    calls_only = client_only(shop, first.answers, typed=False)
    calls_parsed = client_only(shop, first.answers, typed=True)
    calls_http = client_only(shop, first.answers, typed=False, session=requests.Session())
    store_path = store_only(shop, first.answers)
    prepared = prepared_rows(shop)
    raw_insert, raw_update = ceiling(shop, prepared)

    print(f"\n{db}: {n_first:,} offers, {skus:,} SKUs ({skus / n_first:.1f} per offer), "
          f"incremental: {n_second:,} offers changed, {rows_changes:,} change rows")  # fmt: skip
    rate = lambda n, s: n / s  # noqa: E731
    table(
        ["path", "offers", "seconds", "offers/s", "% of raw ceiling"],
        [
            ["replayed first sync (inserts)", n_first, replay_first,
             rate(n_first, replay_first), f"{100 * raw_insert / replay_first:.1f} %"],
            ["client calls alone (signed, limited, JSON decoded)", n_first, calls_only,
             rate(n_first, calls_only), ""],
            ["client calls and typed answers (nothing written)", n_first, calls_parsed,
             rate(n_first, calls_parsed), ""],
            ["the sandbox's answers alone over HTTP (same calls, nothing parsed or written)",
             n_first, calls_http, rate(n_first, calls_http), ""],
            ["store path only (parsed details, inserts)", n_first, store_path,
             rate(n_first, store_path), f"{100 * raw_insert / store_path:.1f} %"],
            ["replayed incremental (all changed)", n_second, replay_second,
             rate(n_second, replay_second), f"{100 * raw_update / replay_second:.1f} %"],
            ["raw driver upsert, insert", n_first, raw_insert, rate(n_first, raw_insert), ""],
            ["raw driver upsert, update", n_first, raw_update, rate(n_first, raw_update), ""],
            ["HTTP keep-alive: first sync", n_first, http_first, rate(n_first, http_first), ""],
            ["HTTP keep-alive: incremental", n_second, http_second,
             rate(n_second, http_second), ""],
        ],
    )  # fmt: skip
    print(f"\nend to end over HTTP, first sync: {http_first / calls_http:.2f}× the sandbox's own "
          f"time for the same calls (target ≤ 2×)")  # fmt: skip


if __name__ == "__main__":
    main()
