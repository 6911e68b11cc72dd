"""One line of a live edit against 1688: its values as stored, what 1688 shows keyed the same
way, the comparison that finds conflicts, the reasons lines carry, and the operation's end
state once its lines are decided. Shared by planning, the job (run.py) and the read-back
(settle.py).
"""

from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_noop

from catalog.models import Product
from catalog.models.live_edits import LiveEdit, LiveEditLine
from catalog.shops.clients import call_as_shop
from erp1688.messages import Message, as_text, stored
from open1688.types import ProductDetail

Field = LiveEditLine.Field
LineStatus = LiveEditLine.Status


def why(msgid: str, **params) -> Message:
    """A line's reason as stored: the English message id and its parameters, shown later in
    the reader's language (erp1688/messages.py; templates use the `stored_message` filter)."""
    message = stored(msgid)
    return message % params if params else message


def line_text(value) -> str:
    """A line value as stored: prices with cents, stock as a whole number, statuses as is."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01")))
    return str(value)


def line_key(line: LiveEditLine) -> tuple:
    return (line.field, line.remote_sku_id, line.tier_start_quantity)


def remote_values(detail: ProductDetail) -> dict[tuple, object]:
    """What 1688 has now, keyed like the lines: (field, remote SKU id, tier start quantity)."""
    values: dict[tuple, object] = {(Field.STATUS, 0, None): detail.status}
    for sku in detail.skus:
        values[(Field.PRICE, sku.sku_id, None)] = sku.price
        values[(Field.STOCK, sku.sku_id, None)] = sku.amount_on_sale
    if not detail.skus:
        values[(Field.STOCK, 0, None)] = detail.amount_on_sale
    for tier in detail.price_ranges:
        values[(Field.TIER_PRICE, 0, tier.start_quantity)] = tier.price
    return values


def same_value(line: LiveEditLine, a: str, b: str) -> bool:
    if not line.is_numeric or a == "" or b == "":
        return a == b
    return Decimal(a) == Decimal(b)


def read_offer(shop, client, product: Product) -> ProductDetail:
    return call_as_shop(shop, client, client.get_product, product.offer_id)


def compare(lines: list[LiveEditLine], current: dict) -> list[LiveEditLine]:
    """Mark each line against what 1688 has now; returns the lines still to send."""
    to_send = []
    for line in lines:
        found = current.get(line_key(line))
        line.found = line_text(found)
        if found is None and line.field != Field.STATUS:
            line.status = LineStatus.FAILED
            line.reason = as_text(
                why(gettext_noop("This SKU or tier is no longer on the offer on 1688."))
            )
        elif same_value(line, line.found, line.after):
            line.status = LineStatus.UNCHANGED
            line.reason = as_text(why(gettext_noop("Already so on 1688.")))
        elif not same_value(line, line.found, line.before):
            line.status = LineStatus.CONFLICT
            line.reason = as_text(
                why(
                    gettext_noop(
                        "Changed on 1688 since the last sync: %(found)s there, %(before)s here. "
                        "Not overwritten."
                    ),
                    found=line.found or "—",
                    before=line.before or "—",
                )
            )
        else:
            line.status, line.reason = LineStatus.PLANNED, ""
            to_send.append(line)
    return to_send


def close(lines: list[LiveEditLine], status: str, reason: Message) -> None:
    for line in lines:
        line.status, line.reason = status, as_text(reason)[:2000]
    LiveEditLine.objects.bulk_update(lines, ["status", "reason", "found"])


def finish(operation: LiveEdit) -> LiveEdit:
    statuses = set(operation.lines.values_list("status", flat=True))
    if LineStatus.UNKNOWN in statuses:  # the minute job settles them (catalog/live_edits/settle.py)
        operation.status = LiveEdit.Status.CONFIRMING
    elif statuses <= {LineStatus.APPLIED, LineStatus.UNCHANGED}:
        operation.status = LiveEdit.Status.DONE
    elif LineStatus.APPLIED in statuses:
        operation.status = LiveEdit.Status.PARTLY_DONE
    else:  # nothing sent took: conflicts, refusals, failures only
        operation.status = LiveEdit.Status.FAILED
    operation.finished_at = timezone.now()
    operation.save(update_fields=["status", "finished_at"])
    return operation
