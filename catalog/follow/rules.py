"""Follow rules, what managers set: a shop's rule, an offer's own rule (a whole rule that
replaces the shop's for that offer), the pause switch. Permission `catalog.change_followrule`
(erp1688/roles.py: managers). A rule's effect is previewed by the dry run
(catalog/follow/selectors.py `dry_run`) and takes effect on the next supplier move, or at once
through catalog/follow/services.py `follow_now`.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from catalog.models import FollowRule, Product, Shop
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused, require

PERMISSION = "catalog.change_followrule"
DECIMALS = ("margin_percent", "fixed_add", "floor", "ceiling", "approval_percent",
            "min_margin_percent")  # fmt: skip
INTEGERS = ("stock_buffer", "stock_cap", "max_changes_per_day")
FLAGS = ("active", "paused", "follow_price", "follow_stock", "relist")
CHOICES = ("round_to", "tiers", "sold_out", "gone")
FIELDS = DECIMALS + INTEGERS + FLAGS + CHOICES
NULLABLE = ("floor", "ceiling", "stock_cap")


def _bad(message, **params) -> Refused:
    return Refused(RefusalCode.FOLLOW_BAD_RULE, message, params=params or None)


def _number(name: str, value, kind):
    if value in (None, "") and name in NULLABLE:
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or abs(number) > Decimal("1e9"):
        raise _bad(
            _("%(field)s must be a number."),
            field=str(FollowRule._meta.get_field(name).verbose_name),
        )
    if kind is int:
        if number != number.to_integral_value() or number < 0:
            raise _bad(
                _("%(field)s must be a whole number, 0 or more."),
                field=str(FollowRule._meta.get_field(name).verbose_name),
            )
        return int(number)
    return number


def set_rule(*, user, shop: Shop, product: Product | None = None, **values) -> FollowRule:
    """Create or change the rule of `shop` (or, with `product`, that offer's own rule) from
    `values` (any of FIELDS; the others keep their value, a new rule starts from the shop's
    rule or the defaults). Refused: `permission_denied`, `follow.bad_rule` (a value out of
    range, an unknown field, a floor above the ceiling, an offer of another shop)."""
    require(user, PERMISSION)
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise _bad(_("Unknown rule setting: %(name)s."), name=", ".join(unknown)[:80])
    if product is not None and product.shop_id != shop.pk:
        raise _bad(_("This offer belongs to another shop."))
    cleaned = {}
    for name, value in values.items():
        if name in DECIMALS:
            cleaned[name] = _number(name, value, Decimal)
        elif name in INTEGERS:
            cleaned[name] = _number(name, value, int)
        elif name in FLAGS:
            cleaned[name] = value in (True, "1", "on", "true", "yes", 1)
        else:
            cleaned[name] = "" if value is None else str(value)
    with transaction.atomic():
        rule = (
            FollowRule.objects.select_for_update()
            .filter(shop=shop, product=product)
            .order_by("pk")
            .first()
        )
        if rule is None:
            rule = _new_rule(shop, product)
        for name, value in cleaned.items():
            setattr(rule, name, value)
        rule.updated_by = user
        _validate(rule)
        rule.save()
    return rule


def _new_rule(shop: Shop, product: Product | None) -> FollowRule:
    base = FollowRule.objects.filter(shop=shop, product__isnull=True).first()
    rule = FollowRule(shop=shop, product=product)
    if base is not None and product is not None:  # an offer's rule starts as its shop's
        for name in FIELDS:
            setattr(rule, name, getattr(base, name))
        rule.paused = False
    return rule


def _validate(rule: FollowRule) -> None:
    if rule.floor is not None and rule.ceiling is not None and rule.floor > rule.ceiling:
        raise _bad(_("The lowest price is above the highest price."))
    for name in ("floor", "ceiling"):
        if getattr(rule, name) is not None and getattr(rule, name) <= 0:
            raise _bad(_("Prices must be greater than 0."))
    try:
        rule.full_clean(exclude=["shop", "product", "updated_by"], validate_unique=False)
    except ValidationError as exc:
        first = next(iter(exc.message_dict.items()))
        field = str(FollowRule._meta.get_field(first[0]).verbose_name)
        raise _bad(_("%(field)s: %(error)s"), field=field, error=first[1][0]) from None


def delete_rule(*, user, rule: FollowRule) -> None:
    """Remove a rule: an offer's own rule (the offer follows its shop's again) or the shop's
    (its offers without a rule of their own stop following). Changes already made stay."""
    require(user, PERMISSION)
    rule.delete()


def pause(*, user, shop: Shop, paused: bool = True) -> FollowRule:
    """The shop's pause switch: while paused, its follow changes wait (they are made and shown,
    not sent); unpaused, the minute job follows the waiting offers again from the latest state.
    Refused `follow.no_rule` when the shop has no rule."""
    require(user, PERMISSION)
    with transaction.atomic():
        rule = (
            FollowRule.objects.select_for_update()
            .filter(shop=shop, product__isnull=True)
            .order_by("pk")  # the model's ordering joins shop and offer: no FOR UPDATE on those
            .first()
        )
        if rule is None:
            raise Refused(RefusalCode.FOLLOW_NO_RULE, _("This shop has no follow rule yet."))
        rule.paused, rule.updated_by = bool(paused), user
        rule.save(update_fields=["paused", "updated_by", "updated_at"])
    return rule
