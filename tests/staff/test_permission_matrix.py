"""Every role against every URL: a table of (URL, method, the permissions it needs),
and each role of erp1688/roles.py — plus a staff member with no role, and someone not signed
in — sends each request. Expected: a role holding the permissions is let through (any answer
but the permission refusal, never a 5xx); one lacking them gets the styled refusal page (403,
`data-code="permission_denied"`); the anonymous visitor is sent to the login page.

The table must name every URL pattern of the staff site: a new URL without a row fails
`test_the_table_covers_every_url`, so nobody adds a page without deciding who may open it.
Admin actions are covered per action by tests/staff/test_permissions.py.
"""

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from catalog.models.live_edits import LiveEdit
from erp1688.roles import ROLES
from tests.factories import (
    PriceStockChangeFactory,
    ProductFactory,
    ShopFactory,
    SkuFactory,
    UploadBatchFactory,
    UploadItemFactory,
    UserFactory,
)

# Writes queue jobs on commit (django-rq), so the requests run in committed transactions.
pytestmark = [pytest.mark.matrix, pytest.mark.django_db(transaction=True)]

VIEW_BATCHES = ("catalog.view_uploadbatch", "catalog.view_uploaditem")
FOLLOW = "catalog.view_sourcelink"
FOLLOW_RULES = "catalog.view_followrule"
STAFF = ()  # any signed-in staff member
SUPERUSER = ("superuser",)  # no role grants it

PAGE = "page"  # refused with the styled 403 page
MESSAGE = "message"  # refused as a message on the page it sends back to (nothing done)
NOT_FOUND = "404"  # an unknown object: refused (403) before the lookup, else 404

# (URL name, method, args key, POST data key, permissions needed[, how it refuses]). Order
# matters only for the writes that end a row's object (delete last). Rows whose URL does not
# exist (yet) in this checkout are skipped.
TABLE = [
    ("home", "get", None, None, STAFF),
    ("catalog:product_list", "get", None, None, ("catalog.view_product",)),
    ("catalog:product_export", "get", "csv", None, ("catalog.view_product",)),
    ("catalog:product_detail", "get", "product", None, ("catalog.view_product",)),
    ("catalog:product_bulk", "get", None, None, ("catalog.view_product",)),
    ("catalog:product_bulk", "post", None, "bulk_sync", ("catalog.sync_shop",), MESSAGE),
    ("catalog:product_bulk", "post", None, "bulk_copy", ("catalog.add_uploaditem",), MESSAGE),
    ("catalog:change_list", "get", None, None, ("catalog.view_pricestockchange",)),
    ("catalog:change_export", "get", "csv", None, ("catalog.view_pricestockchange",)),
    ("catalog:live_list", "get", None, None, ("catalog.view_liveedit",)),
    # Refused at once to whoever may not change live offers: no form to fill in for nothing.
    ("catalog:live_new", "get", None, None, ("catalog.view_liveedit", "catalog.change_live_offer")),
    ("catalog:live_new", "post", None, "live_plan", ("catalog.change_live_offer",)),
    ("catalog:live_detail", "get", "live", None, ("catalog.view_liveedit",)),
    ("catalog:live_progress", "get", "live", None, ("catalog.view_liveedit",)),
    ("catalog:live_check", "post", "live", None, ("catalog.change_live_offer",)),
    ("catalog:live_apply", "post", "live", None, ("catalog.change_live_offer",)),
    ("catalog:live_undo", "post", "live", None, ("catalog.change_live_offer",)),
    ("catalog:live_discard", "post", "live", None, ("catalog.change_live_offer",)),
    ("catalog:live_take_over", "post", "live", None, ("catalog.take_over_live_edit",)),
    ("catalog:batch_list", "get", None, None, VIEW_BATCHES),
    ("catalog:batch_create", "get", None, None, ("catalog.add_uploadbatch",)),
    ("catalog:batch_create", "post", None, "batch", ("catalog.add_uploadbatch",)),
    ("catalog:batch_detail", "get", "batch", None, VIEW_BATCHES),
    ("catalog:batch_progress", "get", "batch", None, VIEW_BATCHES),
    ("catalog:batch_export", "get", "batch_csv", None, VIEW_BATCHES),
    ("catalog:import_template", "get", "csv", None, STAFF),
    ("catalog:batch_import", "get", "batch", None, ("catalog.add_uploaditem",)),
    ("catalog:batch_import", "post", "batch", "import", ("catalog.add_uploaditem",)),
    ("catalog:batch_import_confirm", "post", "batch", "token", ("catalog.add_uploaditem",)),
    ("catalog:batch_import_rejects", "get", "batch_token", None, ("catalog.add_uploaditem",)),
    ("catalog:batch_copy", "get", "batch", None, ("catalog.add_uploaditem",)),
    ("catalog:batch_copy", "post", "batch", "copy", ("catalog.add_uploaditem",)),
    ("catalog:category_search", "get", "batch", None, ("catalog.add_uploaditem",)),
    ("catalog:category_panel", "get", "batch", None, ("catalog.add_uploaditem",)),
    ("catalog:sku_grid", "get", "batch", None, ("catalog.add_uploaditem",)),
    ("catalog:item_pictures", "post", "batch", "pictures", ("catalog.add_uploaditem",)),
    ("catalog:staged_picture", "get", "picture", None, VIEW_BATCHES),
    ("catalog:batch_preflight", "post", "batch", None, ("catalog.change_uploadbatch",)),
    ("catalog:batch_publishing", "post", "batch", None, ("catalog.change_uploadbatch",)),
    ("catalog:item_create", "get", "batch", None, ("catalog.add_uploaditem",)),
    ("catalog:item_create", "post", "batch", "item", ("catalog.add_uploaditem",)),
    ("catalog:item_edit", "get", "item", None, ("catalog.change_uploaditem",)),
    ("catalog:item_edit", "post", "item", "item", ("catalog.change_uploaditem",)),
    ("catalog:batch_bulk_edit", "post", "batch", "bulk", ("catalog.change_uploaditem",)),
    ("catalog:batch_validate", "post", "batch", None, ("catalog.change_uploadbatch",)),
    ("catalog:sourcing_search", "get", None, None, ("catalog.view_product",)),
    ("catalog:sourcing_image", "get", None, None, ("catalog.view_product",)),
    ("catalog:sourcing_stage", "post", None, "stage", ("catalog.add_uploaditem",)),
    ("catalog:supplier_store", "get", None, None, ("catalog.view_product",)),
    ("catalog:sourcing_images", "get", None, None, ("catalog.view_product",)),
    ("sync:connect", "post", None, None, ("catalog.connect_shop",)),
    ("sync:oauth_callback", "get", None, None, ("catalog.connect_shop",)),
    ("admin:index", "get", None, None, STAFF),
    ("admin:catalog_shop_changelist", "get", None, None, ("catalog.view_shop",)),
    ("admin:catalog_product_changelist", "get", None, None, ("catalog.view_product",)),
    ("admin:catalog_syncrun_changelist", "get", None, None, ("catalog.view_syncrun",)),
    ("admin:catalog_uploadbatch_changelist", "get", None, None, ("catalog.view_uploadbatch",)),
    ("admin:catalog_uploaditem_changelist", "get", None, None, ("catalog.view_uploaditem",)),
    ("admin:auth_user_changelist", "get", None, None, ("auth.view_user",)),
    ("admin:auth_group_changelist", "get", None, None, ("auth.view_group",)),
    ("admin:catalog_shop_change", "get", "shop", None, ("catalog.view_shop",)),
    ("admin:catalog_shop_change", "post", "shop", "admin_shop", ("catalog.change_shop",)),
    ("admin:catalog_product_change", "get", "product", None, ("catalog.view_product",)),
    ("admin:catalog_uploadbatch_add", "get", None, None, ("catalog.add_uploadbatch",)),
    ("admin:catalog_uploadbatch_change", "get", "batch", None, ("catalog.view_uploadbatch",)),
    ("admin:catalog_uploaditem_add", "get", None, None, ("catalog.add_uploaditem",)),
    ("admin:catalog_uploaditem_change", "get", "admin_item", None, ("catalog.view_uploaditem",)),
    ("django_rq:home", "get", None, None, SUPERUSER),
    ("catalog:batch_submit", "post", "batch", None, ("catalog.submit_uploadbatch",)),
    ("catalog:batch_retry", "post", "batch", None, ("catalog.submit_uploadbatch",)),
    ("catalog:batch_resubmit", "post", "batch", None, ("catalog.submit_uploadbatch",)),
    # Shop health, alerts, the watchlist (issues 16 and 18).
    ("catalog:shop_list", "get", None, None, ("catalog.view_shop",)),
    ("catalog:shop_detail", "get", "shop", None, ("catalog.view_shop",)),
    ("catalog:shop_sync", "post", "shop", None, ("catalog.sync_shop",), MESSAGE),
    ("catalog:dashboard_jobs", "get", None, None, ("catalog.view_syncrun",)),
    ("catalog:alert_inbox", "get", None, None, ("catalog.view_product",)),
    ("catalog:alert_mark_read", "post", None, None, ("catalog.view_product",)),
    ("catalog:alert_rules", "get", None, None, ("catalog.view_product",)),
    ("catalog:watch_list", "get", None, None, ("catalog.view_watchedoffer",)),
    ("catalog:watch_add", "post", None, "watch", ("catalog.watch_offer",)),
    ("catalog:watch_detail", "get", "unknown", None, ("catalog.view_watchedoffer",), NOT_FOUND),
    ("catalog:watch_reread", "post", "unknown", None, ("catalog.watch_offer",), NOT_FOUND),
    ("catalog:watch_remove", "post", "unknown", None, ("catalog.watch_offer",), NOT_FOUND),
    # Following suppliers: everyone reads; operators link, map and approve; managers set rules.
    ("catalog:follow_coverage", "get", None, None, (FOLLOW,)),
    ("catalog:follow_offer", "get", "product", None, (FOLLOW,)),
    ("catalog:follow_offer", "post", "product", None, (FOLLOW, "catalog.change_sourcelink")),
    ("catalog:follow_link", "post", "product", None, ("catalog.add_sourcelink",)),
    ("catalog:follow_unlink", "post", "product", None, ("catalog.delete_sourcelink",)),
    ("catalog:follow_rule", "get", "shop", None, (FOLLOW_RULES,)),
    ("catalog:follow_rule", "post", "shop", None, (FOLLOW_RULES, "catalog.change_followrule")),
    ("catalog:follow_dry_run", "post", "shop", None, (FOLLOW_RULES,)),
    ("catalog:follow_pause", "post", "shop", None, ("catalog.change_followrule",)),
    ("catalog:follow_now", "post", "shop", None, ("catalog.change_followrule",)),
    ("catalog:follow_offer_rule", "get", "product", None, (FOLLOW_RULES,)),
    (
        "catalog:follow_offer_rule",
        "post",
        "product",
        None,
        (FOLLOW_RULES, "catalog.change_followrule"),
    ),
    ("catalog:follow_offer_dry_run", "post", "product", None, (FOLLOW_RULES,)),
    ("catalog:follow_offer_rule_delete", "post", "product", None, ("catalog.change_followrule",)),
    ("catalog:follow_margins", "get", None, None, (FOLLOW,)),
    ("catalog:follow_inbox", "get", None, None, (FOLLOW,)),
    ("catalog:follow_approve", "post", "live", None, (FOLLOW, "catalog.approve_follow_change")),
    ("catalog:follow_reject", "post", "live", None, (FOLLOW, "catalog.approve_follow_change")),
    ("catalog:follow_history", "get", None, None, (FOLLOW,)),
    ("catalog:alert_rule_delete", "post", "unknown", None, ("catalog.view_product",), NOT_FOUND),
    ("catalog:alert_snooze", "post", "unknown", None, ("catalog.view_product",), NOT_FOUND),
    ("catalog:product_retitle", "post", "product", None, ("catalog.change_live_offer",)),
    ("catalog:item_delete", "post", "item", None, ("catalog.delete_uploaditem",)),
    # The users page (managers).
    ("catalog:user_list", "get", None, None, ("auth.view_user",)),
    ("catalog:user_add", "get", None, None, ("auth.add_user",)),
    ("catalog:user_add", "post", None, "user_add", ("auth.add_user",)),
    ("catalog:user_edit", "get", "user", None, ("auth.change_user",)),
    ("catalog:user_edit", "post", "user", "user_role", ("auth.change_user",)),
    ("catalog:user_password", "get", "user", None, ("auth.change_user",)),
    ("catalog:user_password", "post", "user", "user_password", ("auth.change_user",)),
]

# URL names outside the table, and why.
NOT_STAFF_PAGES = {
    "healthz",  # public health check (tests/fuzz/test_bad_input.py)
    "favicon",  # a redirect to the static icon
    "login",  # the staff login page (tests/staff/test_staff_accounts.py)
    "logout",
    "set_language",
    "push_1688",  # 1688's signed push, no login (its own tests)
}
ROLE_NAMES = [None, *ROLES]  # None: a staff member with no role


def world() -> dict:
    shop = ShopFactory()
    product = ProductFactory(shop=shop)
    SkuFactory(product=product)
    PriceStockChangeFactory(shop=shop, product=product)
    batch = UploadBatchFactory(shop=shop)
    item = UploadItemFactory(batch=batch, cargo_number="MATRIX-1")
    live = LiveEdit.objects.create(kind=LiveEdit.Kind.STOCK)
    return {"shop": shop, "product": product, "batch": batch, "item": item, "live": live}


def _staff_account(objects: dict):
    """The account the users page's rows change (never the one sending the request)."""
    if "user" not in objects:
        objects["user"] = UserFactory(username="matrix-target", roles=["viewer"])
    return objects["user"]


def url_of(name: str, args_key: str | None, objects: dict) -> str:
    args = {
        None: [],
        "csv": ["csv"],
        "product": [objects["product"].pk],
        "live": [objects["live"].pk],
        "batch": [objects["batch"].pk],
        "batch_csv": [objects["batch"].pk, "csv"],
        "batch_token": [objects["batch"].pk, "0" * 32],
        "picture": ["0" * 64],
        "item": [objects["batch"].pk, objects["item"].pk],
        "shop": [objects["shop"].pk],
        "admin_item": [objects["item"].pk],
        "unknown": [999999],
        "user": [_staff_account(objects).pk],
    }[args_key]
    return reverse(name, args=args)


def post_data(key: str | None, objects: dict) -> dict:
    product, batch, shop = objects["product"], objects["batch"], objects["shop"]
    item_fields = {
        "title": "矩阵测试T恤",
        "category_id": "1031910",
        "price": "25.00",
        "stock": "10",
        "unit": "件",
        "min_order_quantity": "1",
        "images": "img/ibank/2026/001/002/1_1.jpg",
        "cargo_number": "MATRIX-1",
    }
    return {
        None: {},
        "bulk_sync": {"select": [product.pk], "action": "sync"},
        "bulk_copy": {"select": [product.pk], "action": "copy", "batch": batch.pk},
        "live_plan": {"products": [product.pk], "kind": "stock", "stock_mode": "set", "stock": 1},
        "batch": {"shop": shop.pk, "name": "矩阵"},
        "import": {"file": SimpleUploadedFile("x.csv", "标题 Title\n衬衫\n".encode())},
        "token": {"token": "x"},
        "copy": {"offer_refs": "123"},
        "pictures": {"picture_files": SimpleUploadedFile("x.png", b"not a picture")},
        "item": item_fields,
        "bulk": {"items": [objects["item"].pk], "stock": "3"},
        "stage": {"offer_id": "1", "batch": batch.pk},
        "watch": {"offer_refs": "123", "shop": shop.pk},
        "admin_shop": {"name": "改名的店", "sync_enabled": "on"},
        "user_add": {
            "username": "matrix-new",
            "password1": "Tall-ladder-5521",
            "password2": "Tall-ladder-5521",
            "role": "viewer",
        },
        "user_role": {"role": "operator", "is_active": "on"},
        "user_password": {"new_password1": "Tall-ladder-5521", "new_password2": "Tall-ladder-5521"},
    }[key]


def rows(objects: dict):
    """The table's rows whose URL exists here: (name, method, url, data, needs, how)."""
    for row in TABLE:
        name, method, args_key, data_key, needs, *how = row
        try:
            url = url_of(name, args_key, objects)
        except NoReverseMatch:
            continue
        yield name, method, url, post_data(data_key, objects), needs, (how or [PAGE])[0]


def allowed(user, needs: tuple) -> bool:
    if needs == SUPERUSER:
        return user.is_superuser
    return user.has_perms(needs)


def is_permission_refusal(response) -> bool:
    return response.status_code == 403 and 'data-code="permission_denied"' in (
        response.content.decode(errors="replace")
    )


def refused(response, how: str) -> bool:
    if is_permission_refusal(response):
        return True
    if how == MESSAGE and response.status_code == 302:
        said = [str(m) for m in get_messages(response.wsgi_request)]
        return any("You do not have permission" in m for m in said)
    return how == NOT_FOUND and response.status_code == 404


def send(client, method: str, url: str, data: dict):
    if method == "get":
        return client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    return client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")


@pytest.mark.parametrize("role", ROLE_NAMES, ids=lambda r: r or "no-role")
def test_every_role_against_every_url(client, role, scoreboard, redis_conn, sandbox):
    user = UserFactory(username=f"m-{role or 'none'}", roles=[role] if role else [])
    client.force_login(user)
    wrong = []
    for name, method, url, data, needs, how in rows(world()):
        response = send(client, method, url, data)
        scoreboard.hostile()
        may = allowed(user, needs)
        if response.status_code >= 500:
            wrong.append((name, method, response.status_code, "server error"))
        elif may and is_permission_refusal(response):
            wrong.append((name, method, 403, "refused although the role may"))
        elif not may and not refused(response, how):
            wrong.append((name, method, response.status_code, "let through without permission"))
    assert not wrong, "\n".join(map(str, wrong))


def test_someone_not_signed_in_is_sent_to_the_login_page_everywhere(client, scoreboard):
    for name, method, url, data, _needs, _how in rows(world()):
        response = send(client, method, url, data)
        scoreboard.hostile()
        assert response.status_code == 302, (name, method, response.status_code)
        assert "/login/" in response["Location"], (name, response["Location"])


def test_a_superuser_is_let_through_everywhere(admin_client, redis_conn, sandbox):
    for name, _method, url, data, _needs, _how in rows(world()):
        response = send(admin_client, _method, url, data)
        assert response.status_code < 500 and not is_permission_refusal(response), name


def _names(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _names(entry.url_patterns, namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield prefix + entry.name


def test_the_table_covers_every_url():
    staff = {
        name
        for name in _names(get_resolver().url_patterns)
        if not name.startswith(("admin:", "django_rq:"))
    }
    missing = staff - {row[0] for row in TABLE} - NOT_STAFF_PAGES
    assert not missing, f"add a row to TABLE for each of: {sorted(missing)}"
