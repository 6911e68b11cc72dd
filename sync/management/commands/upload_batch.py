"""Upload a staged batch to its 1688 shop: queue the job, or run it here with --inline."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from catalog.models import UploadBatch
from catalog.publishing import services, upload
from erp1688.refusals import Refused


class Command(BaseCommand):
    help = "Upload batch BATCH_ID to 1688 (queued on the 'upload' queue unless --inline)."

    def add_arguments(self, parser):
        parser.add_argument("batch_id", help="the UploadBatch id")
        parser.add_argument(
            "--retry-failed", action="store_true", help="send the failed items again, only those"
        )
        parser.add_argument(
            "--inline", action="store_true", help="upload in this process instead of a worker"
        )
        parser.add_argument(
            "--as",
            dest="username",
            default=None,
            help="act as this user (their permissions apply); default: the system",
        )

    def handle(self, *args, batch_id, retry_failed=False, inline=False, username=None, **options):
        if not (str(batch_id).isascii() and str(batch_id).isdigit()):  # "²".isdigit() is True
            raise CommandError(f"BATCH_ID must be a number, not {batch_id!r}.")
        try:
            batch = UploadBatch.objects.select_related("shop").get(pk=int(batch_id))
        except UploadBatch.DoesNotExist:
            raise CommandError(f"No upload batch {batch_id}.") from None
        user = self._user(username)
        submit = services.retry_failed if retry_failed else services.submit_batch
        try:
            job_id = submit(user=user, batch=batch, queue=not inline)
        except Refused as refused:
            raise CommandError(f"{refused.code}: {refused.message}") from refused
        if not inline:
            self.stdout.write(f"queued job {job_id} for batch {batch.pk} ({batch.name})")
            return
        batch = upload.run_upload(batch.pk, progress=self._progress)
        self.stdout.write(f"batch {batch.pk}: {batch.status}")
        if batch.last_error:
            self.stderr.write(batch.last_error)

    def _user(self, username: str | None):
        if username is None:
            return None
        try:
            return get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user {username!r}.") from None

    def _progress(self, batch: UploadBatch, number: int, count: int) -> None:
        self.stdout.write(
            f"chunk {number}/{count}: {batch.items_succeeded} succeeded, "
            f"{batch.items_failed} failed, {batch.items_unknown} unknown, "
            f"{batch.items_pending} pending"
        )
