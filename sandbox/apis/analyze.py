"""Market figures (``product.analyze.*``, com.alibaba.fenxiao.crossborder): generated daily
sales and median prices of an offer. The answer shapes are not attested."""

import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .call import ApiCall


def market_sales(call: "ApiCall") -> dict:
    """product.analyze.getPerdaySellQuantityTrendNew: 90 days of generated daily sales."""
    return _market_series(call, days=90, sales=True)


def market_median_price(call: "ApiCall") -> dict:
    """product.analyze.getThirtyDayMedianPriceTrendNew: 30 days of a generated median price."""
    return _market_series(call, days=30, sales=False)


def _market_series(call: "ApiCall", *, days: int, sales: bool) -> dict:
    """The same series for the same offer and day (seeded by the offer id)."""
    from datetime import date, timedelta

    try:
        offer_id = int(str(call.params.get("offerId", "")).strip())
    except ValueError:
        return {"result": {"success": "false", "code": "PARAM_INVALID", "message": "offerId"}}
    if call.store.get_offer(offer_id) is None:
        return {"result": {"success": "false", "code": "PRODUCT_NOT_EXIST", "message": "gone"}}
    rng = random.Random(offer_id * 2 + sales)  # noqa: S311
    base = rng.uniform(5, 200)
    today = date.fromtimestamp(call.store.clock.now_ms() / 1000)
    points = []
    for back in range(days, 0, -1):
        value = base * (1 + 0.3 * rng.uniform(-1, 1))
        points.append(
            {
                "date": (today - timedelta(days=back)).isoformat(),
                "value": round(value) if sales else f"{value:.2f}",
            }
        )
    return {"result": {"success": "true", "code": "200", "result": points}}
