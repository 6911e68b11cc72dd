"""1688 message push, received: verify, deduplicate, store, and queue a re-read of each
watched offer a message names (docs/contracts.md "Watching suppliers"; the shapes:
docs/protocol.md "Message push").

Every channel ends in `receive`: the HTTP endpoint (catalog/watch_views.py `push_http`), the
WebSocket worker (sync/push_ws.py) and the replay (`replay`, on start and on schedule). A
message is stored once per `msgId` (a unique column: a duplicate is answered as received and
does nothing more); its content is only a hint: the offer is read again (sync/watch.py), the
stock delta is never applied.
"""

from __future__ import annotations

import hmac
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import Channel, PushMessage, WatchedOffer
from sync import watch
from sync.gateway import client_or_new
from sync.open1688 import MalformedResponseError, Open1688Client, Open1688Error
from sync.open1688.push_answers import push_envelope
from sync.open1688.signing import SIGNATURE_PARAM, sign

log = logging.getLogger(__name__)

PRODUCT_CHANGE = "PRODUCT_RELATION_VIEW_PRODUCT_CHANGE"
INVENTORY_CHANGE = "PRODUCT_PRODUCT_INVENTORY_CHANGE"
REPLAY_BATCH = 200
REPLAY_MAX_BATCHES = 50


class BadPush(Exception):
    """A push that is not signed right (`status` 401) or is not a message (400)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def verify_http_push(form: dict[str, str], *, secret: str | None = None) -> dict:
    """The envelope of an HTTP push whose `_aop_signature` is right: upper-hex HMAC-SHA1(app
    secret, the sorted key+value pairs of the form, no path) — for the usual form
    {message}, HMAC over "message" + the JSON. Raises BadPush."""
    given = form.get(SIGNATURE_PARAM, "")
    if not given:
        raise BadPush("missing _aop_signature", 401)
    fields = {k: v for k, v in form.items() if k != SIGNATURE_PARAM}
    expected = sign("", fields, secret or settings.OPEN1688_APP_SECRET)
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise BadPush("bad _aop_signature", 401)
    text = form.get("message", "")
    try:
        return push_envelope(json.loads(text))
    except (ValueError, MalformedResponseError) as exc:
        raise BadPush(f"message is not a push envelope: {exc}", 400) from exc


def offer_ids_of(envelope: dict) -> list[int]:
    """The offers a product message names (other topics name none)."""
    data, found = envelope.get("data") or {}, []
    if envelope.get("type") == PRODUCT_CHANGE:
        found = [p.strip() for p in str(data.get("productIds") or "").split(",")]
    elif envelope.get("type") == INVENTORY_CHANGE:
        changes = data.get("OfferInventoryChangeList") or []
        found = [c.get("offerId") for c in changes if isinstance(c, dict)]
    ids = []
    for value in found:
        try:
            offer_id = int(str(value))
        except ValueError:
            continue
        if 0 < offer_id < 2**63 and offer_id not in ids:
            ids.append(offer_id)
    return ids


@dataclass
class Received:
    msg_id: int
    duplicate: bool = False
    rereads: list[int] = field(default_factory=list)


def _born(envelope: dict) -> datetime | None:
    stamp = envelope.get("gmtBorn")
    if not stamp:
        return None
    try:
        return datetime.fromtimestamp(int(stamp) / 1000, tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def receive(envelope: dict, *, channel: str) -> Received:
    """Store a verified message once and queue a re-read of each watched offer it names."""
    result = Received(envelope["msgId"])
    offer_ids = offer_ids_of(envelope)
    born = _born(envelope)
    try:
        with transaction.atomic():
            message = PushMessage.objects.create(
                msg_id=envelope["msgId"],
                topic=str(envelope.get("type") or "")[:100],
                user_info=str(envelope.get("userInfo") or "")[:100],
                channel=channel,
                born_at=born,
                raw=envelope,
                offer_ids=offer_ids,
            )
    except IntegrityError:
        result.duplicate = True
        return result
    watched = WatchedOffer.objects.active().filter(offer_id__in=offer_ids)
    for offer_id in watched.values_list("offer_id", flat=True):
        watch.enqueue_reread(offer_id, channel, born)
        result.rereads.append(offer_id)
    PushMessage.objects.filter(pk=message.pk).update(processed_at=timezone.now())
    return result


@dataclass
class ReplayResult:
    messages: int = 0
    duplicates: int = 0
    rereads: int = 0
    error: str = ""


def replay(*, client: Open1688Client | None = None) -> ReplayResult:
    """Fetch missed messages with push.cursor.messageList (reading confirms them, so each batch
    is stored before the next is asked for) until 1688 has none left."""
    result = ReplayResult()
    with client_or_new(client) as api:
        for _batch in range(REPLAY_MAX_BATCHES):
            try:
                messages = api.cursor_messages(quantity=REPLAY_BATCH)
            except Open1688Error as exc:
                result.error = f"{exc.__class__.__name__}: {exc}"
                log.warning("push replay stopped: %s", result.error)
                break
            for envelope in messages:
                one = receive(envelope, channel=Channel.REPLAY)
                result.messages += 1
                result.duplicates += one.duplicate
                result.rereads += len(one.rereads)
            if not messages:
                break
    return result


def replay_job() -> dict:
    """RQ cron job (sync/cron.py) and the WebSocket worker's start."""
    return replay().__dict__
