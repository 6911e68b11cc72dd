"""Alert emails, to the alert's owner in the site's language: one per new alert of a rule
that mails at once, sent after the writer's transaction commits (a mail that cannot be sent
never fails the writer); or one daily digest per owner of the alerts of rules that mail so.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from catalog.alerts.failures import short
from catalog.alerts.rendering import link, message
from catalog.models import Alert

log = logging.getLogger(__name__)


def _address(alert: Alert) -> str:
    """The alert's page as a whole address for an email (SITE_URL + its link)."""
    return getattr(settings, "SITE_URL", "http://127.0.0.1:8000").rstrip("/") + link(alert)


def send_quietly(alert_ids) -> None:
    """After the writer's commit: an email that cannot be sent never fails the sync."""
    try:
        send_emails(alert_ids=alert_ids)
    except Exception:  # the mail server, the template... logged; the alerts stay in the inbox
        log.exception("alert emails %s could not be sent", alert_ids)


def send_emails(*, alert_ids) -> int:
    """One email per alert not emailed yet, to its owner, in the site's language."""
    sent = 0
    alerts = Alert.objects.filter(
        pk__in=list(alert_ids), emailed_at__isnull=True, mail=Alert.Mail.NOW
    )
    for alert in alerts.select_related("owner"):
        if not alert.owner.email:
            continue
        with translation.override(settings.LANGUAGE_CODE):
            text = message(alert)
            subject = _("[erp1688] %(message)s") % {"message": short(text, 120)}
            body = "\n\n".join([text, _address(alert)])
        try:
            send_mail(subject, body, None, [alert.owner.email])
        except OSError:
            log.exception("alert %s: the email could not be sent", alert.pk)
            continue
        Alert.objects.filter(pk=alert.pk).update(emailed_at=timezone.now())
        sent += 1
    return sent


DIGEST_LINES = 200  # a digest lists this many alerts, then says how many more the inbox has


def send_digests(*, now=None) -> int:
    """One email per owner with the digest alerts raised up to `now` and not mailed yet,
    newest first; they are marked mailed only once the mail went. Returns mails sent."""
    now = now or timezone.now()
    due = Alert.objects.filter(
        mail=Alert.Mail.DIGEST, emailed_at__isnull=True, created_at__lte=now
    ).order_by()
    sent = 0
    for owner_id in sorted(set(due.values_list("owner_id", flat=True))):
        alerts = list(
            due.filter(owner_id=owner_id).select_related("owner").order_by("-created_at", "-id")
        )
        owner = alerts[0].owner
        if not owner.email or not owner.is_active:
            continue
        with translation.override(settings.LANGUAGE_CODE):
            lines = [f"- {message(a)}\n  {_address(a)}" for a in alerts[:DIGEST_LINES]]
            if len(alerts) > DIGEST_LINES:
                more = len(alerts) - DIGEST_LINES
                lines.append(_("... and %(n)d more in the alert inbox.") % {"n": more})
            subject = _("[erp1688] %(n)d alerts since the last digest") % {"n": len(alerts)}
        try:
            send_mail(subject, "\n\n".join(lines), None, [owner.email])
        except OSError:
            log.exception("the alert digest of user %s could not be sent", owner_id)
            continue
        Alert.objects.filter(pk__in=[a.pk for a in alerts]).update(emailed_at=timezone.now())
        sent += 1
    return sent


def send_digests_job() -> int:
    """Job: the daily digests (registered in sync/cron.py)."""
    return send_digests()
