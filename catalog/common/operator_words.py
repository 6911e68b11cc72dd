"""What staff read when something failed: a translated sentence saying what happened and what to
do, never an exception's text, an API name or an internal code. The technical detail goes to the
log and, for superusers only, behind a "details" toggle (templates call `item_outcome` and
`problem_words` through the `operator_words` template library).
"""

import logging
import re

from django.utils.translation import gettext as _

from catalog.models import UploadItem
from erp1688.messages import render

log = logging.getLogger(__name__)

S = UploadItem.Status
# Stored codes that mean "no usable answer from 1688" (the client's exception classes and the
# gateway's timeouts), as catalog/publishing/upload/run.py records them.
NO_ANSWER_CODES = {
    "TransportError",
    "RequestTimeout",
    "ConnectionFailed",
    "OutcomeUnknownError",
    "ServerError",
    "MalformedResponseError",
    "RateLimitTimeout",
    "gw.ISPInvokeTimeout",
}
# Text that is a program's, not a person's: never shown to staff as a reason.
TECHNICAL = re.compile(
    r"HTTPS?ConnectionPool|Max retries|Error\(|Errno|Traceback|object at 0x|https?://|"
    r"\b[a-z]+\.[a-z]+\.\w+|\w+(Error|Exception)\b",
)


def looks_technical(text: str) -> bool:
    return bool(TECHNICAL.search(text or ""))


def no_answer_sentence() -> str:
    return _(
        "1688 could not be reached or did not answer properly. Nothing needs fixing in the "
        "item: try again in a few minutes; if it keeps happening, tell the administrator."
    )


def problem_words(exc: BaseException) -> str:
    """A live exception (pre-flight, a page's call to 1688) as a sentence for staff; logged."""
    from open1688 import (
        AuthError,
        BusinessError,
        InvalidParameterError,
        PermissionDeniedError,
        QuotaError,
        RateLimitTimeout,
    )

    log.warning("shown to staff as a sentence: %s: %s", type(exc).__name__, exc)
    if isinstance(exc, AuthError):
        return _(
            "The shop's authorisation on 1688 is no longer valid: re-authorise the shop on its "
            "page, then try again."
        )
    if isinstance(exc, PermissionDeniedError):
        return _(
            "1688 does not allow this app to do that for the shop; ask the administrator to "
            "check the app's permissions on 1688."
        )
    if isinstance(exc, QuotaError | RateLimitTimeout):
        return _("1688's call limit is reached for now: try again in a minute.")
    message = str(getattr(exc, "message", "") or "")
    if isinstance(exc, BusinessError | InvalidParameterError) and not looks_technical(message):
        return _("1688 refused it: %(reason)s. Correct the item, then try again.") % {
            "reason": message.rstrip("。. ")
        }
    return no_answer_sentence()


def item_outcome(item: UploadItem) -> str:
    """An uploaded item's failure (or open question) as a sentence for staff; "" if none."""
    code, message = item.remote_error_code or "", render(item.remote_error_message or "")
    if item.status == S.REJECTED:
        if code == "edit_declined":
            return message
        return _("1688's audit refused it: %(reason)s. Correct the item, then resubmit it.") % {
            "reason": (message or _("no reason given")).rstrip("。. ")
        }
    if item.status in UploadItem.UNRESOLVED:
        return _(
            "1688 did not answer clearly whether the item was created; it is looked for by "
            "cargo number before anything is sent again. Nothing to do for now."
        )
    if item.status != S.FAILED or not (code or message):
        return ""
    if code == "picture":
        return _("A picture could not be used: %(reason)s Replace it, then retry.") % {
            "reason": message
        }
    if code == "photobank":
        return _(
            "The pictures could not be put into the shop's 1688 photobank. Retry the failed "
            "items in a few minutes."
        )
    if code == "no_answer":
        return message
    if code in NO_ANSWER_CODES or looks_technical(message):
        return no_answer_sentence()
    return _(
        "1688 refused the item: %(reason)s. Correct the item, then retry the failed items."
    ) % {"reason": (message or code).rstrip("。. ")}
