"""The gateway in front of every API: path, app key, signature, timestamp, rate limit, token,
queued faults, then the API itself.

URL: ``/openapi/{protocol}/{version}/{namespace}/{name}/{appKey}``; the signature's path
factor is everything after ``/openapi/``. As strict as 1688, never stricter: ``_aop_timestamp``
is optional (the official generated Python SDK sends it for 3 of its 125 APIs) and checked
only when present; error codes come from the one table in sandbox/wire/errors.py. Which APIs
exist and what each needs: sandbox/apis/table.py.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..apis import publish
from ..apis.call import Api, ApiCall
from ..apis.switches import SwitchBoard
from ..apis.table import APIS
from ..wire.errors import gateway_error
from ..wire.http import DropConnection, Request, Response, json_response
from ..world.store import Store
from . import oauth
from .faults import ANSWERING_KINDS, FaultQueue, fault_answer
from .ratelimit import RateLimiter
from .signing import SIGNATURE_PARAM, signature_matches
from .stats import CallStats

TIMESTAMP_PARAM = "_aop_timestamp"
TIMESTAMP_TOLERANCE_MS = 15 * 60 * 1000
SIGNED_PROTOCOL = "param2"
TOKEN_PROTOCOLS = ("http", "param2")  # getToken: code exchange on http, refresh on param2


@dataclass
class GatewayPath:
    protocol: str
    version: str
    namespace: str
    name: str
    app_key: str

    @property
    def signing_factor(self) -> str:
        return f"{self.protocol}/{self.version}/{self.namespace}/{self.name}/{self.app_key}"

    @property
    def is_get_token(self) -> bool:
        return self.namespace == "system.oauth2" and self.name == "getToken"

    @property
    def is_server_time(self) -> bool:
        """The official Python SDK's unsigned ``1/system/currentTimeMillis``."""
        return (self.protocol, self.version, self.namespace, self.name) == (
            SIGNED_PROTOCOL,
            "1",
            "system",
            "currentTimeMillis",
        )

    @classmethod
    def parse(cls, path: str) -> "GatewayPath | None":
        parts = path.removeprefix("/openapi/").split("/")
        if len(parts) != 5 or not all(parts):
            return None
        return cls(*parts)


class Gateway:
    def __init__(
        self,
        store: Store,
        faults: FaultQueue,
        stats: CallStats,
        limiter: RateLimiter,
        switches: SwitchBoard | None = None,
    ):
        self.store = store
        self.faults = faults
        self.stats = stats
        self.limiter = limiter
        self.switches = switches or SwitchBoard()

    def handle(self, request: Request) -> Response:
        target = GatewayPath.parse(request.path)
        if target is None:
            return gateway_error("gw.APIUnsupported", f"malformed API path {request.path}")
        self.stats.count(target.name)
        if target.is_get_token and target.protocol in TOKEN_PROTOCOLS:
            return self._with_fault(
                target.name, lambda: oauth.get_token(self.store, request, target.app_key)
            )
        if target.is_server_time:
            # Unsigned, no app check; the SDK json-decodes the body to an int (epoch ms).
            return self._with_fault(target.name, lambda: json_response(self.store.clock.now_ms()))
        refusal = self._refuse_call(request, target)
        if refusal is not None:
            return refusal
        publish.settle_audits(self.store)  # audits that came due answer as decided
        api = APIS[(target.namespace, target.name)]
        member_id, token_refusal = self._token_owner(request.params, target.app_key, api)
        if token_refusal is not None:
            return token_refusal
        call = ApiCall(
            self.store,
            request.params,
            request.files,
            request.host_url,
            target.app_key,
            member_id,
            self.switches.for_app(target.app_key),
        )
        return self._with_fault(target.name, lambda: _as_response(api.handler(call)))

    # --- the checks, in the gateway's order ----------------------------------------------
    def _refuse_call(self, request: Request, target: GatewayPath) -> Response | None:
        """The first gateway error for this call, or None when it may proceed."""
        params = request.params
        app = self.store.get_app(target.app_key)
        if app is None:
            return gateway_error("gw.AppKeyNotFound", target.app_key)
        api = APIS.get((target.namespace, target.name))
        if api is None or target.protocol != SIGNED_PROTOCOL or target.version != "1":
            return gateway_error("gw.APIUnsupported", target.name)
        if not params.get(SIGNATURE_PARAM):
            if api.needs_sign:
                return param_missing(SIGNATURE_PARAM)
        elif not signature_matches(app["app_secret"], target.signing_factor, params):
            return gateway_error("gw.SignatureInvalid")
        # The ACL comes before argument checks (a real integration: a denied API answers
        # gw.APIACLDecline whatever its parameters).
        if target.name in self.switches.for_app(target.app_key).denied_apis:
            return gateway_error("gw.APIACLDecline")
        # Optional (the official SDKs mostly omit it); checked only when sent.
        stamp = params.get(TIMESTAMP_PARAM)
        if stamp and not self._timestamp_fresh(stamp):
            return gateway_error("gw.TimestampInvalid")
        for name in api.required:
            if not params.get(name):
                return param_missing(name)
        if not self.limiter.allow(target.app_key, app["rate_per_sec"]):
            self.stats.refuse("gw.QosAppFrequencyLimit")  # counted for the benchmarks
            return gateway_error("gw.QosAppFrequencyLimit")
        return None

    def _timestamp_fresh(self, value: str) -> bool:
        try:
            stamp = int(value)
        except ValueError:
            return False
        return abs(time.time() * 1000 - stamp) <= TIMESTAMP_TOLERANCE_MS

    def _token_owner(
        self, params: dict, app_key: str, api: Api
    ) -> tuple[str | None, Response | None]:
        """(member id of the token's seller, None) or (None, the 401 answer)."""
        if not api.needs_token:
            return None, None
        # Missing, unknown and expired tokens get the one unauthorised answer the record shows.
        token = params.get("access_token")
        row = self.store.get_access_token(token) if token else None
        if row is None or row["app_key"] != app_key or row["expires_ms"] <= time.time() * 1000:
            return None, gateway_error("401")
        return row["member_id"], None

    # --- faults ------------------------------------------------------------------------
    def _with_fault(self, api_name: str, run: Callable[[], Response]) -> Response:
        fault = self.faults.take(api_name)
        if fault is None:
            return run()
        if fault.kind in ANSWERING_KINDS:
            return fault_answer(fault.kind)
        if fault.kind == "drop":
            raise DropConnection
        if fault.kind == "slow":
            time.sleep(fault.delay)
            return run()
        if fault.kind == "apply_late":  # the error now, the change `delay` seconds later
            later = threading.Timer(fault.delay, run)
            later.daemon = True
            later.start()
            return gateway_error("gw.ISPInvokeTimeout")
        run()  # drop_after_apply: the change is made, the answer is lost
        raise DropConnection


def param_missing(name: str) -> Response:
    return gateway_error("gw.ParamMissing", name)


def _as_response(answer: dict | Response) -> Response:
    return answer if isinstance(answer, Response) else json_response(answer)
