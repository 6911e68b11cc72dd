"""Staff pages to change live 1688 offers: choose the change, preview before → after per SKU,
apply (a job), watch it, see the result and the change-log rows per offer, undo.

Each view parses input, reads through selectors.py, calls one service (planning.py plans a
draft, services.py applies, checks, discards or undoes it) and renders. A business refusal is
shown where it happened; a `PermissionRefused` goes on to the styled 403 page.
"""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from catalog.live_edits import ownership as live_ownership
from catalog.live_edits import selectors
from catalog.live_edits import services as live_services
from catalog.live_edits.planning import plan_live_edit
from catalog.live_edits.run import QUEUE
from catalog.live_edits.writes import TITLE_MAX_CHARS, retitle_offer
from catalog.models.live_edits import LiveEdit, LiveEditLine
from erp1688.refusals import Refused, require, show_refusal
from erp1688.staff_access import staff_member_required
from sync.workers import announce_queued

VIEW = "catalog.view_liveedit"
MAX_SHOWN_OFFERS = 200


class LiveEditForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Change"), choices=LiveEdit.Kind.choices, widget=forms.RadioSelect
    )
    percent = forms.DecimalField(
        label=gettext_lazy("Raise prices by %"),
        required=False,
        max_digits=7,
        decimal_places=2,
        min_value=Decimal("-99.99"),
        max_value=Decimal("1000"),
        help_text=gettext_lazy("Negative lowers them."),
    )
    add = forms.DecimalField(
        label=gettext_lazy("Then add (¥)"), required=False, max_digits=12, decimal_places=2
    )
    round_to = forms.ChoiceField(
        label=gettext_lazy("Round to"),
        required=False,
        choices=[("", gettext_lazy("No rounding")), ("0.1", "0.1"), ("1", "1")],
    )
    price = forms.DecimalField(
        label=gettext_lazy("Or set the price to (¥)"),
        required=False,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
    )
    stock_mode = forms.ChoiceField(
        label=gettext_lazy("Stock"),
        required=False,
        choices=[
            ("set", gettext_lazy("Set to")),
            ("adjust", gettext_lazy("Adjust by ±N")),
        ],
    )
    stock = forms.IntegerField(
        label=gettext_lazy("Amount"), required=False, min_value=-(10**9), max_value=10**9
    )
    skus = forms.MultipleChoiceField(
        label=gettext_lazy("Only these SKUs"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: every SKU."),
    )

    def __init__(self, *args, products=(), **kwargs):
        super().__init__(*args, **kwargs)
        skus = [s for p in products for s in p.skus.all()] if len(products) == 1 else []
        self.fields["skus"].choices = [(str(s.pk), str(s)) for s in skus]
        if not skus:
            del self.fields["skus"]

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        percent = data.get("percent")
        return {
            "kind": data["kind"],
            "multiply": None if percent is None else 1 + percent / 100,
            "add": data.get("add"),
            "round_to": data.get("round_to") or None,
            "price": data.get("price"),
            "stock_mode": data.get("stock_mode") or None,
            "stock": data.get("stock"),
            "sku_ids": [int(pk) for pk in data.get("skus") or []] or None,
        }


def _selected_ids(request) -> list[int]:
    """Product pks from ?offers=1,2 (or the product list's `select` checkboxes)."""
    values = request.GET.getlist("offers") + request.GET.getlist("select")
    if request.method == "POST":  # the product list posts its ticked `select` boxes here
        values += request.POST.getlist("offers") + request.POST.getlist("select")
    ids = []
    for value in values:
        for part in value.replace(",", " ").split():
            if part.isdigit() and len(part) <= 18:
                ids.append(int(part))
    return list(dict.fromkeys(ids))


def _typed_values(posted, kind: str) -> dict[str, str]:
    """The one-by-one values typed for `kind`: fields `value_<kind>_<sku|tier|offer>_<id>`."""
    prefix = f"value_{kind}_"
    values = {}
    for name, value in posted.items():
        if name.startswith(prefix) and value.strip():
            what, _sep, ident = name.removeprefix(prefix).partition("_")
            values[f"{what}:{ident}" if what != "offer" else "offer"] = value.strip()[:40]
    return values


@staff_member_required
@permission_required(VIEW, raise_exception=True)
def live_list(request):
    page = Paginator(selectors.operations(), 50).get_page(request.GET.get("page"))
    return render(request, "live_edits/live_list.html", {"page": page})


@staff_member_required
@permission_required(VIEW, raise_exception=True)
def live_new(request):
    # Refused before the form: filling it in only to be refused at the preview wastes the work.
    require(request.user, "catalog.change_live_offer")
    ids = _selected_ids(request)
    products = selectors.offers_to_change(ids[:MAX_SHOWN_OFFERS])
    # A post without a change is the product list handing over its selection: a blank form.
    posted = request.POST if request.method == "POST" and "kind" in request.POST else None
    form = LiveEditForm(posted, products=products, initial={"kind": LiveEdit.Kind.PRICE})
    if posted is not None and form.is_valid():
        arguments = form.service_arguments()
        try:
            operation = plan_live_edit(
                user=request.user,
                product_ids=ids,
                values=_typed_values(posted, arguments["kind"]),
                **arguments,
            )
        except Refused as refused:
            show_refusal(request, refused)
        else:
            return redirect("catalog:live_detail", pk=operation.pk)
    context = {
        "form": form,
        "one": products[0] if len(products) == 1 else None,
        "products": products,
        "offers": ",".join(str(i) for i in ids),
        "more": max(0, len(ids) - len(products)),
    }
    return render(request, "live_edits/live_new.html", context)


def _result_context(operation: LiveEdit, user) -> dict:
    lines = selectors.lines_of(operation)
    counts = {status: 0 for status in LiveEditLine.Status.values}
    for line in lines:
        counts[line.status] += 1
    changes = selectors.changes_made_by(operation)
    working = operation.status in (LiveEdit.Status.QUEUED, LiveEdit.Status.RUNNING)
    can_undo = (
        user.has_perm("catalog.change_live_offer")  # no button that only leads to a refusal
        and operation.is_finished
        and counts[LiveEditLine.Status.APPLIED] > 0
        and selectors.open_undo(operation) is None
    )
    draft = operation.status == LiveEdit.Status.DRAFT
    mine = operation.owner_id is not None and operation.owner_id == user.pk
    return {
        "operation": operation,
        "owner_name": live_ownership.owner_name(operation),
        "mine": mine,
        "can_take_over": draft and not mine and user.has_perm(live_ownership.TAKE_OVER),
        "rule": _rule_text(operation.params),
        "can_undo": can_undo,
        "undos": selectors.undos_of(operation),
        "lines": lines,
        "counts": [(LiveEditLine.Status(st).label, st, n) for st, n in counts.items() if n],
        "changes": changes,
        "working": working,
    }


def _rule_text(params: dict) -> str:
    """The rule as staff gave it: "× 1.05, + 3, round to 1", "set to 37", "adjust by -2"."""
    parts = []
    if "price" in params:
        parts.append(_("set to ¥%(price)s") % {"price": params["price"]})
    if "multiply" in params:
        parts.append(f"× {Decimal(params['multiply']).normalize()}")
    if "add" in params:
        parts.append(f"+ {params['add']}")
    if "values" in params:
        parts.append(_("values one by one"))
    if "round_to" in params:
        parts.append(_("round to %(step)s") % {"step": params["round_to"]})
    if params.get("mode") == "set" and "amount" in params:
        parts.append(_("set to %(amount)s") % {"amount": params["amount"]})
    if params.get("mode") == "adjust":
        parts.append(_("adjust by %(amount)+d") % {"amount": params["amount"]})
    return ", ".join(parts)


@staff_member_required
@permission_required(VIEW, raise_exception=True)
def live_detail(request, pk):
    operation = selectors.operation(pk, detailed=True)
    return render(request, "live_edits/live_detail.html", _result_context(operation, request.user))


@staff_member_required
@permission_required(VIEW, raise_exception=True)
def live_progress(request, pk):
    operation = selectors.operation(pk)
    return render(request, "live_edits/live_result.html", _result_context(operation, request.user))


@staff_member_required
@require_POST
def live_apply(request, pk):
    operation = selectors.operation(pk)
    try:
        live_services.apply_live_edit(user=request.user, operation=operation)
    except Refused as refused:
        show_refusal(request, refused)
    else:
        announce_queued(request, _("Sent to the queue: 1688 is being updated."), QUEUE)
    return redirect("catalog:live_detail", pk=pk)


@staff_member_required
@require_POST
def live_check(request, pk):
    operation = selectors.operation(pk)
    try:
        live_services.check_live_edit(user=request.user, operation=operation)
    except Refused as refused:
        show_refusal(request, refused)
    else:
        conflicts = selectors.conflict_count(operation)
        messages.info(
            request,
            _("Checked against 1688 now: %(n)d conflicts. Conflicts are not sent.")
            % {"n": conflicts},
        )
    return redirect("catalog:live_detail", pk=pk)


@staff_member_required
@require_POST
def live_discard(request, pk):
    operation = selectors.operation(pk)
    try:
        live_services.discard_live_edit(user=request.user, operation=operation)
    except Refused as refused:
        show_refusal(request, refused)
    else:
        messages.success(request, _("Discarded: nothing was sent to 1688."))
    return redirect("catalog:live_detail", pk=pk)


@staff_member_required
@require_POST
def live_take_over(request, pk):
    operation = selectors.operation(pk)
    try:
        live_ownership.take_over_live_edit(user=request.user, operation=operation)
    except Refused as refused:
        show_refusal(request, refused)
    else:
        messages.success(request, _("This draft is now yours: you can apply or discard it."))
    return redirect("catalog:live_detail", pk=pk)


@staff_member_required
@require_POST
def live_undo(request, pk):
    operation = selectors.operation(pk)
    try:
        undo = live_services.plan_undo(user=request.user, operation=operation)
    except Refused as refused:
        show_refusal(request, refused)
        return redirect("catalog:live_detail", pk=pk)
    messages.info(request, _("Check the undo below, then apply it."))
    return redirect("catalog:live_detail", pk=undo.pk)


class TitleForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("New title"), max_length=TITLE_MAX_CHARS * 2)


@staff_member_required
@require_POST
def product_retitle(request, pk):
    """Change an own offer's title on 1688 now (read, conflict check, write, read back:
    catalog/live_edits/writes.py); the product page says what happened."""
    require(request.user, "catalog.change_live_offer")  # before reading what was posted
    product = selectors.offer_to_retitle(pk)
    form = TitleForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("catalog:product_detail", pk=pk)
    try:
        done = retitle_offer(user=request.user, product=product, title=form.cleaned_data["title"])
    except Refused as refused:
        show_refusal(request, refused)
    else:
        if done.before != done.after:
            text = _("Title changed on 1688: %(before)s → %(after)s.")
        else:
            text = _("1688 already shows this title: nothing was sent.")
        messages.success(request, text % {"before": done.before, "after": done.after})
    return redirect("catalog:product_detail", pk=pk)
