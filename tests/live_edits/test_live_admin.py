"""The admin of live offer changes and of alerts: live edits and their lines read-only and
append-only (like the change log), alert rules and alerts each staff member's own."""

import warnings
from decimal import Decimal

import pytest
from django.core.paginator import UnorderedObjectListWarning
from django.urls import reverse

from catalog.alerts.rules import create_rule
from catalog.models import Alert, AlertRule
from catalog.models.live_edits import LiveEdit, LiveEditLine
from erp1688.messages import as_text, stored
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def line(db):
    author = UserFactory(username="op", roles=["operator"])
    product = ProductFactory()
    operation = LiveEdit.objects.create(
        kind=LiveEdit.Kind.PRICE, status=LiveEdit.Status.PARTLY_DONE, created_by=author
    )
    return LiveEditLine.objects.create(
        operation=operation, product=product, field=LiveEditLine.Field.PRICE, label="红色 / M",
        before="10.00", after="10.50", found="11.00", status=LiveEditLine.Status.CONFLICT,
        reason=as_text(stored("Changed on 1688 since the last sync (now %(found)s): left alone.")
                       % {"found": "11.00"}),
    )  # fmt: skip


def login(client, roles=(), superuser=False, name="someone"):
    user = UserFactory(username=name, roles=list(roles), is_superuser=superuser)
    client.force_login(user)
    return user


def test_a_viewer_sees_live_edits_and_their_lines_read_only(client, line):
    login(client, roles=["viewer"])
    operations = client.get(reverse("admin:catalog_liveedit_changelist"))
    assert operations.status_code == 200 and f"#{line.operation_id}" in operations.content.decode()
    lines = client.get(
        reverse("admin:catalog_liveeditline_changelist"),
        {"operation__id__exact": line.operation_id},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    html = lines.content.decode()
    assert lines.status_code == 200 and "红色 / M" in html
    assert "Changed on 1688 since the last sync (now 11.00): left alone." in html  # rendered
    assert "msgid" not in html  # never the stored JSON
    page = client.get(reverse("admin:catalog_liveeditline_change", args=[line.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()


@pytest.mark.parametrize("roles,superuser", [(["viewer"], False), (["manager"], False), ([], True)])
def test_nobody_edits_adds_or_deletes_a_live_edit_line(client, line, roles, superuser):
    login(client, roles=roles, superuser=superuser)
    change = reverse("admin:catalog_liveeditline_change", args=[line.pk])
    answer = client.post(change, {"after": "1.00", "status": "applied", "reason": "edited"})
    assert answer.status_code == 403
    assert client.get(reverse("admin:catalog_liveeditline_add")).status_code == 403
    assert client.post(reverse("admin:catalog_liveedit_add"), {}).status_code == 403
    op_change = reverse("admin:catalog_liveedit_change", args=[line.operation_id])
    assert client.post(op_change, {"status": "done"}).status_code == 403
    delete = client.post(
        reverse("admin:catalog_liveeditline_delete", args=[line.pk]), {"post": "yes"}
    )
    assert delete.status_code == (302 if superuser else 403)  # only superusers delete
    line_after = LiveEditLine.objects.filter(pk=line.pk).first()
    if not superuser:
        assert (line_after.after, line_after.status) == ("10.50", LiveEditLine.Status.CONFLICT)


def test_staff_see_only_their_own_alert_rules_and_alerts(client, db):
    mine = login(client, roles=["viewer"], name="me")
    other = UserFactory(username="other", roles=["operator"])
    my_rule = create_rule(user=mine, kind="stock_below", threshold=Decimal(3))
    their_rule = create_rule(user=other, kind="price_change", threshold=Decimal(7), scope="watched")
    params = {
        "kind": "stock_below",
        "product": "我的杯子",
        "sku": "",
        "stock": "1",
        "threshold": "3",
    }
    my_alert = Alert.objects.create(rule=my_rule, owner=mine, state_key="a", params=params)
    their_alert = Alert.objects.create(
        rule=their_rule, owner=other, state_key="b", params={**params, "product": "别人的杯子"}
    )
    listing = client.get(reverse("admin:catalog_alert_changelist")).content.decode()
    assert "我的杯子" in listing and "别人的杯子" not in listing  # the sentence, not the JSON
    rules = client.get(reverse("admin:catalog_alertrule_changelist")).content.decode()
    change = reverse("admin:catalog_alertrule_change", args=[my_rule.pk])
    assert change in rules
    assert reverse("admin:catalog_alertrule_change", args=[their_rule.pk]) not in rules
    assert client.get(change).status_code == 200
    theirs = client.get(reverse("admin:catalog_alert_change", args=[their_alert.pk]))
    assert theirs.status_code == 302  # "does not exist" for this user: back to the index
    assert client.post(change, {"threshold": "99"}).status_code == 403  # read-only
    assert AlertRule.objects.get(pk=my_rule.pk).threshold == 3
    assert client.get(reverse("admin:catalog_alert_change", args=[my_alert.pk])).status_code == 200
    # Superusers see everyone's.
    login(client, superuser=True, name="root")
    listing = client.get(reverse("admin:catalog_alert_changelist")).content.decode()
    assert "我的杯子" in listing and "别人的杯子" in listing


def test_live_list_pages_an_ordered_queryset(client, line):
    """Paginating an unordered queryset warns (UnorderedObjectListWarning) and pages
    unpredictably; the live list orders newest first."""
    LiveEdit.objects.create(kind=LiveEdit.Kind.STOCK)
    login(client, roles=["viewer"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnorderedObjectListWarning)
        page = client.get(reverse("catalog:live_list"))
    assert page.status_code == 200
    shown = [operation.pk for operation in page.context["page"].object_list]
    assert shown == sorted(shown, reverse=True) and len(shown) == 2
