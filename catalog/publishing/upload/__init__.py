"""Batch upload (批量上货): submit a staged batch, upload it in chunks, retry failures, copy offers.

Modules, one job each:

- `catalog.publishing.upload.queue` — submit/queue: the checks and state change of a submit or a
staff retry
  (`prepare_batch`), putting the job on the `upload` queue (`enqueue_upload`), "is an upload of
  this batch in flight?" (`upload_in_progress`);
- `catalog.publishing.upload.run` — the run's state machine (`run_upload`, the job body): items go
  pending → uploading → (unknown →) auditing → published | rejected, or failed; unknown ones
  are looked for on 1688 before any resend;
- `catalog.publishing.upload.audits` — items in audit followed until 1688 decides: their states
  read 20 offers a call (`check_audits`), and `settle_from_mirror` after each sync;
- `catalog.publishing.upload.item_states` — the run's context, 1688's offer status read as an
  item status, an offer adopted by its item, a batch finished;
- `catalog.publishing.upload.publishing` — the shop's publishing settings (`ShopPublishing`), which
publish
  API an item goes by (schema-driven `alibaba.new.product.add` with outerId = 货号, or legacy
  `alibaba.product.add` with 货号 as attribute 1398; a gw.APIACLDecline / gw.APIUnsupported
  switches the shop), pictures into the photobank once per shop and content (Pillow makes
  them acceptable), both payloads, and the pre-flight (validation + add.preview);
- `catalog.publishing.upload.payload` — an UploadItem as `alibaba.product.add` parameters;
- `catalog.publishing.upload.copying` — copying existing 1688 offers into a batch;
- `catalog.publishing.upload.resubmit` — items rejected in 1688's audit, corrected by staff, sent
again as an
  edit of their rejected offer (never a second offer under the same 货号).

The writes staff start (submit, retry, copy) are services in `catalog/publishing/services.py`,
which check the acting user's permission and call these modules.

The contract (docs/contracts.md, "Batch upload"):
- only valid items are sent; each item's cargo number (货号) is its idempotency key;
- an item is marked `uploading` in its own committed transaction before `alibaba.product.add`
  is called, so a crash leaves evidence; an item left `uploading` or `unknown` (timeout, dropped
  connection, killed worker) is reconciled with `alibaba.product.list.get?cargoNumber=` before it
  is ever sent again, so no offer is created twice;
- one upload per batch at a time (a Redis lock renewed after every item);
- a quota limit never fails an item: the run stops and its job is scheduled again later.

Retry layers, innermost first (each one's setting; nothing else retries):

layer                      where                      what is retried, and when
-------------------------  -------------------------  -----------------------------------------
1 client retries           open1688/transport.py      safe (idempotent) calls only, on 5xx,
  OPEN1688_MAX_RETRIES=3                              timeouts, dropped connections; backoff
                                                      with jitter. product.add: never here.
2 rate limiter wait        open1688/ratelimit.py      waits for its reserved slot in Redis,
  OPEN1688_RATE_PER_SECOND=5,                         shared by every worker, at most 30 s,
  OPEN1688_API_RATES                                  then RateLimitTimeout (→ layer 4).
3 token refresh            catalog/shops/clients.py            a call refused for its access token:
                           call_as_shop               refresh once, call once more (a refused
                                                      call was not applied).
4 quota reschedule         catalog.publishing.upload.run            QuotaError / RateLimitTimeout:
the run
  UPLOAD_QUOTA_DELAY_SECONDS=60                       stops, the item stays pending, the job
                                                      is queued again after the delay.
5 unknown-outcome          catalog.publishing.upload.run            a send without a known outcome:
1688 is
  reconciliation                                      looked at by cargo number, the looks a
  MAX_SENDS_PER_RUN=2,                                grace apart (1688 may apply it late: a
  UPLOAD_UNKNOWN_GRACE_                               late offer is adopted); not there → sent
  SECONDS=120,                                        again, at most 2 sends per item, then
  UPLOAD_RECONCILE_LOOKS=3                            failed ("no_answer").
6 killed worker            sync.locks, sync.jobs,     the batch lock stops being renewed and
  LOCK_TTL_SECONDS=60,     resume_stalled_uploads     ends within a TTL; every minute the
  UPLOAD_JOB_TIMEOUT=3600  (sync/cron.py)             scheduler queues a `running` batch without
                                                      its lock again; items left `uploading`
                                                      are looked for after the grace.
7 staff retry              publishing.services.       failed items back to pending (unknown
                           retry_failed               ones are reconciled first); succeeded
                                                      items are never sent again.
8 staff resubmit           publishing.services.       rejected items back to pending with their
                           resubmit_rejected          offer id: sent as alibaba.product.edit of
                                                      that offer; an id gone from 1688 is looked
                                                      for by 货号 before any add.

`run_upload()` must run outside any transaction (it commits per item), as a job or a command does.
"""

from catalog.publishing.upload.copying import CopyResult, copy_offers, stage_copies
from catalog.publishing.upload.payload import item_to_add_params
from catalog.publishing.upload.queue import (
    QUEUE,
    enqueue_upload,
    lock_key,
    prepare_batch,
    upload_in_progress,
)
from catalog.publishing.upload.run import MAX_SENDS_PER_RUN, UploadStopped, run_upload

__all__ = [
    "MAX_SENDS_PER_RUN",
    "QUEUE",
    "CopyResult",
    "UploadStopped",
    "copy_offers",
    "enqueue_upload",
    "item_to_add_params",
    "lock_key",
    "prepare_batch",
    "run_upload",
    "stage_copies",
    "upload_in_progress",
]
