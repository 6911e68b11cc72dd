"""What the public record says of the buyer side and of push, over HTTP against the sandbox:
1688's refusal for a missing offer (`SP0056 商品不存在`) reads as "no such offer" in sourcing,
watch and copy; keyword search sends `country` and no invented minimum-order filter (the
minimum order is filtered here, from the results); an HTTP push signed in lower-case hex is
accepted, as the official verifier compares case-insensitively."""

import hashlib
import hmac
import json
import time
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from catalog.models import PushMessage, WatchedOffer
from catalog.publishing.upload.copying import copy_offers
from catalog.sourcing import services as sourcing
from catalog.watch import services as watch
from erp1688.messages import as_text
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused
from open1688 import Open1688Client
from tests.factories import UploadBatchFactory

MISSING = 999_999_999_001


def test_sp0056_is_no_such_offer_in_sourcing_watch_and_copy(sandbox, connected_shop):
    with pytest.raises(Refused) as missing:
        sourcing.read_supplier_offer(MISSING)
    assert missing.value.code == RefusalCode.OFFER_NOT_FOUND
    assert missing.value.__cause__.code == "SP0056"  # what the sandbox answered

    WatchedOffer.objects.create(offer_id=MISSING, active=True)
    result = watch.reread(MISSING, channel="poll")
    kept = WatchedOffer.objects.get(offer_id=MISSING).last_error
    with translation.override("en"):
        assert "No such offer" in as_text(kept), (result.error, kept)

    batch = UploadBatchFactory(shop=connected_shop)
    with translation.override("en"):
        copied = copy_offers(batch, str(MISSING))
        assert copied.created == [] and len(copied.errors) == 1
        assert "No such offer" in as_text(copied.errors[0][1])


def test_keyword_search_sends_country_and_filters_the_minimum_order_here(
    sandbox, connected_shop, monkeypatch
):
    sandbox.control("seed", {"member_id": "b2b-2209000088", "count": 40, "seed": 5})
    sent = []
    original = Open1688Client.call

    def spy(self, namespace, api, params, **kwargs):
        if api == "product.search.keywordQuery":
            sent.append(params["offerQueryParam"])
        return original(self, namespace, api, params, **kwargs)

    monkeypatch.setattr(Open1688Client, "call", spy)
    everything = sourcing.search_by_keyword(
        user=None, query=sourcing.KeywordQuery(keyword="女"), page_size=50
    )
    small = sourcing.search_by_keyword(
        user=None, query=sourcing.KeywordQuery(keyword="女", min_order_max=2), page_size=50
    )
    assert all(query["country"] == "en" for query in sent)
    assert all("filter" not in query for query in sent)  # no minOrderQuantity:N
    assert small.items and all(o.min_order_quantity <= 2 for o in small.items)
    kept = {o.offer_id for o in everything.items if (o.min_order_quantity or 0) <= 2}
    assert {o.offer_id for o in small.items} == kept
    assert Decimal("0") <= min(o.price for o in small.items if o.price is not None)


def signed_lower(message: dict, secret: str) -> dict:
    text = json.dumps(message)
    signature = hmac.new(secret.encode(), ("message" + text).encode(), hashlib.sha1)
    return {"message": text, "_aop_signature": signature.hexdigest().lower()}


def test_a_push_signed_in_lower_case_hex_is_accepted(client, db, settings):
    message = {
        "msgId": 77001,
        "type": "PRODUCT_RELATION_VIEW_PRODUCT_CHANGE",
        "userInfo": "b2b-2209000001",
        "data": {"productIds": "123", "action": "modify"},
        "gmtBorn": int(time.time() * 1000),
    }
    form = signed_lower(message, settings.OPEN1688_APP_SECRET)
    answer = client.post(reverse("push_1688"), form)
    assert answer.status_code == 200, answer.content
    assert PushMessage.objects.filter(msg_id=77001).exists()
    forged = signed_lower({**message, "msgId": 77002}, "not-the-secret")
    assert client.post(reverse("push_1688"), forged).status_code == 401
