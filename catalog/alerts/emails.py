"""Alert emails: one per new alert, to its owner, in the site's language, sent after the
writer's transaction commits; a mail that cannot be sent never fails the writer.
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


def send_quietly(alert_ids) -> None:
    """After the writer's commit: an email that cannot be sent never fails the sync."""
    try:
        send_emails(alert_ids=alert_ids)
    except Exception:  # the mail server, the template... logged; the alerts stay in the inbox
        log.exception("alert emails %s could not be sent", alert_ids)


def send_emails(*, alert_ids) -> int:
    """One email per alert not emailed yet, to its owner, in the site's language."""
    sent = 0
    alerts = Alert.objects.filter(pk__in=list(alert_ids), emailed_at__isnull=True)
    for alert in alerts.select_related("owner"):
        if not alert.owner.email:
            continue
        with translation.override(settings.LANGUAGE_CODE):
            text = message(alert)
            subject = _("[erp1688] %(message)s") % {"message": short(text, 120)}
            site = getattr(settings, "SITE_URL", "http://127.0.0.1:8000").rstrip("/")
            body = "\n\n".join([text, site + link(alert)])
        try:
            send_mail(subject, body, None, [alert.owner.email])
        except OSError:
            log.exception("alert %s: the email could not be sent", alert.pk)
            continue
        Alert.objects.filter(pk=alert.pk).update(emailed_at=timezone.now())
        sent += 1
    return sent
