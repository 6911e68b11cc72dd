from django.core.management.base import BaseCommand

from sync.retention import prune_sync_runs


class Command(BaseCommand):
    help = (
        "Fold finished sync runs older than SYNC_RUN_RETENTION_DAYS into one summary a shop a "
        "day, and delete them in batches. Scheduled daily by `rqcron sync.cron`; "
        "cron: 30 3 * * * cd /srv/erp1688 && .venv/bin/python manage.py prune_sync_runs"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=None, help="keep this many days (default: the setting)"
        )

    def handle(self, *args, **options):
        deleted = prune_sync_runs(days=options["days"])
        self.stdout.write(f"Deleted {deleted} sync runs (kept as day summaries).")
