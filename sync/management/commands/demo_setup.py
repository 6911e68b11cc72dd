"""Local demo: an admin login and the sandbox's demo shop, connected and queued for a first sync."""

import secrets
import time

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from catalog.models import Shop
from sync.gateway import connect_shop
from sync.open1688.answers import parse_token
from sync.scheduling import enqueue_sync

DEMO_SELLER = "b2b-demo001"


class Command(BaseCommand):
    help = "Prepare the local demo against the sandbox gateway (never in production)."

    def add_arguments(self, parser):
        parser.add_argument("--wait", action="store_true", help="wait up to 60 s for the sandbox")

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError(
                "demo_setup talks to the sandbox gateway and never runs in production"
            )
        password = self._admin_password()
        self._wait_for_sandbox(60 if options["wait"] else 0)
        if not Shop.objects.filter(member_id=DEMO_SELLER).exists():
            answer = requests.post(
                f"{settings.OPEN1688_GATEWAY}/_sandbox/tokens",
                json={"app_key": settings.OPEN1688_APP_KEY, "member_id": DEMO_SELLER},
                timeout=10,
            )
            answer.raise_for_status()
            shop = connect_shop(parse_token(answer.json(), timezone.now()), name="义乌小商品示范店")
            enqueue_sync(shop)
            self.stdout.write("Connected the sandbox demo shop and queued its first sync.")
        self.stdout.write(
            self.style.SUCCESS(
                "\n  erp1688 is at http://127.0.0.1:8000/  —  log in as admin / " + password + "\n"
            )
        )

    def _admin_password(self) -> str:
        path = settings.DATA_DIR / "admin-password.txt"
        User = get_user_model()
        if path.exists() and User.objects.filter(username="admin").exists():
            return path.read_text().strip()
        password = secrets.token_urlsafe(12)
        user, _ = User.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        user.set_password(password)
        user.save()
        path.write_text(password + "\n")
        path.chmod(0o600)
        return password

    def _wait_for_sandbox(self, seconds: int) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                requests.get(f"{settings.OPEN1688_GATEWAY}/_sandbox/stats", timeout=2)
                return
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise CommandError(
                        f"the sandbox gateway does not answer at {settings.OPEN1688_GATEWAY}"
                    ) from None
                time.sleep(0.5)
