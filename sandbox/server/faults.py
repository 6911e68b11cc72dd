"""Queued faults: the next N matching gateway calls misbehave in a chosen way."""

import threading
from dataclasses import dataclass

from ..wire.errors import gateway_error
from ..wire.http import Response, html_response, json_response

ANY_API = "*"
# Kinds answered with a gateway error of sandbox/wire/errors.py: kind -> error code.
GATEWAY_ERROR_KINDS = {
    "http500": "gw.ISPInvokeError",
    "isp_timeout": "gw.ISPInvokeTimeout",
    "quota": "gw.QosAppFrequencyLimit",
    "api_quota": "gw.QosApiFrequencyLimit",
    "request_limit": "gw.QosRequestLimit",
    "no_usage_left": "gw.NoUsageLeftError",
    "acl_decline": "gw.APIACLDecline",
    "unauthorized": "401",
}
# Older names kept working: kind -> the kind it answers like.
ALIASES = {"token_expired": "unauthorized"}
# Kinds that answer instead of the API (the others act around the normal call).
ANSWERING_KINDS = {
    *GATEWAY_ERROR_KINDS, *ALIASES, "http502_html", "malformed", "wrong_shape", "not_found",
    "business_error", "preparing", "sys_error",
}  # fmt: skip
# apply_late: answer gw.ISPInvokeTimeout now and make the call `delay` seconds later.
KINDS = ANSWERING_KINDS | {"slow", "drop", "drop_after_apply", "apply_late"}
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
    kind = ALIASES.get(kind, kind)
    if kind in GATEWAY_ERROR_KINDS:
        return gateway_error(GATEWAY_ERROR_KINDS[kind])
    if kind == "http502_html":
        return html_response(BAD_GATEWAY_PAGE, status=502)
    if kind == "malformed":
        return Response(status=200, body=b'{"result": {"success": true, "result": {"pageRes')
    if kind == "wrong_shape":
        # Valid JSON without any of the keys an API answer carries (result, productInfo, ...).
        return json_response({"success": True, "data": None, "sandboxFault": "wrong_shape"})
    if kind == "not_found":  # e.g. the offer was deleted between a list and a get
        return json_response(
            {"success": False, "errorCode": "PRODUCT_NOT_EXIST", "errorMsg": "商品不存在"}
        )
    if kind == "business_error":  # a business error code of the sandbox's own (not attested)
        return json_response(
            {"success": False, "errorCode": "SANDBOX_REJECTED", "errorMsg": "沙箱拒绝了该请求"}
        )
    if kind == "preparing":  # alibaba.category.attribute.get's 500_2 (docs/protocol.md)
        return json_response({"success": False, "errorCode": "500_2", "errorMsg": "数据准备中"})
    if kind == "sys_error":  # the schema-driven APIs' SYS_ERROR (docs/protocol.md)
        return json_response(
            {"result": {"success": False, "bizCode": "SYS_ERROR", "bizMessage": "系统错误"}}
        )
    raise ValueError(f"{kind} does not answer by itself")
