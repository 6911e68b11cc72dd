"""python -m sandbox serve | seed | mutate, run as the developer would."""

import json
import subprocess
import sys
import time
from pathlib import Path

import requests

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
