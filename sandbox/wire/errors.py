"""Every gateway error the sandbox answers, in one table, each marked attested or not.

"Attested" means the code (and, where given, the message) appears in the public record of the
1688 gateway (docs/protocol.md, "Sandbox fidelity"): the official generated SDKs, doc mirrors
or real integrations. The HTTP status of most codes is not attested anywhere public: the
status column is the sandbox's choice (docs/protocol.md, the table of choices) unless a
comment says more.
A code marked ``attested=False`` is one the sandbox invented; it stays only where the sandbox
needs an answer and the record shows none, so a client must not depend on it.

Every error body is ``{"error_code", "error_message", "exception"}``; the app adds
``request_id`` (the official Python SDK reads it from the body) before the answer leaves.
"""

from dataclasses import dataclass

from .http import Response, json_response


@dataclass(frozen=True)
class GatewayError:
    status: int
    message: str
    attested: bool
    note: str = ""


# fmt: off
GATEWAY_ERRORS: dict[str, GatewayError] = {
    "gw.AppKeyNotFound": GatewayError(400, "AppKey {detail} not found", True),
    "gw.SignatureInvalid": GatewayError(400, "Request signature is invalid", True),
    # The message as a practitioner saw it for new.product.add without scene.
    "gw.ParamMissing": GatewayError(400, "Required argument {detail}", True),
    "gw.APIUnsupported": GatewayError(400, "API not supported: {detail}", True),
    # HTTP 400 and this message: seen by two independent integrations.
    "gw.APIACLDecline": GatewayError(400, "AppKey is not allowed(acl)", True,
                                     "the app was not granted this API"),
    "gw.NoUsageLeftError": GatewayError(400, "No usage left for this API", True,
                                        "the app's paid call quota is spent"),
    "gw.QosAppFrequencyLimit": GatewayError(429, "App call exceeds limited frequency", True),
    "gw.QosApiFrequencyLimit": GatewayError(429, "API call exceeds limited frequency", True),
    "gw.QosRequestLimit": GatewayError(429, "Request exceeds limit", True),
    "gw.ISPInvokeError": GatewayError(500, "service invoke error", True),
    "gw.ISPInvokeTimeout": GatewayError(504, "service invoke timeout", True),
    # The seen unauthorised answer: code "401", message "Request need user authorized".
    "401": GatewayError(401, "Request need user authorized", True,
                        "missing, unknown or expired access_token"),
    # Not attested: no public source shows how a stale _aop_timestamp is refused.
    "gw.TimestampInvalid": GatewayError(400, "_aop_timestamp is more than 15 min off", False,
                                        "only when _aop_timestamp is sent"),
}
# fmt: on


def gateway_error(code: str, detail: str = "", message: str | None = None) -> Response:
    """The answer for a code of the table; ``detail`` fills the message's ``{detail}``."""
    known = GATEWAY_ERRORS[code]
    text = message or known.message.format(detail=detail)
    body = {"error_code": code, "error_message": text, "exception": text}
    return json_response(body, status=known.status)
