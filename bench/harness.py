"""What every benchmark needs: its own data folder, its own sandbox gateway on a free port,
Django set up against them, and one connected sandbox shop."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "bench"


class Bench:
    def __init__(self, **settings_env: str):
        from erp1688.embedded_redis import stop_embedded_redis

        sys.path.insert(0, str(ROOT))
        stop_embedded_redis(DATA)  # a previous run's, before its folder goes
        shutil.rmtree(DATA, ignore_errors=True)
        DATA.mkdir(parents=True)
        self.sandbox = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "serve", "--port", "0", "--rate", "100000",
             "--db", str(DATA / "sandbox.sqlite3")],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        self.url = self.sandbox.stdout.readline().split()[-1]  # SANDBOX_LISTENING <url>
        os.environ.update(
            ERP_DATA_DIR=str(DATA),
            OPEN1688_GATEWAY=self.url,
            OPEN1688_RATE_PER_SECOND="100000",  # measure the code, not the platform's limit
            **settings_env,
        )
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erp1688.settings")
        import django
        import requests

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        self.http = requests.Session()

    def control(self, path: str, payload: dict | None = None) -> dict:
        return self.http.post(f"{self.url}/_sandbox/{path}", json=payload).json()

    def calls(self) -> dict:
        return self.http.get(f"{self.url}/_sandbox/stats").json()["calls"]

    def connected_shop(self, member_id: str, name: str):
        from django.conf import settings
        from django.utils import timezone

        from sync.gateway import connect_shop
        from sync.open1688.answers import parse_token

        self.control("sellers", {"member_id": member_id, "login_id": member_id, "name": name})
        token = self.control(
            "tokens", {"app_key": settings.OPEN1688_APP_KEY, "member_id": member_id}
        )
        return connect_shop(parse_token(token, timezone.now()), name=name)

    def close(self) -> None:
        from erp1688.embedded_redis import stop_embedded_redis

        self.sandbox.terminate()
        stop_embedded_redis(DATA)
