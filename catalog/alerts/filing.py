"""Where a new alert goes (catalog/alerts/engine.py files each one as it is raised):

- its group: the alerts of one rule about one offer (or shop) within one local day are one row
  of the inbox, so a rule that fires fifty times for one offer is one line to read;
- a snooze: an alert raised while its rule, or its rule for this offer, is snoozed is recorded
  read and is not emailed (the inbox still lists it, marked);
- its email: at once, in the owner's daily digest, or none, fixed when it is raised.
"""

from datetime import datetime, time

from django.db.models import F
from django.utils import timezone

from catalog.models import Alert, AlertGroup, AlertRule, AlertSnooze


def subject_key(*, watched_offer_id=None, product_id=None, shop_id=None) -> str:
    """What an alert is about: "w<watched offer>", "p<product>" or "s<shop>"."""
    if watched_offer_id:
        return f"w{watched_offer_id}"
    if product_id:
        return f"p{product_id}"
    return f"s{shop_id}" if shop_id else ""


def window_start(at: datetime) -> datetime:
    """The start of the local day `at` falls in (the site's time zone): a group's window."""
    day = timezone.localtime(at).date()
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def snoozed(rule_ids, now=None) -> set[tuple[int, str]]:
    """(rule id, subject key) pairs snoozed now; an empty key snoozes the whole rule."""
    now = now or timezone.now()
    rows = AlertSnooze.objects.filter(rule_id__in=list(rule_ids), until__gt=now)
    return set(rows.values_list("rule_id", "subject_key"))


def is_snoozed(quiet: set[tuple[int, str]], rule_id: int, key: str) -> bool:
    return (rule_id, "") in quiet or (rule_id, key) in quiet


def mail_for(rule: AlertRule, quiet: bool) -> str:
    if quiet or not rule.email:
        return Alert.Mail.NONE
    return Alert.Mail.DIGEST if rule.digest else Alert.Mail.NOW


def group_for(rule: AlertRule, key: str, now, *, shop_id, product_id, watched_offer_id, unread):
    """The group this alert joins (made when it is the window's first), counted in. Called
    inside the transaction that creates the alert, so a rolled-back alert is not counted."""
    group, _made = AlertGroup.objects.get_or_create(
        rule=rule,
        subject_key=key,
        window_start=window_start(now),
        defaults={
            "owner_id": rule.owner_id,
            "shop_id": shop_id,
            "product_id": product_id,
            "watched_offer_id": watched_offer_id,
            "first_at": now,
            "last_at": now,
            "read_at": None if unread else now,
        },
    )
    changes = {"alert_count": F("alert_count") + 1, "last_at": now}
    if unread:
        changes["read_at"] = None
    AlertGroup.objects.filter(pk=group.pk).update(**changes)
    return group


def mark_groups_read(owner, group_ids=None, now=None) -> int:
    """The owner's groups read, with every alert in them; `group_ids` None: all. How many
    alerts were unread."""
    now = now or timezone.now()
    groups = AlertGroup.objects.filter(owner=owner)
    if group_ids is not None:
        groups = groups.filter(pk__in=list(group_ids))
    alerts = Alert.objects.filter(owner=owner, read_at__isnull=True)
    if group_ids is not None:
        alerts = alerts.filter(group_id__in=list(group_ids))
    count = alerts.update(read_at=now)
    groups.filter(read_at__isnull=True).update(read_at=now)
    return count


def settle_group_reads(owner, alert_ids) -> None:
    """After alerts were marked read one by one: their groups with no unread alert left are
    read too."""
    touched = Alert.objects.filter(owner=owner, pk__in=list(alert_ids)).values("group_id")
    unread = Alert.objects.filter(owner=owner, read_at__isnull=True, group__isnull=False)
    AlertGroup.objects.filter(pk__in=touched, read_at__isnull=True).exclude(
        pk__in=unread.values("group_id")
    ).update(read_at=timezone.now())
