"""Resubmitting items rejected in 1688's audit.

A rejected (`untread`) offer stays on 1688 under the item's 货号 (docs/protocol.md, "Audit"), so
a second `add` would make two offers of one item. The path instead:

    rejected --(staff edits the item, then resubmits)--> pending, the offer id kept
    pending with an offer id --(the run)--> uploading --alibaba.product.edit of that offer-->
        auditing | published | rejected (read back), or unknown (reconciled by 货号 like an add)

Only an offer gone from 1688 since (`PRODUCT_NOT_EXIST`), and not found by its 货号 either, is
published afresh by `add`.
An edit sets a state, so a replay after a lost answer cannot duplicate anything.
"""

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy

from catalog.models import UploadBatch, UploadItem
from catalog.publishing.upload import publishing as pub
from catalog.publishing.upload import run
from catalog.publishing.upload.item_states import Context, set_item
from catalog.shops.clients import call_as_shop
from erp1688.messages import as_text
from erp1688.messages import stored as _
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused
from open1688 import (
    AuthError,
    BusinessError,
    InvalidParameterError,
    Open1688Error,
    PermissionDeniedError,
    QuotaError,
    RateLimitTimeout,
    SignatureError,
)

S = UploadItem.Status


def reset_rejected(batch: UploadBatch) -> int:
    """Rejected items back to pending, keeping their offer id (so the run edits that offer);
    returns how many. Refused `batch.nothing_to_resubmit`."""
    rejected = batch.items.filter(status=S.REJECTED, remote_offer_id__isnull=False)
    count = rejected.back_to_pending()
    if not count:
        raise Refused(
            RefusalCode.BATCH_NOTHING_TO_RESUBMIT, gettext_lazy("No rejected item to resubmit.")
        )
    return count


def resend_by_edit(context: Context, item: UploadItem) -> bool:
    """Send the item's corrected content as an edit of its rejected offer; True when it must be
    sent again at once (the offer is gone from 1688: published afresh)."""
    shop, client = context.shop, context.client
    paths = run.pictures(context, item)
    if paths is None:
        return False
    freight, address = pub.freight_and_address(context.batch, context.publishing)
    params = pub.legacy_params(item, paths, freight=freight, address=address)
    set_item(item, picture_paths=paths)
    run._mark_uploading(item, item.publish_api or pub.Api.LEGACY)
    try:
        call_as_shop(shop, client, client.edit_product, item.remote_offer_id, params)
    except BusinessError as exc:
        if exc.offer_not_found:
            # Gone under that id: one look by 货号 (another offer may carry it) before an add.
            run._not_sent(item)
            last_look = max(0, settings.UPLOAD_RECONCILE_LOOKS - 1)
            set_item(
                item,
                status=S.UNKNOWN,
                remote_offer_id=None,
                offer_status="",
                looks=last_look,
                next_check_at=None,
            )
            return True
        run._failed(item, exc)
        return False
    except (PermissionDeniedError, InvalidParameterError) as exc:
        run._not_sent(item)
        if exc.code in run.ACL_CODES:  # this app may not edit offers: only the seller centre can
            message = _(
                "1688 does not let this app edit offers, so the rejected offer cannot be "
                "resubmitted from here: correct it in 1688's seller centre, or remove the item."
            )
            set_item(
                item,
                status=S.REJECTED,
                remote_error_code="edit_declined",
                remote_error_message=as_text(message),
            )
            return False
        if isinstance(exc, PermissionDeniedError):
            raise run.UploadStopped(run.auth_reason(shop, exc)) from exc
        run._failed(item, exc)
        return False
    except (QuotaError, RateLimitTimeout) as exc:
        run._not_sent(item)
        raise run._rate_limited(exc) from exc
    except (AuthError, SignatureError) as exc:
        run._not_sent(item)
        raise run.UploadStopped(run.auth_reason(shop, exc)) from exc
    except Open1688Error as exc:
        # Maybe applied: looked at by 货号 after the grace, like an add (it finds the offer).
        set_item(
            item,
            status=S.UNKNOWN,
            looks=0,
            next_check_at=timezone.now() + run.grace(),
            remote_error_code=(exc.code or type(exc).__name__)[:100],
            remote_error_message=as_text(
                _("Outcome unknown, checking by cargo number: %(error)s")
                % {"error": str(exc)[:500]}
            ),
        )
        return False
    run._adopt_after_read(context, item, item.remote_offer_id)
    return False
