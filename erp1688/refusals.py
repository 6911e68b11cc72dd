"""The one refusal type every service raises when it will not do what was asked.

A refusal is an expected outcome (a permission the user lacks, a batch that is uploading, a shop
that needs re-authorisation), never a programming error: views, admin actions and commands catch
only `Refused` and show its message; anything else is a bug and surfaces as one. Each refusal has
a stable `code` (tests and the UI key on it) and a translatable message, in the spirit of
Django's `ValidationError(message, code=...)`.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from erp1688.refusal_codes import RefusalCode


class Refused(Exception):
    """A service declined the request. `code` is stable; `message` is for people."""

    def __init__(self, code: str, message: str | Promise, *, params: dict | None = None):
        self.code = code
        self.params = params or {}
        self._message = message
        super().__init__(code)

    @property
    def message(self) -> str:
        text = str(self._message)
        return text % self.params if self.params else text

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"Refused({self.code!r}, {self.message!r})"


class PermissionRefused(Refused, PermissionDenied):
    """The acting user may not do this. Also a Django `PermissionDenied`, so wherever it is
    raised (a view, an admin action) Django answers 403 through `handler403`, the styled refusal
    page (erp1688.views.refused) that shows this message."""


def require(user, *permissions: str) -> None:
    """Refuse unless `user` holds every permission. `user=None` is the system itself (a job, the
    scheduler, a command run without --as), which may do anything.

    The message names no permission codename: people read it on the refusal page.
    """
    if user is None:
        return
    if user.is_active and user.has_perms(permissions):
        return
    refusal = PermissionRefused(
        RefusalCode.PERMISSION_DENIED,
        _("You do not have permission to do this. Ask a manager for the right role."),
    )
    refusal.permissions = permissions  # the refusal page names the roles that hold them
    raise refusal


def show_refusal(request, refused: Refused) -> None:
    """For views: a business refusal becomes an error message on the next page; a permission
    refusal goes on to the styled 403 page."""
    if isinstance(refused, PermissionRefused):
        raise refused
    messages.error(request, refused.message)
