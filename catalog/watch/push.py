"""1688 message push, received: verify, deduplicate, store, and queue a re-read of each
watched offer a message names (docs/contracts.md "Watching suppliers"; the shapes:
docs/protocol.md "Message push").

Every channel ends in `receive`: the HTTP endpoint (catalog/watch/views/watchlist.py `push_http`),
the WebSocket worker (catalog/watch/push_ws.py) and the replay (`replay`, on start and on schedule).
A message is stored once per `msgId` (a unique column: a duplicate is answered as received and does
nothing more); its content is only a hint: the offer is read again (catalog/watch/services.py), the
stock delta is never applied.

The de-duplication store remembers a msgId for PUSH_MEMORY_DAYS (`forget_old_messages`, run with
the scheduled replay); a message born before that is refused on every channel, so a captured
message sent again after its row is forgotten cannot pass as new. Forged HTTP posts (a bad
signature) are counted per client address and minute in Redis: past PUSH_FORGED_PER_MINUTE the
endpoint answers 429 before reading the body (`forged_retry_after`, `count_forged`).
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import django_rq
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from redis.exceptions import RedisError

from catalog.models import Channel, PushMessage, WatchedOffer
from catalog.shops.clients import client_or_new
from catalog.watch import services as watch
from open1688 import MalformedResponseError, Open1688Client, Open1688Error
from open1688.answers import push_envelope
from open1688.signing import SIGNATURE_PARAM, sign

log = logging.getLogger(__name__)

PRODUCT_CHANGE = "PRODUCT_RELATION_VIEW_PRODUCT_CHANGE"
INVENTORY_CHANGE = "PRODUCT_PRODUCT_INVENTORY_CHANGE"
REPLAY_BATCH = 200
REPLAY_MAX_BATCHES = 50
FORGED_WINDOW = 60  # seconds: forged posts are counted per address in windows of a minute


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
    # Hex compared case-insensitively, as the official verifier does (docs/protocol.md).
    if not hmac.compare_digest(expected.upper().encode(), given.upper().encode()):
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
    ids: dict[int, None] = {}  # first-seen order; a dict so that de-duplicating is linear
    for value in found:
        try:
            offer_id = int(str(value))
        except ValueError:
            continue
        if 0 < offer_id < 2**63:
            ids[offer_id] = None
    return list(ids)


@dataclass
class Received:
    msg_id: int
    duplicate: bool = False
    stale: bool = False  # born before the de-duplication memory: refused, nothing stored
    rereads: list[int] = field(default_factory=list)


def _born(envelope: dict) -> datetime | None:
    stamp = envelope.get("gmtBorn")
    if not stamp:
        return None
    try:
        return datetime.fromtimestamp(int(stamp) / 1000, tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def memory() -> timedelta:
    """How long the de-duplication store remembers a msgId."""
    return timedelta(days=settings.PUSH_MEMORY_DAYS)


def is_stale(born: datetime | None, now: datetime | None = None) -> bool:
    """Born before the store's memory: its msgId may have been forgotten, so it could not be
    told from a replayed capture. A message without gmtBorn cannot be judged and is let in."""
    return born is not None and born < (now or timezone.now()) - memory()


def receive(envelope: dict, *, channel: str) -> Received:
    """Store a verified message once and queue a re-read of each watched offer it names; a
    message older than the de-duplication memory is refused (`stale`) and stores nothing."""
    result = Received(envelope["msgId"])
    born = _born(envelope)
    if is_stale(born):
        result.stale = True
        log.warning(
            "push message %s (%s) refused: born %s, older than the %s-day de-duplication memory",
            envelope["msgId"],
            channel,
            born.isoformat() if born else "?",
            settings.PUSH_MEMORY_DAYS,
        )
        return result
    offer_ids = offer_ids_of(envelope)
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
    for offer_id in _watched_among(offer_ids):
        watch.enqueue_reread(offer_id, channel, born)
        result.rereads.append(offer_id)
    PushMessage.objects.filter(pk=message.pk).update(processed_at=timezone.now())
    return result


def _watched_among(offer_ids: list[int], chunk: int = 2000) -> list[int]:
    """The watched offers among `offer_ids`, by chunks (a message may name many thousands;
    one IN of them all would pass database parameter limits)."""
    active = WatchedOffer.objects.active()
    found: list[int] = []
    for start in range(0, len(offer_ids), chunk):
        part = offer_ids[start : start + chunk]
        found.extend(active.filter(offer_id__in=part).values_list("offer_id", flat=True))
    return found


def forget_old_messages(now: datetime | None = None) -> int:
    """Delete the stored messages received before the memory (`is_stale` refuses them if they
    come again); returns how many."""
    cutoff = (now or timezone.now()) - memory()
    deleted, _kinds = PushMessage.objects.filter(received_at__lt=cutoff).delete()
    return deleted


# --- forged posts, per client address -----------------------------------------------------


def _forged_key(address: str | None, now: float) -> str:
    return f"push:forged:{address or 'unknown'}:{int(now // FORGED_WINDOW)}"


def forged_retry_after(address: str | None) -> int:
    """Seconds to wait when `address` sent PUSH_FORGED_PER_MINUTE forged posts in this minute,
    else 0. Redis away: 0 (the signature check still refuses every forgery)."""
    now = time.time()
    try:
        count = int(django_rq.get_connection("default").get(_forged_key(address, now)) or 0)
    except (RedisError, ValueError):
        return 0
    if count < settings.PUSH_FORGED_PER_MINUTE:
        return 0
    return FORGED_WINDOW - int(now % FORGED_WINDOW)


def count_forged(address: str | None) -> None:
    """Count one forged post of `address` in this minute's window."""
    key = _forged_key(address, time.time())
    try:
        with django_rq.get_connection("default").pipeline(transaction=True) as pipe:
            count, _expired = pipe.incr(key).expire(key, 2 * FORGED_WINDOW).execute()
    except RedisError as exc:
        log.warning("push endpoint: forged post from %s not counted (%s)", address, exc)
        return
    if count == settings.PUSH_FORGED_PER_MINUTE:
        log.warning(
            "push endpoint: %s forged posts from %s within a minute; answering 429 until the "
            "minute ends",
            count,
            address,
        )


@dataclass
class ReplayResult:
    messages: int = 0
    duplicates: int = 0
    stale: int = 0
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
                result.stale += one.stale
                result.rereads += len(one.rereads)
            if not messages:
                break
    return result


def replay_job() -> dict:
    """RQ cron job (sync/cron.py): forget messages past the memory, then replay."""
    forgotten = forget_old_messages()
    return {**replay().__dict__, "forgotten": forgotten}
