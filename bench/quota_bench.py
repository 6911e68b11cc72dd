"""Benchmark: the shared rate limit: 1 and 4 workers at a 10 requests/s limit.

    .venv/bin/python bench/quota_bench.py --seconds 15

The sandbox gateway enforces 10 calls/s for the app (a one-second bucket, full at start, as
1688 answers gw.QosAppFrequencyLimit) and counts every refusal. Workers are threads, each with
its own client (own HTTP session) sharing the limiter in Redis, as worker processes do; each
reads offer details as fast as the limiter lets it, for `--seconds`, retries off (a refusal
counts, it is not hidden by a retry). Use % = calls answered / (limit × seconds).
The last row is the limiter as it was before it was paced (a full second's burst at start).
"""

import argparse
import threading
import time

from harness import Bench, table

LIMIT = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    bench = Bench(sandbox_rate=LIMIT, client_rate=LIMIT)
    try:
        rows = measure_all(bench, args.seconds)
    finally:
        bench.close()
    print(f"\nlimit {LIMIT:.0f} requests/s at the sandbox and in the shared limiter, "
          f"{args.seconds:.0f} s per row")  # fmt: skip
    table(["workers", "limiter", "calls answered", "use of the limit", "quota errors"], rows)


def measure_all(bench: Bench, seconds: float) -> list[list]:
    import django_rq
    from django.conf import settings

    from catalog.shops.clients import make_client
    from open1688 import Open1688Error, RedisRateLimiter

    shop = bench.connected_shop("b2b-bench0004", "限流压测")
    ids = bench.control("seed", {"member_id": shop.member_id, "count": 50, "seed": 4})
    ids = ids["product_ids"]
    redis = django_rq.get_connection("default")

    def run(workers: int, burst: float | None) -> list:
        redis.flushdb()
        time.sleep(1.2)  # the sandbox's bucket refills: a run starts on a quiet gateway
        bench.control("stats/reset")
        answered, errors = [0], [0]
        lock = threading.Lock()
        stop_at = time.monotonic() + seconds

        def work(n: int) -> None:
            limiter = RedisRateLimiter(redis, settings.OPEN1688_APP_KEY, rate=LIMIT, burst=burst)
            with make_client(rate_limiter=limiter, max_retries=0) as client:
                k = n
                while time.monotonic() < stop_at:
                    try:
                        client.get_product(shop.access_token, ids[k % len(ids)])
                        with lock:
                            answered[0] += 1
                    except Open1688Error:
                        with lock:
                            errors[0] += 1
                    k += workers

        threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        took = time.monotonic() - began
        refused = bench.stats().get("refused", {}).get("gw.QosAppFrequencyLimit", 0)
        label = "no burst (now)" if burst is None else f"burst {burst:.0f} (before)"
        use = f"{100 * answered[0] / (LIMIT * took):.1f} %"
        return [workers, label, answered[0], use, refused]

    return [run(1, None), run(4, None), run(4, LIMIT)]


if __name__ == "__main__":
    main()
