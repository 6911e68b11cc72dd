"""The admin's "Job queues" entry (django-rq's Dashboard model), for superusers only.

django-rq registers its own ModelAdmin, which serves a second copy of the whole RQ dashboard
under /admin/django_rq/dashboard/ to any staff member (its stats API to any staff member
without even the admin's gate). Replaced here by an entry that only superusers see, whose one
URL leads to the gated dashboard at /admin/rq/ (erp1688/rq_gate.py): one dashboard, one gate.
"""

from django.contrib import admin
from django.shortcuts import redirect
from django.urls import path
from django_rq.models import Dashboard

from catalog.common.admin_readonly import ReadOnlyAdminMixin
from erp1688.rq_gate import is_superuser, superusers_only


class JobQueuesAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    def has_module_permission(self, request):
        return is_superuser(request.user)

    def has_view_permission(self, request, obj=None):
        return is_superuser(request.user)

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_changelist"
        to_dashboard = superusers_only(lambda request: redirect("django_rq:home"))
        return [path("", to_dashboard, name=name)]


if admin.site.is_registered(Dashboard):
    admin.site.unregister(Dashboard)
admin.site.register(Dashboard, JobQueuesAdmin)
