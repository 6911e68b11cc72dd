"""A tiny gateway client written here on purpose: it shares no code with sync/ nor with
sandbox/signing.py, so the two signers check each other."""

import hashlib
import hmac
import time

import requests

APP_KEY = "8688001"
APP_SECRET = "sandbox-secret"
DEMO_SELLER = "b2b-demo001"
PRODUCT = "com.alibaba.product"
CROSSBORDER = "com.alibaba.fenxiao.crossborder"


def test_signature(secret: str, message_prefix: str, params: dict[str, str]) -> str:
    message = message_prefix + "".join(sorted(f"{key}{value}" for key, value in params.items()))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha1).hexdigest().upper()


test_signature.__test__ = False  # a helper, not a test


class SandboxClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()

    def control(self, method: str, path: str, expect: int = 200, **body) -> dict:
        answer = self.http.request(method, self.base_url + path, json=body or None, timeout=30)
        assert answer.status_code == expect, answer.text
        return answer.json()

    def token(self, member_id: str = DEMO_SELLER, **extra) -> str:
        issued = self.control(
            "POST", "/_sandbox/tokens", app_key=APP_KEY, member_id=member_id, **extra
        )
        return issued["access_token"]

    def move_offer(self, product_id: int, expect: int = 200, **move) -> dict:
        """A supplier's offer moves (POST /_sandbox/offers/move): price_factor, price_delta,
        price_ranges, sku_prices, stock, sku_stock, sold_out, listing (delist, relist, gone).
        Answers the offer's new state and how many push messages the move wrote."""
        return self.control("POST", "/_sandbox/offers/move", expect, product_id=product_id, **move)

    def call(
        self,
        name: str,
        params: dict | None = None,
        *,
        namespace: str = PRODUCT,
        token: str | None = None,
        app_key: str = APP_KEY,
        secret: str = APP_SECRET,
        sign_path: bool = True,
        timestamp: int | None = None,
        method: str = "POST",
        timeout: float = 10,
        files: dict | None = None,
    ) -> requests.Response:
        """One signed call; `files` go as multipart parts, unsigned (a file's bytes are not
        part of the signature, e.g. alibaba.photobank.photo.add's `imageBytes`)."""
        params = {key: str(value) for key, value in (params or {}).items()}
        params["_aop_timestamp"] = str(timestamp or int(time.time() * 1000))
        if token:
            params["access_token"] = token
        factor = f"param2/1/{namespace}/{name}/{app_key}"
        params["_aop_signature"] = test_signature(secret, factor if sign_path else "", params)
        url = f"{self.base_url}/openapi/{factor}"
        if method == "GET":
            return self.http.get(url, params=params, timeout=timeout)
        return self.http.post(url, data=params, files=files, timeout=timeout)
