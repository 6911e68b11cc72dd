"""Periodic jobs for RQ's CronScheduler: `python manage.py rqcron sync.cron`."""

from rq import cron

from catalog.alerts.emails import send_digests_job
from catalog.alerts.engine import check_authorisations_job
from catalog.follow.engine import follow_due_job
from catalog.publishing.upload.queue import resume_stalled_uploads_job
from catalog.shops.clients import postpone_expiring_tokens
from catalog.watch.push import replay_job as push_replay_job
from catalog.watch.services import poll_due_job as watch_poll_job
from sync.jobs import enqueue_due_syncs_job
from sync.retention import prune_job as prune_sync_runs_job

# Every minute the scheduler asks which shops are due; each shop is synced every
# SYNC_INTERVAL_MINUTES (checked in sync.scheduling.due_shops, so the interval is a setting).
# The same job first records runs whose worker or job died, and queues their shops again.
cron.register(enqueue_due_syncs_job, queue_name="sync", interval=60)
# Refresh tokens inside their last 30 days are extended (postponeToken) twice a day.
cron.register(postpone_expiring_tokens, queue_name="sync", interval=12 * 3600)
# Watched suppliers (catalog/watch/services.py, catalog/watch/push.py): offers not read for
# WATCH_POLL_MINUTES are
# read through the cache (the fallback when push is off or lost), and missed push messages are
# fetched with push.cursor.messageList.
cron.register(watch_poll_job, queue_name="default", interval=5 * 60)
cron.register(push_replay_job, queue_name="default", interval=10 * 60)
# Following suppliers (catalog/follow/engine.py): follows whose delayed job was lost, changes
# that waited for a paused or unwritable shop, and links for newly published copies.
cron.register(follow_due_job, queue_name="default", interval=60)
# "Authorisation expires within N days" alerts (catalog/alerts/engine.py) for shops that are not
# synced
# often (or at all, once they need re-authorisation); a finished sync checks its own shop too.
cron.register(check_authorisations_job, queue_name="default", interval=3600)
# Alerts of rules that mail a daily digest: one mail per owner a day (catalog/alerts/emails.py).
cron.register(send_digests_job, queue_name="default", interval=24 * 3600)
# Upload batches whose worker died are queued again (catalog/publishing/upload/queue.py).
cron.register(resume_stalled_uploads_job, queue_name="upload", interval=60)
# Finished sync runs past SYNC_RUN_RETENTION_DAYS become day summaries (sync/retention.py).
cron.register(prune_sync_runs_job, queue_name="default", interval=24 * 3600)
