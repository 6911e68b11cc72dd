"""Upload a staged batch to its 1688 shop: queue the job, or run it here with --inline."""

from django.core.management.base import BaseCommand, CommandError

from catalog.models import UploadBatch
from sync import upload


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

    def handle(self, *args, batch_id, retry_failed=False, inline=False, **options):
        if not (str(batch_id).isascii() and str(batch_id).isdigit()):  # "²".isdigit() is True
            raise CommandError(f"批次编号必须是数字 / BATCH_ID must be a number, not {batch_id!r}.")
        try:
            batch = UploadBatch.objects.select_related("shop").get(pk=int(batch_id))
        except UploadBatch.DoesNotExist:
            raise CommandError(
                f"没有编号为 {batch_id} 的批次 / No upload batch {batch_id}."
            ) from None
        try:
            if inline:
                upload.prepare_batch(batch, retry=retry_failed)
            else:
                job_id = upload.retry_failed(batch) if retry_failed else upload.submit_batch(batch)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if not inline:
            self.stdout.write(f"queued job {job_id} for batch {batch.pk} ({batch.name})")
            return
        batch = upload.run_upload(batch.pk, progress=self._progress)
        self.stdout.write(f"batch {batch.pk}: {batch.status}")
        if batch.last_error:
            self.stderr.write(batch.last_error)

    def _progress(self, batch: UploadBatch, number: int, count: int) -> None:
        self.stdout.write(
            f"chunk {number}/{count}: {batch.items_succeeded} succeeded, "
            f"{batch.items_failed} failed, {batch.items_unknown} unknown, "
            f"{batch.items_pending} pending"
        )
