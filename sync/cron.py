"""Periodic jobs for RQ's CronScheduler: `python manage.py rqcron sync.cron`."""

from rq import cron

from sync.gateway import postpone_expiring_tokens
from sync.jobs import enqueue_due_syncs_job

# Every minute the scheduler asks which shops are due; each shop is synced every
# SYNC_INTERVAL_MINUTES (checked in sync.scheduling.due_shops, so the interval is a setting).
# The same job first records runs whose worker or job died, and queues their shops again.
cron.register(enqueue_due_syncs_job, queue_name="sync", interval=60)
# Refresh tokens inside their last 30 days are extended (postponeToken) twice a day.
cron.register(postpone_expiring_tokens, queue_name="sync", interval=12 * 3600)
