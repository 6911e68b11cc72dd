"""The users page for managers: every staff account with its role, add one, change its role
or active flag, reset its password. Thin shells: reads through catalog/staff/selectors.py, writes
through catalog/staff/services.py (the services check the permissions; Django's forms run the
password validators; every write is a CSRF-checked POST).
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from catalog.mirror.views.products import requires
from catalog.staff import selectors
from catalog.staff import services as staff_users
from erp1688.refusals import PermissionRefused, Refused


@requires("auth.view_user")
def user_list(request):
    users = selectors.accounts()
    for account in users:
        account.role_label = staff_users.role_label(account)
    return render(request, "staff/user_list.html", {"users": users})


def _write(request, form, template: str, context: dict, write):
    """Call the service when the form is valid; a refusal becomes the form's error."""
    if form.is_valid():
        try:
            account = write(form.cleaned_data)
        except PermissionRefused:
            raise
        except Refused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, context["done"] % {"user": account.get_username()})
            return redirect("catalog:user_list")
    return render(request, template, {**context, "form": form})


@require_http_methods(["GET", "POST"])
@requires("auth.add_user")
def user_add(request):
    form = staff_users.StaffUserAddForm(request.POST or None)
    done = _("User %(user)s is added: they can log in now.")

    def write(data):
        return staff_users.create_staff_user(
            user=request.user,
            username=data["username"],
            password=data["password1"],
            role=data["role"],
            email=data.get("email", ""),
        )

    context = {"title": _("Add a user"), "done": done}
    return _write(request, form, "staff/user_form.html", context, write)


@require_http_methods(["GET", "POST"])
@requires("auth.change_user")
def user_edit(request, pk):
    target = selectors.account(pk)
    staff_users.may_change(request.user, target)  # refused before any form is shown
    initial = {"role": staff_users.role_of(target), "is_active": target.is_active}
    form = staff_users.StaffUserChangeForm(request.POST or None, initial=initial)

    def write(data):
        return staff_users.change_staff_user(
            user=request.user, target=target, role=data["role"], is_active=data["is_active"]
        )

    context = {"title": _("Change user"), "target": target, "done": _("User %(user)s is saved.")}
    return _write(request, form, "staff/user_form.html", context, write)


@require_http_methods(["GET", "POST"])
@requires("auth.change_user")
def user_password(request, pk):
    target = selectors.account(pk)
    staff_users.may_change(request.user, target)
    form = staff_users.StaffPasswordForm(target, request.POST or None)

    def write(data):
        return staff_users.reset_password(
            user=request.user, target=target, password=data["new_password1"]
        )

    done = _("The password of %(user)s is changed.")
    context = {"title": _("Reset password"), "target": target, "done": done}
    return _write(request, form, "staff/user_form.html", context, write)
