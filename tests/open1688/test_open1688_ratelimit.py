"""The Redis rate limiter (GCRA slots), against a real redis-server of its own."""

import threading
import time

import pytest
import redis

from erp1688.embedded_redis import ensure_embedded_redis, stop_embedded_redis
from open1688 import NullRateLimiter, RateLimitTimeout, RedisRateLimiter
from open1688.ratelimit import BucketUsage


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("redis")
    url = ensure_embedded_redis(folder)
    server = redis.Redis.from_url(url)
    server.url = url  # other clients connect to it on their own
    yield server
    server.close()
    stop_embedded_redis(folder, save=False)  # a throwaway server: nothing to write


@pytest.fixture
def r(redis_server):
    redis_server.flushdb()
    return redis_server


def timed(fn, times: int) -> float:
    began = time.monotonic()
    for _ in range(times):
        fn()
    return time.monotonic() - began


def test_acquires_are_paced_at_the_rate(r):
    limiter = RedisRateLimiter(r, "app1", rate=10, burst=1)
    assert timed(lambda: limiter.acquire("alibaba.product.get"), 12) >= 1.0


def test_a_configured_burst_is_granted_at_once(r):
    limiter = RedisRateLimiter(r, "app1", rate=5, burst=5)
    assert timed(lambda: limiter.acquire("alibaba.product.get"), 5) < 0.5


def test_no_burst_by_default_even_on_a_fresh_bucket(r):
    # a run must not start with a second's worth of calls at once
    limiter = RedisRateLimiter(r, "app1", rate=5)
    assert timed(lambda: limiter.acquire("alibaba.product.get"), 5) >= 0.75


def test_a_lifted_limit_needs_few_round_trips(r):
    limiter = RedisRateLimiter(r, "app6", rate=100_000)
    before = r.info("stats")["total_commands_processed"]
    assert timed(lambda: limiter.acquire("alibaba.product.get"), 2000) < 1.0
    assert r.info("stats")["total_commands_processed"] - before < 200


def test_per_api_bucket_limits_only_that_api(r):
    limiter = RedisRateLimiter(r, "app1", rate=1000, per_api={"alibaba.product.add": 5})
    # burst 5 at once, then 6 more at 5/s
    assert timed(lambda: limiter.acquire("alibaba.product.add"), 11) >= 1.0
    assert timed(lambda: limiter.acquire("alibaba.product.get"), 20) < 0.5


def test_limit_is_shared_by_clients_of_the_same_app(r, redis_server):
    # Two "processes": separate connections, one bucket in Redis.
    limiters = [
        RedisRateLimiter(
            redis.Redis.from_url(redis_server.url),
            "app2",
            rate=10,
            burst=1,
        )
        for _ in range(2)
    ]
    workers = [
        threading.Thread(target=lambda lim=lim: [lim.acquire("x") for _ in range(6)])
        for lim in limiters
    ]
    began = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert time.monotonic() - began >= 1.0


def test_other_apps_have_their_own_bucket(r):
    RedisRateLimiter(r, "busy", rate=0.1, burst=1).acquire("x")
    quiet = RedisRateLimiter(r, "quiet", rate=0.1, burst=1, max_wait=0)
    quiet.acquire("x")


def test_gives_up_after_max_wait(r):
    limiter = RedisRateLimiter(r, "app3", rate=0.5, burst=1, max_wait=0.2)
    limiter.acquire("x")
    began = time.monotonic()
    with pytest.raises(RateLimitTimeout) as raised:
        limiter.acquire("x")
    assert time.monotonic() - began < 1.0  # a 2 s wait is refused at once
    assert raised.value.api == "x"


def test_bucket_keys_expire(r):
    limiter = RedisRateLimiter(r, "app4", rate=10, per_api={"alibaba.product.add": 2})
    limiter.acquire("alibaba.product.add")
    assert 0 < r.pttl("open1688:rl:{app4}") <= 2000
    assert 0 < r.pttl("open1688:rl:{app4}:alibaba.product.add") <= 2000


@pytest.mark.exclusive  # timed: no other test may share the cores
def test_usage_reports_how_full_a_bucket_is_and_when_its_next_slot_comes(r):
    limiter = RedisRateLimiter(r, "app7", rate=2, per_api={"alibaba.product.add": 1})
    assert limiter.usage() == BucketUsage(rate=2.0)  # nothing reserved yet
    limiter.acquire("alibaba.product.get")  # the slot now; the next one in 0.5 s
    used = limiter.usage()
    assert used.percent == 100 and 0 < used.ahead <= 0.5 and used.waiting == 0
    # Three workers sharing the app's key reserve the next three slots and wait for them.
    others = [RedisRateLimiter(r, "app7", rate=2) for _ in range(3)]
    workers = [threading.Thread(target=other.acquire, args=("x",)) for other in others]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 0.4
    while limiter.usage().waiting < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    crowded = limiter.usage()
    assert crowded.waiting == 3 and 1.5 < crowded.ahead <= 2.0 and crowded.percent == 100
    assert limiter.usage("alibaba.product.add") == BucketUsage(rate=1.0)  # its own bucket
    for worker in workers:
        worker.join()
    limiter.acquire("alibaba.product.add")
    assert limiter.usage("alibaba.product.add").percent == 100
    time.sleep(1.1)  # past the last reserved slot and one interval more: empty again
    assert limiter.usage().percent == 0 and limiter.usage().waiting == 0


@pytest.mark.parametrize("options", [{"rate": 0}, {"rate": 5, "burst": 0.5}, {"per_api": {"x": 0}}])
def test_rejects_nonsense_configuration(r, options):
    with pytest.raises(ValueError):
        RedisRateLimiter(r, "app5", **options)


def test_null_limiter_never_waits():
    assert timed(lambda: NullRateLimiter().acquire("x"), 1000) < 0.5
