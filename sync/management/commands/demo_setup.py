"""Local demo: an admin login and the sandbox's demo shop, connected and queued for a first sync."""

import secrets
import time
from decimal import Decimal

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from catalog.models import Shop, UploadItem, new_cargo_number
from catalog.publishing import services
from catalog.shops.clients import connect_shop
from erp1688.refusals import Refused
from open1688 import Open1688Error, TokenInfo
from open1688.answers import parse_token
from sync.jobs import enqueue_sync

DEMO_SELLER = "b2b-demo001"
DEMO_CATEGORY = 1031910  # 女装 > T恤 > 女式T恤, a leaf
# What 1688 requires of a 女式T恤 besides 货号 (the item's cargo number).
DEMO_ATTRIBUTES = (
    {"attributeID": 2176, "value": "无品牌"},
    {"attributeID": 1141, "value": "否"},
    {"attributeID": 287, "value": "纯棉"},
    {"attributeID": 122216347, "value": "夏季"},
)


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
            shop = connect_shop(self._demo_token(), name="义乌小商品示范店")
            enqueue_sync(shop)
            self.stdout.write("Connected the sandbox demo shop and queued its first sync.")
            try:
                self._demo_batch(shop)
            except Refused as refused:  # the demo runs on without it
                self.stderr.write(f"The demo batch was not staged: {refused}")
        self.stdout.write(
            self.style.SUCCESS(
                "\n  erp1688 is at http://127.0.0.1:8000/  —  log in as admin / " + password + "\n"
            )
        )

    def _demo_batch(self, shop: Shop) -> None:
        """A batch staged as 1688 takes it (a 女式T恤 leaf, its required attributes, a SKU
        grid on its sale attributes, a picture), ready to review and submit."""
        batch = services.create_batch(user=None, shop=shop, name="示范批次：夏季女式T恤")
        for number, (colour, price) in enumerate((("白色", "19.90"), ("黑色", "21.50")), 1):
            item = UploadItem(
                batch=batch,
                title=f"2026夏季纯棉短袖T恤女 宽松百搭 {colour}",
                category_id=DEMO_CATEGORY,
                price=Decimal(price),
                stock=300,
                unit="件",
                min_order_quantity=2,
                cargo_number=new_cargo_number(),
                images=[f"{settings.OPEN1688_IMAGE_BASE}img/ibank/2026/101/{number}01/7_9.jpg"],
                attributes=[dict(a) for a in DEMO_ATTRIBUTES],
                skus=[
                    {
                        "attributes": [
                            {"attributeID": 3216, "attributeValue": colour},
                            {"attributeID": 450, "attributeValue": size},
                        ],
                        "price": price,
                        "stock": 100,
                    }
                    for size in ("S", "M", "L")
                ],
            )
            services.save_item(user=None, item=item)
        self.stdout.write(f"Staged the demo batch “{batch.name}”: review it and submit.")

    def _demo_token(self) -> TokenInfo:
        """The demo seller's token, straight from the sandbox's control API."""
        url = f"{settings.OPEN1688_GATEWAY}/_sandbox/tokens"
        try:
            answer = requests.post(
                url,
                json={"app_key": settings.OPEN1688_APP_KEY, "member_id": DEMO_SELLER},
                timeout=10,
            )
            if answer.status_code != 200:
                try:
                    detail = answer.json().get("error") or answer.reason
                except (ValueError, AttributeError):
                    detail = answer.reason
                raise CommandError(
                    f"{url} answered HTTP {answer.status_code} ({detail}): is "
                    f"OPEN1688_GATEWAY the sandbox, and OPEN1688_APP_KEY "
                    f"{settings.OPEN1688_APP_KEY!r} registered there?"
                )
            return parse_token(answer.json(), timezone.now())
        except (requests.RequestException, ValueError, Open1688Error) as exc:
            raise CommandError(f"{url} gave no usable token for {DEMO_SELLER}: {exc}") from None

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
