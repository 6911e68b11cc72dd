"""The admin: the administrator's tool, not a back door around the services.

Django looks for admin modules in catalog only (one app), so this module imports each domain's:

- catalog/shops/admin.py: shops are added by connecting them (OAuth), never by hand; what 1688
  and the sync own is read-only.
- catalog/mirror/admin.py: mirrored 1688 data (products, SKUs) is read-only (the next sync
  overwrites it anyway); sync runs and the price/stock change log are the audit trail:
  append-only (no add, no change, no delete), except for superusers, who may delete.
- catalog/publishing/admin/batches.py: a batch's status and counters are read-only; its actions call
  the services. Upload items are saved and deleted through catalog.publishing.services (the staging
  lock): an item of a batch being uploaded, or an item already sent, is shown read-only.
- catalog/watch/admin.py, catalog/live_edits/admin.py: written by the system, read-only.
- catalog/follow/admin.py: source links and follow rules, shown only (written by its services).
- catalog/alerts/admin.py: each staff member sees their own rules and alerts, read-only.
- catalog/staff/admin.py: a manager may change users' groups and active flag, nothing else, and
  never a superuser.
- catalog/common/: who may add, change, delete (admin_readonly.py); actions declare
  `allowed_permissions`, and posting an action the user may not run is answered with the styled
  refusal page, not silently ignored (admin_actions.py); the admin's own words (admin_labels.py);
  the job queues' entry, superusers' only (rq_admin.py).
"""

from catalog.alerts import admin as alerts_admin
from catalog.common import admin_labels, rq_admin
from catalog.follow import admin as follow_admin
from catalog.live_edits import admin as live_edits_admin
from catalog.mirror import admin as mirror_admin
from catalog.publishing.admin import batches as publishing_admin
from catalog.shops import admin as shops_admin
from catalog.staff import admin as staff_admin
from catalog.watch import admin as watch_admin

__all__ = [
    "admin_labels",
    "alerts_admin",
    "follow_admin",
    "live_edits_admin",
    "mirror_admin",
    "publishing_admin",
    "rq_admin",
    "shops_admin",
    "staff_admin",
    "watch_admin",
]
