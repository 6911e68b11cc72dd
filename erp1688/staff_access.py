"""The staff pages' own login: a styled page in the site's layout (the admin keeps its own).

`staff_member_required` is Django admin's decorator sending the visitor to this page
(settings.LOGIN_URL) instead of the admin's login. Throttling needs nothing here: django-axes
works in the authentication backend (AxesStandaloneBackend), which the login form calls with the
request, so a locked-out username and address get the lockout page on this page as on the admin's.
"""

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.views.decorators import staff_member_required as admin_staff_required
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import LoginView


def staff_member_required(view_func=None, redirect_field_name=REDIRECT_FIELD_NAME, login_url=None):
    """Signed in, active and staff, else the staff login page."""
    return admin_staff_required(
        view_func,
        redirect_field_name=redirect_field_name,
        login_url=login_url or settings.LOGIN_URL,
    )


class StaffLoginView(LoginView):
    """Only active staff accounts get in (the admin's form: anyone else would be sent back here
    by every page); a signed-in staff member is sent on."""

    authentication_form = AdminAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.is_staff:
            self.redirect_authenticated_user = False  # show the form, never a redirect loop
        return super().dispatch(request, *args, **kwargs)
