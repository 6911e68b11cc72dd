"""Alerts for staff: the inbox (with its unread count in the navigation) and one's own rules.

Thin shells: reads through catalog/alerts/selectors.py, writes through catalog/alerts/rules.py
(create_rule, delete_rule, mark_read, mark_groups_read, snooze). The inbox lists groups: a
rule's alerts about one offer (or shop) within a day, expandable to the alerts. Everyone on
staff who may see products may set rules for themselves; each sees only their own rules and
alerts.
"""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from catalog.alerts import rules as rule_services
from catalog.alerts import selectors
from catalog.alerts.rendering import link, message
from catalog.mirror.views.products import requires
from catalog.models import AlertRule
from erp1688.refusals import PermissionRefused, Refused

PER_PAGE = 50


class AlertRuleForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("When"), choices=AlertRule.Kind.choices)
    threshold = forms.DecimalField(
        label=gettext_lazy("N"),
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text=gettext_lazy("Percent, stock level or days, depending on the kind."),
    )
    scope = forms.ChoiceField(
        label=gettext_lazy("Whose offers"),
        choices=AlertRule.Scope.choices,
        initial=AlertRule.Scope.OWN,
        required=False,
        help_text=gettext_lazy("Price and stock alerts may also watch suppliers' offers."),
    )
    shop = forms.ModelChoiceField(
        label=gettext_lazy("Shop"),
        queryset=selectors.shop_choices(),
        required=False,
        empty_label=gettext_lazy("Every shop"),
    )
    offer_id = forms.IntegerField(
        label=gettext_lazy("Offer id"),
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text=gettext_lazy("Only this offer (empty: every offer)."),
    )
    mail = forms.ChoiceField(
        label=gettext_lazy("Email"),
        choices=[
            ("now", gettext_lazy("At once, one mail per alert")),
            ("digest", gettext_lazy("Once a day, all together")),
            ("", gettext_lazy("No email")),
        ],
        initial="now",
        required=False,
    )

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        needs_n = kind in (AlertRule.Kind.PRICE_CHANGE, AlertRule.Kind.STOCK_BELOW)
        if needs_n and data.get("threshold") is None and "threshold" not in self.errors:
            self.add_error("threshold", _("This kind of alert needs a number N."))
        data["scope"] = data.get("scope") or AlertRule.Scope.OWN
        offer_id = data.get("offer_id")
        data["product"] = None
        if offer_id and kind not in AlertRule.SHOP_KINDS:
            data["product"] = selectors.product_by_offer(offer_id, data.get("shop"))
            if data["product"] is None:
                self.add_error("offer_id", _("No product with this offer id."))
        return data


@requires("catalog.view_product")
def alert_inbox(request):
    show = request.GET.get("show", "")
    groups = selectors.inbox_groups(request.user, unread_only=show == "unread")
    page = Paginator(groups, PER_PAGE).get_page(request.GET.get("page"))
    rows = []
    for group in selectors.with_alerts(page.object_list):
        alerts = [(a, message(a), link(a)) for a in group.shown]
        rows.append((group, alerts))
    context = {"page": page, "rows": rows, "show": show, "snooze_hours": rule_services.SNOOZE_HOURS}
    return render(request, "alerts/alert_inbox.html", context)


def _ids(request, name: str) -> list[int] | None:
    """The posted ids (None: none posted); a value that is not a number is refused."""
    values = request.POST.getlist(name)
    if not values:
        return None
    return [int(v) for v in values]


@requires("catalog.view_product")
@require_POST
def alert_mark_read(request):
    """Mark alerts read: the ticked groups (`group`), single alerts (`alert`), or all."""
    try:
        groups, alerts = _ids(request, "group"), _ids(request, "alert")
    except ValueError:
        messages.error(request, _("Unknown alert."))
        return redirect("catalog:alert_inbox")
    if groups is not None:
        count = rule_services.mark_groups_read(user=request.user, group_ids=groups)
    elif alerts is not None:
        count = rule_services.mark_read(user=request.user, alert_ids=alerts)
    else:
        count = rule_services.mark_groups_read(user=request.user)
    messages.success(request, _("%(count)d alert(s) marked read.") % {"count": count})
    return redirect("catalog:alert_inbox")


@requires("catalog.view_product")
@require_POST
def alert_snooze(request, pk):
    group = selectors.own_group(request.user, pk)
    try:
        hours = int(request.POST.get("hours", ""))
    except ValueError:
        hours = 0
    whole_rule = request.POST.get("what") == "rule"
    try:
        quiet = rule_services.snooze(
            user=request.user, group=group, hours=hours, whole_rule=whole_rule
        )
    except PermissionRefused:
        raise
    except Refused as refused:
        messages.error(request, refused.message)
    else:
        until = date_format(timezone.localtime(quiet.until), "DATETIME_FORMAT")
        messages.success(request, _("Snoozed until %(until)s.") % {"until": until})
    return redirect("catalog:alert_inbox")


@requires("catalog.view_product")
def alert_rules(request):
    form = AlertRuleForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rule_services.create_rule(
                user=request.user,
                kind=data["kind"],
                threshold=data.get("threshold"),
                shop=data.get("shop"),
                product=data.get("product"),
                email=bool(data.get("mail")),
                digest=data.get("mail") == "digest",
                scope=data["scope"],
            )
        except PermissionRefused:
            raise
        except Refused as refused:
            messages.error(request, refused.message)
        else:
            messages.success(request, _("Alert rule saved."))
            return redirect("catalog:alert_rules")
    rules = selectors.rules_of(request.user)
    return render(request, "alerts/alert_rules.html", {"form": form, "rules": rules})


@requires("catalog.view_product")
@require_POST
def alert_rule_delete(request, pk):
    rule = selectors.own_rule(request.user, pk)
    rule_services.delete_rule(user=request.user, rule=rule)
    messages.success(request, _("Alert rule deleted."))
    return redirect("catalog:alert_rules")
