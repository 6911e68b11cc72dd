from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from catalog.models import Shop, SyncRun
from erp1688.messages import render
from open1688 import Open1688Error
from sync.catalog_sync import SyncRefused, start_run, sync_shop
from sync.jobs import enqueue_sync
from sync.scheduling import ACTIVE_RUN, fail_dead_runs, shops_to_queue


class Command(BaseCommand):
    help = (
        "Sync shops' catalogs from 1688 (incremental by modify stamp). Without --shop: the due "
        "shops. Cron: */5 * * * * cd /srv/erp1688 && .venv/bin/python manage.py sync_shops"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--shop", action="append", default=[], help="shop id or 1688 member id (repeatable)"
        )
        parser.add_argument("--all", action="store_true", help="every active shop, due or not")
        parser.add_argument(
            "--full", action="store_true", help="full resync instead of incremental"
        )
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="queue jobs for the workers instead of running here",
        )

    def handle(self, *args, **options):
        if options["shop"] or options["all"]:
            fail_dead_runs()  # a run whose worker died must not keep its shop "busy"
        shops = self._select(options)
        if not shops:
            self.stdout.write("No shop is due for a sync.")
            return
        kind = SyncRun.Kind.FULL if options["full"] else SyncRun.Kind.INCREMENTAL
        failures = 0
        for shop in shops:
            if not shop.is_syncable:
                self.stdout.write(
                    self.style.WARNING(
                        f"{shop}: skipped, {shop.get_status_display()} {render(shop.status_reason)}"
                    )
                )
                continue
            if options["enqueue"]:
                busy = shop.sync_runs.filter(status__in=ACTIVE_RUN).first()
                if busy is not None:
                    self.stderr.write(
                        self.style.ERROR(
                            f"{shop}: not queued, run {busy.pk} of this shop is still "
                            f"{busy.get_status_display()}"
                        )
                    )
                    failures += 1
                    continue
                run = enqueue_sync(shop, kind=kind)
                self.stdout.write(f"{shop}: queued (run {run.pk}, job {run.job_id})")
            else:
                failures += not self._run_inline(shop, kind)
        if failures:
            raise CommandError(
                f"{failures} shop(s) failed to sync (or another sync of the shop was running); "
                "see the sync runs in admin"
            )

    def _select(self, options) -> list[Shop]:
        if options["shop"]:
            shops = []
            for ref in options["shop"]:
                ref = ref.strip()
                if not ref:
                    raise CommandError("--shop needs a shop id or a 1688 member id")
                # isdigit() also says yes to "²" (int() refuses it); a NUL would reach
                # PostgreSQL, which refuses it in a query: such refs are simply unknown.
                shop = None
                if ref.isprintable():
                    by_pk = Q(pk=int(ref)) if ref.isascii() and ref.isdigit() else Q()
                    shop = Shop.objects.filter(Q(member_id=ref) | by_pk).first()
                if shop is None:
                    raise CommandError(f"no shop with id or member id {ref!r}")
                shops.append(shop)
            return shops
        if options["all"]:
            return list(Shop.objects.syncable())
        return shops_to_queue()  # runs whose worker died are recorded first

    def _run_inline(self, shop: Shop, kind: str) -> bool:
        def progress(run):
            self.stdout.write(
                f"  page {run.pages}: {run.offers_seen} offers seen, "
                f"{run.details_fetched} details, {run.changes_written} changes"
            )

        run = start_run(shop, kind)
        self.stdout.write(f"{shop}: {run.get_kind_display()} sync (run {run.pk})")
        try:
            sync_shop(run, progress=progress)
        except SyncRefused as refusal:
            self.stderr.write(self.style.ERROR(refusal.message))
            return False
        except (Open1688Error, RuntimeError) as exc:
            self.stderr.write(self.style.ERROR(f"{shop}: failed: {exc}"))
            return False
        self.stdout.write(
            self.style.SUCCESS(
                f"{shop}: done, {run.offers_seen} seen, {run.offers_created} new, "
                f"{run.offers_updated} updated, {run.changes_written} changes, "
                f"cursor {run.cursor_after}"
            )
        )
        return True
