"""Staff accounts kept by managers (the users page): services and the forms they read.

Every write is a service taking the acting user; a manager holds `auth.add_user` and
`auth.change_user` (erp1688/roles.py) and may change only users who are not superusers, never
deactivate themselves, and gives exactly one role (a group named by its ROLES key; people read
ROLE_NAMES). An account made here is staff at once, so it can log in to the staff pages.
"""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import SetPasswordForm, UserCreationForm
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import PermissionRefused, Refused, require
from erp1688.roles import ROLE_NAMES, ROLES

User = get_user_model()


def role_choices() -> list[tuple[str, str]]:
    return [(key, ROLE_NAMES[key]) for key in ROLES]


def role_of(user) -> str | None:
    """The user's role key (the first role group it is in), or None."""
    names = [group.name for group in user.groups.all()]  # prefetched on the list
    return next((key for key in ROLES if key in names), None)


def role_label(user) -> str:
    key = role_of(user)
    return str(ROLE_NAMES[key]) if key else ""


def may_change(actor, target) -> None:
    require(actor, "auth.change_user")
    if target.is_superuser and not (actor is None or actor.is_superuser):
        raise PermissionRefused(
            RefusalCode.USER_SUPERUSER, _("Only a superuser may change a superuser's account.")
        )


def _set_role(target, role: str) -> None:
    if role not in ROLES:
        raise Refused(RefusalCode.USER_UNKNOWN_ROLE, _("Choose one of the roles."))
    others = target.groups.filter(name__in=list(ROLES)).exclude(name=role)
    target.groups.remove(*others)
    target.groups.add(Group.objects.get_or_create(name=role)[0])


@transaction.atomic
def create_staff_user(*, user, username: str, password: str, role: str, email: str = ""):
    """A new active staff account with one role and a password already validated by the form."""
    require(user, "auth.add_user")
    account = User(username=username, email=email, is_staff=True, is_active=True)
    account.set_password(password)
    account.save()
    _set_role(account, role)
    return account


@transaction.atomic
def change_staff_user(*, user, target, role: str, is_active: bool):
    """The role and the active flag; staff status follows being active."""
    may_change(user, target)
    if user is not None and target.pk == user.pk and not is_active:
        raise Refused(
            RefusalCode.USER_SELF_DEACTIVATE, _("You cannot deactivate your own account.")
        )
    _set_role(target, role)
    target.is_active = is_active
    target.is_staff = True
    target.save(update_fields=["is_active", "is_staff"])
    return target


def reset_password(*, user, target, password: str):
    """A new password (validated by the form) for someone else's account."""
    may_change(user, target)
    target.set_password(password)
    target.save(update_fields=["password"])
    return target


class StaffUserAddForm(UserCreationForm):
    """Username and the password twice (the password validators run), an email, a role."""

    email = forms.EmailField(label=_("Email"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=role_choices)

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username",)


class StaffUserChangeForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=role_choices)
    is_active = forms.BooleanField(
        label=_("Active"), required=False, help_text=_("An inactive account cannot log in.")
    )


class StaffPasswordForm(SetPasswordForm):
    """New password twice, checked by the password validators (never saved by the form)."""
