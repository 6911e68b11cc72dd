"""Offer references staff paste (to watch offers, to copy them into a batch): the one parser.

Understood, in any mix, separated by spaces, lines, commas, semicolons or 、 (half or full width):
- a bare offer id: 653120459876;
- an offer link on 1688.com or any of its hosts, with or without the scheme (or after a word
  pasted with it), with any query or fragment:
  https://detail.1688.com/offer/653120459876.html?spm=..., m.1688.com/offer/ID.htm;
- a 1688 page naming the offer in its query: https://detail.m.1688.com/page/index.html?offerId=ID
  (also `offerid=` and `id=`).
A link to another site is not an offer, even with /offer/ID.html in its path.
"""

import re
from urllib.parse import parse_qs, urlsplit

# The database's offer id columns are 64-bit: a larger number names no offer (SQLite even
# fails the query).
OFFER_ID_MAX = 2**63 - 1
SEPARATORS = re.compile(r"[\s,，;；、]+")
BARE_ID = re.compile(r"\d{6,20}")
OFFER_PATH = re.compile(r"/offer/(\d{6,20})\.html?")
SCHEME = re.compile(r"https?://", re.IGNORECASE)
QUERY_KEYS = ("offerId", "offerid", "id")


def parse_offer_refs(text: str) -> tuple[list[int], list[str]]:
    """Offer ids from pasted links or ids (in order, once each), and the tokens not understood."""
    ids: list[int] = []
    unrecognised: list[str] = []
    for token in filter(None, SEPARATORS.split(text or "")):
        offer_id = _offer_id(token)
        if offer_id is None:
            unrecognised.append(token)
        elif offer_id not in ids:
            ids.append(offer_id)
    return ids, unrecognised


def _offer_id(token: str) -> int | None:
    offer_id = _named_offer_id(token)
    return offer_id if offer_id is not None and offer_id <= OFFER_ID_MAX else None


def _named_offer_id(token: str) -> int | None:
    if BARE_ID.fullmatch(token):
        return int(token)
    scheme = SCHEME.search(token)  # a link may follow a word pasted with it: 链接:https://...
    try:
        url = urlsplit(token[scheme.start() :] if scheme else "https://" + token)
        host = (url.hostname or "").lower()
    except ValueError:  # e.g. "https://[x": an unclosed IPv6 bracket
        return None
    if host != "1688.com" and not host.endswith(".1688.com"):
        return None
    found = OFFER_PATH.search(url.path)
    if found:
        return int(found.group(1))
    query = parse_qs(url.query)
    for key in QUERY_KEYS:
        values = query.get(key)
        if values and BARE_ID.fullmatch(values[0]):
            return int(values[0])
    return None
