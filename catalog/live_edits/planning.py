"""Planning a change of live 1688 offers: a draft the staff member previews, before → after
per SKU, tier or offer. Nothing is sent to 1688 here: staff apply, check, discard or undo a
draft through catalog/live_edits/services.py, and the job (catalog/live_edits/run.py) sends it.
"""

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from catalog.live_edits.lines import Field, LineStatus, line_text, why
from catalog.models import Product, Sku
from catalog.models.live_edits import LiveEdit, LiveEditLine
from catalog.publishing.bulk_edit import ROUNDING_STEPS, new_price
from erp1688.messages import as_text
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused, require

PERMISSION = "catalog.change_live_offer"
MAX_OFFERS = 500  # one operation; the job spends about three calls per offer
LISTED_STATUS = "published"
DELISTED_STATUS = "outdated"  # what alibaba.product.expire leaves
GONE_STATUSES = {"delete", "deleted", "member deleted"}
STOCK_MODES = ("set", "adjust")


def _decimal(value, name: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or abs(number) > Decimal("1e9"):
        raise Refused(
            RefusalCode.BAD_NUMBER,
            gettext_lazy("%(name)s must be a number."),
            params={"name": name},
        )
    return number


def plan_live_edit(
    *,
    user,
    product_ids,
    kind: str,
    multiply=None,
    add=None,
    round_to=None,
    price=None,
    stock_mode: str | None = None,
    stock=None,
    sku_ids=None,
    values: dict | None = None,
) -> LiveEdit:
    """A draft change of the offers `product_ids` (Product pks), previewed line by line.

    kind "price": each SKU price (quote type 1) or tier price (quote types 0 and 2) becomes
    `price` if given, else price × multiply + add rounded to `round_to` (0.1 or 1) — the batch
    bulk-edit rule. kind "stock": `stock_mode` "set" makes each SKU's stock `stock`, "adjust"
    adds `stock` (negative takes away). `sku_ids` (Sku pks) limits the change to those SKUs.
    kind "delist"/"relist": the offers go off sale / back on sale. Nothing is sent to 1688.
    `values` (one offer, instead of a rule): each new value by key — "sku:<Sku pk>" or
    "tier:<start quantity>" for prices, "sku:<Sku pk>" or "offer" for stock (set as is), as
    after a stocktake.
    """
    require(user, PERMISSION)
    if kind not in LiveEdit.Kind.values:
        raise Refused(
            RefusalCode.BAD_KIND, gettext_lazy("Choose a change: price, stock, delist or relist.")
        )
    ids = _ids(product_ids)
    if not ids:
        raise Refused(RefusalCode.NO_OFFERS, gettext_lazy("Select at least one offer."))
    if len(ids) > MAX_OFFERS:
        raise Refused(
            RefusalCode.TOO_MANY_OFFERS,
            gettext_lazy("At most %(max)d offers can be changed at once."),
            params={"max": MAX_OFFERS},
        )
    products = list(
        Product.objects.filter(pk__in=ids).select_related("shop").prefetch_related("skus")
    )
    if len(products) != len(ids):
        raise Refused(
            RefusalCode.UNKNOWN_OFFER, gettext_lazy("Some of the selected offers do not exist.")
        )
    wanted_skus = None if sku_ids in (None, "", []) else set(_ids(sku_ids))
    values = {key: value for key, value in (values or {}).items() if str(value).strip() != ""}
    if values:
        rule = (multiply, add, round_to, price, stock)
        return _plan_values(
            user, products, kind, values, rule_given=any(v not in (None, "") for v in rule)
        )
    if kind == LiveEdit.Kind.PRICE:
        params, make = _price_rule(multiply, add, round_to, price)
    elif kind == LiveEdit.Kind.STOCK:
        params, make = _stock_rule(stock_mode, stock)
    else:
        params, make = {}, None
    lines = []
    for product in products:
        if product.status in GONE_STATUSES:
            raise Refused(
                RefusalCode.OFFER_GONE,
                gettext_lazy("Offer %(offer)s has been deleted on 1688 and cannot be changed."),
                params={"offer": product.offer_id},
            )
        if kind == LiveEdit.Kind.PRICE:
            lines.extend(_price_lines(product, make, wanted_skus))
        elif kind == LiveEdit.Kind.STOCK:
            lines.extend(_stock_lines(product, make, wanted_skus))
        else:
            lines.append(_status_line(product, kind))
    if not lines:
        raise Refused(
            RefusalCode.NOTHING_TO_CHANGE,
            gettext_lazy("The selected offers have nothing this can change."),
        )
    return _save_draft(user, kind, params, lines)


def _save_draft(user, kind: str, params: dict, lines: list[LiveEditLine]) -> LiveEdit:
    with transaction.atomic():
        operation = LiveEdit.objects.create(kind=kind, params=params, created_by=user)
        for line in lines:
            line.operation = operation
        LiveEditLine.objects.bulk_create(lines)
    return operation


def _plan_values(user, products, kind, values: dict, *, rule_given: bool) -> LiveEdit:
    if kind not in (LiveEdit.Kind.PRICE, LiveEdit.Kind.STOCK) or len(products) != 1:
        raise Refused(
            RefusalCode.VALUES_ONE_OFFER,
            gettext_lazy("Values one by one are for the prices or the stock of one offer."),
        )
    if rule_given:
        raise Refused(
            RefusalCode.RULE_OR_VALUES,
            gettext_lazy("Give either a rule or values one by one, not both."),
        )
    (product,) = products
    lines = [_value_line(product, kind, str(key), value) for key, value in values.items()]
    params = {"values": len(lines)} if kind == LiveEdit.Kind.PRICE else {"mode": "set"}
    return _save_draft(user, kind, params, lines)


def _value_line(product: Product, kind: str, key: str, raw) -> LiveEditLine:
    what, _sep, ident = key.partition(":")
    skus = {str(s.pk): s for s in product.skus.all()}
    unknown = Refused(
        RefusalCode.UNKNOWN_VALUE_KEY,
        gettext_lazy("%(key)s is not a SKU or tier of this offer."),
        params={"key": key[:40]},
    )
    if kind == LiveEdit.Kind.PRICE:
        new = _decimal(raw, _("Price"))
        if new <= 0:
            raise Refused(RefusalCode.BAD_PRICE, gettext_lazy("The price must be greater than 0."))
        new = new.quantize(Decimal("0.01"))
        if what == "sku" and ident in skus:
            return _line(product, Field.PRICE, skus[ident].price, new, sku=skus[ident])
        tiers = {str(t.get("start_quantity")): t.get("price") for t in product.price_ranges}
        if what != "tier" or ident not in tiers:
            raise unknown
        line = _line(product, Field.TIER_PRICE, Decimal(str(tiers[ident])), new)
        line.tier_start_quantity = int(ident)
        line.label = _("From %(quantity)d %(unit)s") % {
            "quantity": int(ident),
            "unit": product.unit,
        }
        return line
    amount = _decimal(raw, _("Stock"))
    if amount < 0 or amount != amount.to_integral_value():
        raise Refused(
            RefusalCode.BAD_STOCK, gettext_lazy("The stock must be a whole number, 0 or more.")
        )
    if what == "sku" and ident in skus:
        return _line(product, Field.STOCK, skus[ident].stock, int(amount), sku=skus[ident])
    if what == "offer" and not skus:
        return _line(product, Field.STOCK, product.amount_on_sale, int(amount))
    raise unknown


def _ids(values) -> list[int]:
    if isinstance(values, str):
        values = values.replace(",", " ").split()
    try:
        ids = [int(v) for v in values or []]
    except (TypeError, ValueError):
        raise Refused(
            RefusalCode.BAD_IDS, gettext_lazy("Offer and SKU ids must be numbers.")
        ) from None
    if any(i <= 0 or i > 2**63 - 1 for i in ids):
        raise Refused(RefusalCode.BAD_IDS, gettext_lazy("Offer and SKU ids must be numbers."))
    return list(dict.fromkeys(ids))


def _price_rule(multiply, add, round_to, price):
    multiply, add = _decimal(multiply, _("Multiply by")), _decimal(add, _("Add"))
    round_to, price = _decimal(round_to, _("Round to")), _decimal(price, _("Price"))
    if all(v is None for v in (multiply, add, round_to, price)):
        raise Refused(
            RefusalCode.NO_PRICE_RULE,
            gettext_lazy("Give a new price, or a percentage, an amount to add or a rounding."),
        )
    if round_to is not None and round_to not in ROUNDING_STEPS:
        raise Refused(RefusalCode.BAD_ROUNDING, gettext_lazy("Round to 0.1 or 1 only."))
    if multiply is not None and multiply <= 0:
        raise Refused(
            RefusalCode.BAD_MULTIPLY, gettext_lazy("The price factor must be greater than 0.")
        )
    if price is not None and price <= 0:
        raise Refused(RefusalCode.BAD_PRICE, gettext_lazy("The price must be greater than 0."))
    params = {
        key: str(value)
        for key, value in {
            "multiply": multiply,
            "add": add,
            "round_to": round_to,
            "price": price,
        }.items()
        if value is not None
    }

    def make(before: Decimal) -> Decimal:
        if price is not None:
            return price.quantize(Decimal("0.01"))
        return new_price(before, multiply=multiply, add=add, round_to=round_to)

    return params, make


def _stock_rule(mode, stock):
    if mode not in STOCK_MODES:
        raise Refused(
            RefusalCode.BAD_STOCK_MODE, gettext_lazy("Choose: set the stock, or adjust it by ±N.")
        )
    amount = _decimal(stock, _("Stock"))
    if amount is None or amount != amount.to_integral_value():
        raise Refused(RefusalCode.BAD_STOCK, gettext_lazy("The stock must be a whole number."))
    amount = int(amount)
    if mode == "set" and amount < 0:
        raise Refused(RefusalCode.BAD_STOCK, gettext_lazy("The stock cannot be negative."))

    def make(before: int | None) -> int | None:
        if mode == "set":
            return amount
        return None if before is None else before + amount

    return {"mode": mode, "amount": amount}, make


def _sku_label(sku: Sku) -> str:
    return str(sku)[:255]


def _price_lines(product: Product, make, wanted_skus) -> list[LiveEditLine]:
    skus = [s for s in product.skus.all() if wanted_skus is None or s.pk in wanted_skus]
    by_sku = product.quote_type == 1 or (
        product.quote_type is None and skus and all(s.price is not None for s in skus)
    )
    lines = []
    if by_sku:
        for sku in skus:
            if sku.price is None:
                continue  # unknown: nothing to compute from
            lines.append(
                _line(product, Field.PRICE, sku.price, _checked_price(make(sku.price)), sku=sku)
            )
        return lines
    if wanted_skus is not None:
        return []  # these SKUs share the offer's tier prices: change the tiers instead
    for tier in product.price_ranges or []:
        try:
            start, before = int(tier["start_quantity"]), Decimal(str(tier["price"]))
        except (KeyError, TypeError, ValueError, InvalidOperation):
            continue
        line = _line(product, Field.TIER_PRICE, before, _checked_price(make(before)))
        line.tier_start_quantity = start
        line.label = _("From %(quantity)d %(unit)s") % {"quantity": start, "unit": product.unit}
        lines.append(line)
    return lines


def _checked_price(value: Decimal) -> Decimal:
    if value <= 0:
        raise Refused(
            RefusalCode.PRICE_NOT_POSITIVE,
            gettext_lazy("The rule would make a price %(price)s; prices must stay above 0."),
            params={"price": value},
        )
    return value


def _stock_lines(product: Product, make, wanted_skus) -> list[LiveEditLine]:
    skus = list(product.skus.all())
    if not skus:
        if wanted_skus is not None:
            return []
        return [_stock_line(product, None, product.amount_on_sale, make)]
    return [
        _stock_line(product, sku, sku.stock, make)
        for sku in skus
        if wanted_skus is None or sku.pk in wanted_skus
    ]


def _stock_line(product, sku, before, make) -> LiveEditLine:
    after = make(before)
    if after is not None and after < 0:
        raise Refused(
            RefusalCode.STOCK_NEGATIVE,
            gettext_lazy("The stock of offer %(offer)s would go below 0 (%(stock)d)."),
            params={"offer": product.offer_id, "stock": after},
        )
    line = _line(product, Field.STOCK, before, after, sku=sku)
    if after is None:
        line.status = LineStatus.FAILED
        line.reason = as_text(
            why(gettext_noop("The stock of this SKU is unknown: sync the shop first."))
        )
    return line


def _status_line(product: Product, kind: str) -> LiveEditLine:
    after = DELISTED_STATUS if kind == LiveEdit.Kind.DELIST else LISTED_STATUS
    line = _line(product, Field.STATUS, product.status, after)
    line.label = product.subject[:255]
    return line


def _line(product, field, before, after, *, sku=None) -> LiveEditLine:
    line = LiveEditLine(
        product=product,
        sku=sku,
        remote_sku_id=sku.sku_id if sku else 0,
        spec_id=sku.spec_id if sku else "",
        field=field,
        label=_sku_label(sku) if sku else "",
        before=line_text(before),
        after=line_text(after),
    )
    if line.before == line.after:
        line.status = LineStatus.UNCHANGED
        line.reason = as_text(why(gettext_noop("Nothing to change.")))
    return line
