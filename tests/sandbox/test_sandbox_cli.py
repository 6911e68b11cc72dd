"""python -m sandbox serve | seed | mutate, run as the developer would."""

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.system

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "sandbox", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


def test_seed_2000_offers_then_mutate(tmp_path):
    db = str(tmp_path / "cli.sqlite3")
    started = time.perf_counter()
    seeded = run_cli(
        "seed", "--db", db, "--seller", "b2b-demo001", "--count", "2000", "--seed", "1"
    )
    elapsed = time.perf_counter() - started
    print(f"seed 2000 offers: {seeded['seconds']} s in the store, {elapsed:.2f} s with start-up")
    assert seeded["created"] == 2000
    report = run_cli("mutate", "--db", db, "--seller", "b2b-demo001", "--fraction", "0.05")
    assert set(report) == {"price_changed", "stock_changed", "created", "delisted"}
    assert 80 <= len(report["price_changed"]) <= 100  # 5 % of the published offers
    assert len(report["created"]) == len(report["price_changed"]) // 5


def test_serve_prints_its_address_and_answers(tmp_path):
    command = [
        sys.executable, "-m", "sandbox", "serve", "--port", "0",
        "--db", str(tmp_path / "serve.sqlite3"), "--app-key", "123", "--app-secret", "s",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        first_line = server.stdout.readline().strip()
        assert first_line.startswith("SANDBOX_LISTENING http://127.0.0.1:")
        url = first_line.split(" ", 1)[1]
        assert requests.get(f"{url}/_sandbox/health", timeout=5).json() == {"ok": True}
        page = requests.get(
            f"{url}/oauth/authorize",
            params={"client_id": "123", "redirect_uri": "http://x.example/cb"},
            timeout=5,
        )
        assert "demo-shop" in page.text
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_mutate_drops_quote_type_2_tiers_from_the_command_line(tmp_path):
    args = ("--fraction", "0.05", "--quote-type", "2", "--price-delta", "-8", "--seed", "9")
    reports, payloads = [], []
    for name in ("a.sqlite3", "b.sqlite3"):  # two identical catalogs, the same mutation
        db = str(tmp_path / name)
        run_cli("seed", "--db", db, "--seller", "b2b-demo001", "--count", "200", "--seed", "3")
        reports.append(run_cli("mutate", "--db", db, *args))
        with sqlite3.connect(db) as conn:
            payloads.append(dict(conn.execute("SELECT product_id, payload FROM offer_payloads")))
    assert reports[0] == reports[1] and payloads[0] == payloads[1]  # deterministic
    changed = reports[0]["price_changed"]
    assert 3 <= len(changed) <= 12  # 5 % of the published quoteType-2 offers
    for product_id in changed:
        info = json.loads(payloads[0][product_id])
        assert info["saleInfo"]["quoteType"] == 2
        assert all("price" not in sku for sku in info["skuInfos"])
