"""Queued faults: the next N matching gateway calls misbehave in a chosen way."""

import threading
from dataclasses import dataclass

from .http import Response, gateway_error, html_response, json_response

ANY_API = "*"
# Kinds that answer instead of the API (the others act around the normal call).
ANSWERING_KINDS = {
    "http500", "http502_html", "malformed", "wrong_shape", "quota", "token_expired",
    "not_found", "business_error",
}  # fmt: skip
KINDS = ANSWERING_KINDS | {"slow", "drop", "drop_after_apply"}
DEFAULT_SLOW_SECONDS = 5.0

BAD_GATEWAY_PAGE = """<!DOCTYPE html>
<html><head><title>502 Bad Gateway</title></head>
<body><center><h1>502 Bad Gateway</h1></center><hr><center>Tengine</center></body></html>
"""


@dataclass
class Fault:
    api: str
    kind: str
    times: int = 1
    delay: float = DEFAULT_SLOW_SECONDS

    def matches(self, api_name: str) -> bool:
        return self.times > 0 and self.api in (ANY_API, api_name)

    def as_dict(self) -> dict:
        return {"api": self.api, "kind": self.kind, "times": self.times, "delay": self.delay}


class FaultQueue:
    """Thread safe; faults are taken in the order they were queued."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, api: str, kind: str, times: int = 1, delay: float | None = None) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(sorted(KINDS))}")
        if times < 1:
            raise ValueError("times must be at least 1")
        fault = Fault(api or ANY_API, kind, times, DEFAULT_SLOW_SECONDS if delay is None else delay)
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, api_name: str) -> Fault | None:
        """The fault for this call (one use of it), or None."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(api_name):
                    fault.times -= 1
                    self._faults = [queued for queued in self._faults if queued.times > 0]
                    return Fault(fault.api, fault.kind, 1, fault.delay)
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[dict]:
        with self._lock:
            return [fault.as_dict() for fault in self._faults]


def fault_answer(kind: str) -> Response:
    """The answer of an answering fault kind."""
    if kind == "http500":
        return gateway_error(500, "gw.ISPInvokeError", "sandbox fault: service invoke error")
    if kind == "http502_html":
        return html_response(BAD_GATEWAY_PAGE, status=502)
    if kind == "malformed":
        return Response(status=200, body=b'{"result": {"success": true, "result": {"pageRes')
    if kind == "wrong_shape":
        # Valid JSON without any of the keys an API answer carries (result, productInfo, ...).
        return json_response({"success": True, "data": None, "sandboxFault": "wrong_shape"})
    if kind == "quota":
        return gateway_error(429, "gw.QosAppFrequencyLimit", "App call exceeds limited frequency")
    if kind == "token_expired":
        return gateway_error(401, "401", "access_token is invalid or expired")
    if kind == "not_found":  # e.g. the offer was deleted between a list and a get
        return json_response(
            {"success": False, "errorCode": "PRODUCT_NOT_EXIST", "errorMsg": "商品不存在"}
        )
    if kind == "business_error":
        return json_response(
            {"success": False, "errorCode": "SANDBOX_REJECTED", "errorMsg": "沙箱拒绝了该请求"}
        )
    raise ValueError(f"{kind} does not answer by itself")
