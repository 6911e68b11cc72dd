from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from erp1688.roles import on_post_migrate


class CatalogConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "catalog"
    verbose_name = _("Catalog")

    def ready(self):
        # Keeps the role groups' permissions equal to erp1688.roles.ROLES after every migrate.
        post_migrate.connect(on_post_migrate, dispatch_uid="erp1688.roles.sync")
