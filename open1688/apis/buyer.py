"""Other sellers' offers from the buyer side: an offer's detail, following it for stock
messages, its market figures (docs/protocol.md, "Reading other sellers' offers and
searching", "Market figures")."""

from __future__ import annotations

from .. import answers
from ..transport import Transport, parsed
from ..types import BuyerOfferDetail
from . import BUYER_COUNTRY, PRODUCT_NAMESPACE, SEARCH_NAMESPACE

# product.analyze.*: daily sales over 90 days, 30-day median price (docs/protocol.md).
MARKET_APIS = (
    "product.analyze.getPerdaySellQuantityTrendNew",
    "product.analyze.getThirtyDayMedianPriceTrendNew",
)


class BuyerApi(Transport):
    def get_buyer_offer(
        self, access_token: str, offer_id: int, *, country: str = BUYER_COUNTRY
    ) -> BuyerOfferDetail:
        """Any seller's offer, read from the buyer side (product.search.queryProductDetail);
        alibaba.product.get reads only the token's own offers."""
        api = "product.search.queryProductDetail"
        params = {"offerDetailParam": {"offerId": offer_id, "country": country}}
        answer = self.call(SEARCH_NAMESPACE, api, params, access_token=access_token)
        return parsed(answers.parse_buyer_detail, answer, api)

    def follow_offer(self, access_token: str, offer_id: int) -> None:
        """alibaba.product.follow: stock-change messages come only for followed offers.
        Sets a state, so a replay is harmless."""
        api = "alibaba.product.follow"
        answer = self.call(
            PRODUCT_NAMESPACE, api, {"productId": offer_id}, access_token=access_token
        )
        parsed(answers.check_follow_answer, answer, api)

    def unfollow_offer(self, access_token: str, offer_id: int) -> None:
        api = "alibaba.product.unfollow"
        answer = self.call(
            PRODUCT_NAMESPACE, api, {"productId": offer_id}, access_token=access_token
        )
        parsed(answers.check_follow_answer, answer, api)

    # -- market figures (cross-border sourcing solution; parameters and shapes not attested) --

    def market_trend(self, access_token: str, api: str, offer_id: int) -> tuple:
        """One of MARKET_APIS for an offer: ((day "yyyy-MM-dd", Decimal value), ...), oldest
        first. Raises PermissionDeniedError (gw.APIACLDecline) when the app is not granted it."""
        if api not in MARKET_APIS:
            raise ValueError(f"not a market figures API: {api}")
        params = {"offerId": offer_id}
        answer = self.call(SEARCH_NAMESPACE, api, params, access_token=access_token)
        return parsed(answers.parse_market_series, answer, api)
