"""Whose live-edit draft it is. A draft belongs to its author: others may look at it, only the
owner applies, checks or discards it. A manager (permission `catalog.take_over_live_edit`) may
take one over; who and when is recorded on the draft, which is then the manager's."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from catalog.models.live_edits import LiveEdit
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused, require

TAKE_OVER = "catalog.take_over_live_edit"


def owner_name(operation: LiveEdit) -> str:
    owner = operation.owner
    if owner is None:
        return ""
    return owner.get_full_name() or owner.get_username()


def require_owner(user, operation: LiveEdit) -> None:
    """Refused, naming the owner, unless `user` owns the draft (`None`: the system itself)."""
    if user is None or (operation.owner_id is not None and operation.owner_id == user.pk):
        return
    if operation.owner_id is None:
        raise Refused(
            RefusalCode.DRAFT_HAS_NO_OWNER,
            gettext_lazy(
                "Nobody owns this draft any more: a manager can take it over, then apply or "
                "discard it."
            ),
        )
    raise Refused(
        RefusalCode.NOT_YOUR_DRAFT,
        gettext_lazy(
            "This draft belongs to %(owner)s: only they can apply, check or discard it. A "
            "manager can take it over."
        ),
        params={"owner": owner_name(operation)},
    )


def take_over_live_edit(*, user, operation: LiveEdit) -> LiveEdit:
    """Make another person's draft `user`'s own (managers only), recording who and when."""
    require(user, TAKE_OVER)
    with transaction.atomic():
        # No joins: PostgreSQL cannot lock the nullable side of an outer join.
        locked = LiveEdit.objects.select_for_update().get(pk=operation.pk)
        if locked.status != LiveEdit.Status.DRAFT:
            raise Refused(
                RefusalCode.NOT_A_DRAFT,
                gettext_lazy("Only a draft can be taken over; this change is %(status)s."),
                params={"status": locked.get_status_display()},
            )
        if locked.owner_id == user.pk:
            raise Refused(RefusalCode.ALREADY_YOURS, gettext_lazy("This draft is already yours."))
        locked.taken_over_by, locked.taken_over_at = user, timezone.now()
        locked.save(update_fields=["taken_over_by", "taken_over_at"])
    return locked
