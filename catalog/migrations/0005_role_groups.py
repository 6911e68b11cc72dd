"""The role groups (operator 运营, manager 主管, viewer 只读) of erp1688/roles.py.

Permissions of a fresh database are created after the migrations run, so the groups' permissions
are set (and kept in step with ROLES) by the post_migrate handler in catalog/apps.py; this
migration creates the groups and gives them the permissions that already exist.
"""

from django.db import migrations

from erp1688.roles import ROLES, sync_role_permissions


def create_groups(apps, schema_editor):
    sync_role_permissions(
        group_model=apps.get_model("auth", "Group"),
        permission_model=apps.get_model("auth", "Permission"),
        using=schema_editor.connection.alias,
    )


def delete_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.using(schema_editor.connection.alias).filter(
        name__in=list(ROLES)
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("catalog", "0004_permissions_querysets_drop_idempotency_key"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
