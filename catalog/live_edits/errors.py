"""1688's errors for the lines of a live edit, in plain words: each error leaves the lines
refused (1688 said no) or failed (not reached, held back), or stops the sending for the shop
(authorisation lost) or for every shop (the paid quota spent).
"""

from django.utils.translation import gettext_noop

from catalog.live_edits.lines import LineStatus, why
from erp1688.messages import Message
from open1688 import (
    AuthError,
    BusinessError,
    Open1688Error,
    PermissionDeniedError,
    QuotaError,
    QuotaSpentError,
    ServerError,
    TransportError,
)


class Stop(Exception):
    """Nothing more can be sent for this shop (or at all): the remaining lines say why."""

    def __init__(self, reason: Message, *, every_shop: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.every_shop = every_shop


# Platform refusals in plain words. Codes beyond the gateway's are not attested: matched by
# the words they carry (REPUBLISH/LIMIT, AUDIT), as the sandbox and real answers name them.
def refusal(exc: Open1688Error) -> tuple[str, Message]:
    if isinstance(exc, AuthError):  # a refresh was tried (call_as_shop): re-authorise
        raise Stop(
            why(gettext_noop("The shop must be authorised again before its offers can be changed."))
        )
    if isinstance(exc, QuotaSpentError):
        raise Stop(
            why(gettext_noop("The app's paid call quota on 1688 is spent.")), every_shop=True
        )
    if isinstance(exc, PermissionDeniedError):
        return LineStatus.REFUSED, why(
            gettext_noop(
                "1688 refused: this app is not allowed to call %(api)s (API access not granted)."
            ),
            api=exc.api or "?",
        )
    if isinstance(exc, BusinessError):
        code = (exc.code or "").upper()
        if "REPUBLISH" in code or "LIMIT" in code:
            return LineStatus.REFUSED, why(
                gettext_noop("1688's daily relist limit is reached; relist this offer tomorrow.")
            )
        if "AUDIT" in code:
            return LineStatus.REFUSED, why(
                gettext_noop(
                    "1688 is auditing this offer, or it failed the audit; it cannot be changed now."
                )
            )
        if "NOT_EXIST" in code:
            return LineStatus.REFUSED, why(
                gettext_noop("The offer or SKU no longer exists on 1688.")
            )
        return LineStatus.REFUSED, why(
            gettext_noop("1688 refused: %(message)s"), message=exc.message
        )
    if isinstance(exc, QuotaError):
        return LineStatus.FAILED, why(
            gettext_noop("1688's call rate limit held this back; apply again later.")
        )
    if isinstance(exc, TransportError | ServerError):
        return LineStatus.FAILED, why(
            gettext_noop("1688 could not be reached: %(error)s"), error=exc
        )
    return LineStatus.FAILED, why(gettext_noop("1688 answered with an error: %(error)s"), error=exc)


def reason_for(exc: Open1688Error) -> Message:
    """The reason alone, for a line that is not closed by it (a check, a failed read-back)."""
    try:
        return refusal(exc)[1]
    except Stop as stop:
        return stop.reason
