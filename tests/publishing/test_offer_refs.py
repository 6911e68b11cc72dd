"""One offer-reference parser (catalog/common/offer_refs.py) for watching offers and for copying
them into a batch: every form either room accepted before is accepted by both; the rooms are
exercised against the sandbox over HTTP."""

import pytest

from catalog.common.offer_refs import OFFER_ID_MAX, parse_offer_refs
from catalog.models import UploadItem, WatchedOffer
from catalog.publishing.upload import copy_offers
from catalog.watch import services as watch
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused
from tests.factories import UploadBatchFactory, UserFactory

ID = 624378391372

# (what staff paste, which parser accepted it before): "watch" was catalog/watch/services.py's,
# "copy" was catalog/publishing/upload/copying.py's.
FORMS = [
    (f"{ID}", "both"),
    (f"https://detail.1688.com/offer/{ID}.html", "both"),
    (f"https://detail.1688.com/offer/{ID}.html?spm=a26352.13672862.0&sk=consign", "both"),
    (f"http://detail.1688.com/offer/{ID}.html", "both"),
    (f"https://m.1688.com/offer/{ID}.html", "both"),
    (f"detail.1688.com/offer/{ID}.html", "both"),
    (f"https://detail.1688.com/offer/{ID}.html#desc", "both"),
    (f"https://detail.1688.com/offer/{ID}.htm", "copy"),
    (f"https://1688.com/offer/{ID}.html", "copy"),
    (f"HTTPS://DETAIL.1688.COM/offer/{ID}.html", "copy"),
    (f"https://detail.m.1688.com/page/index.html?offerId={ID}", "copy"),
    (f"https://detail.m.1688.com/page/index.html?offerid={ID}", "copy"),
    (f"https://m.1688.com/page/offer.html?id={ID}&spm=x", "copy"),
    (f"链接:https://detail.1688.com/offer/{ID}.html", "watch"),
    (f"https://detail.1688.com/offer/{ID}.html/", "watch"),
    (f"https://detail.1688.com/offer/{ID}.html5", "watch"),
]
# Separators: each parser knew some; both know all now.
SEPARATORS = [" ", "\n", "\t", ",", "，", ";", "；", "、", " , "]


@pytest.mark.parametrize(("text", "_before"), FORMS)
def test_every_form_either_parser_accepted_names_the_offer(text, _before):
    assert parse_offer_refs(text) == ([ID], [])
    assert watch.parse_offer_refs(text) == [ID]


@pytest.mark.parametrize("separator", SEPARATORS)
def test_every_separator_splits_the_references(separator):
    text = separator.join(
        [f"https://detail.1688.com/offer/{ID}.html", str(ID + 1), f"1688.com/x?offerId={ID + 2}"]
    )
    assert parse_offer_refs(text) == ([ID, ID + 1, ID + 2], [])
    assert watch.parse_offer_refs(text) == [ID, ID + 1, ID + 2]


def test_every_form_at_once_gives_each_offer_once_in_order():
    text = "\n".join(
        f"{text.replace(str(ID), str(ID + number))} {ID + number}"
        for number, (text, _before) in enumerate(FORMS)
    )
    expected = [ID + number for number in range(len(FORMS))]
    assert parse_offer_refs(text) == (expected, [])
    assert watch.parse_offer_refs(text) == expected


def test_what_names_no_offer_is_given_back_or_refused():
    too_large = str(OFFER_ID_MAX + 1)
    text = (
        f"hello https://example.com/offer/{ID}.html 12 {too_large} https://[x "
        f"https://detail.1688.com/page/index.html?offerId=abc https://1688.com.evil.cn/offer/{ID}.html"
    )
    ids, unrecognised = parse_offer_refs(text)
    assert ids == []
    assert unrecognised == text.split()
    assert parse_offer_refs(str(OFFER_ID_MAX)) == ([OFFER_ID_MAX], [])
    with pytest.raises(Refused) as refused:
        watch.parse_offer_refs(f"{ID} https://example.com/offer/{ID}.html")
    assert refused.value.code == RefusalCode.WATCH_BAD_REFS
    assert "example.com" in refused.value.message


SUPPLIER = "b2b-2209600077"


@pytest.fixture
def supplier_offers(sandbox):
    sandbox.new_seller(SUPPLIER, "义乌源头工厂")
    sandbox.control("seed", {"member_id": SUPPLIER, "count": 6, "seed": 11})
    offers = sandbox.get("offers", member_id=SUPPLIER)["offers"]
    return [o["productID"] for o in offers if o["status"] == "published"]


def test_watch_takes_the_links_only_copy_took_before(sandbox, connected_shop, supplier_offers):
    first, second = supplier_offers[:2]
    operator = UserFactory(username="op", roles=["operator"])
    text = (
        f"https://detail.m.1688.com/page/index.html?offerId={first}、"
        f"https://detail.1688.com/offer/{second}.htm"
    )
    result = watch.watch_offers(user=operator, refs=text)
    assert not result.failed
    assert [w.offer_id for w in result.added] == [first, second]
    assert set(WatchedOffer.objects.values_list("offer_id", flat=True)) == {first, second}


def test_copy_takes_the_links_only_watch_took_before(sandbox, connected_shop, supplier_offers):
    first, second = supplier_offers[:2]
    batch = UploadBatchFactory(shop=connected_shop)
    text = (
        f"链接:https://detail.1688.com/offer/{first}.html "
        f"https://detail.1688.com/offer/{second}.html/"
    )
    result = copy_offers(batch, text)
    assert result.unrecognised == [] and result.errors == []
    assert [item.source_offer_id for item in result.created] == [first, second]
    assert UploadItem.objects.filter(batch=batch, source=UploadItem.Source.COPY).count() == 2
