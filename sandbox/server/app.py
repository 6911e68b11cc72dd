"""The WSGI application: routes to the gateway, OAuth pages, pictures and the control API."""

import json
import logging
import uuid

from ..apis.switches import SwitchBoard, Switches
from ..wire.errors import gateway_error
from ..wire.http import JSON_TYPE, DropConnection, Request, Response, json_response
from ..world import images
from ..world.store import Store
from . import oauth
from .control import Control
from .faults import FaultQueue
from .gateway import Gateway
from .ratelimit import RateLimiter
from .stats import CallStats

log = logging.getLogger("sandbox")


class SandboxApp:
    def __init__(self, store: Store, switches: Switches | None = None) -> None:
        self.store = store
        self.faults = FaultQueue()
        self.stats = CallStats()
        self.limiter = RateLimiter()
        self.switches = SwitchBoard(switches)
        self.gateway = Gateway(store, self.faults, self.stats, self.limiter, self.switches)
        self.control = Control(store, self.faults, self.stats, self.limiter, self.switches)

    def __call__(self, environ: dict, start_response):
        request = Request.from_environ(environ)
        request_id = uuid.uuid4().hex
        response = self._answer(request)
        if request.path.startswith("/openapi/"):
            response = _with_request_id(response, request_id)
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            ("X-Request-Id", request_id),
            *response.headers,
        ]
        start_response(response.status_line, headers)
        return [response.body]

    def _answer(self, request: Request) -> Response:
        try:
            return self._route(request)
        except DropConnection:
            raise
        except Exception:  # a sandbox bug: answer like the platform's internal error
            log.exception("error while handling %s %s", request.method, request.path)
            return gateway_error("gw.ISPInvokeError", message="sandbox internal error")

    def _route(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/openapi/"):
            return self.gateway.handle(request)
        if path == "/oauth/authorize":
            return oauth.authorize(self.store, request)
        if path.startswith("/img/") and request.method in ("GET", "HEAD"):
            body, content_type = images.render(path)
            return Response(body=body, content_type=content_type)
        if path.startswith("/_sandbox/"):
            return self.control.handle(request)
        if path == "/":
            return json_response(
                {"sandbox": "1688 Open Platform gateway", "docs": "docs/sandbox-control.md"}
            )
        return json_response({"error": f"not found: {path}"}, 404)


def _with_request_id(response: Response, request_id: str) -> Response:
    """Every JSON error body (HTTP >= 400) carries ``request_id``, as the official Python SDK
    expects (it reads ``request_id`` from the body of a failed call)."""
    if response.status < 400 or response.content_type != JSON_TYPE:
        return response
    try:
        body = json.loads(response.body)
    except ValueError:
        return response
    if not isinstance(body, dict):
        return response
    body["request_id"] = request_id
    answer = json_response(body, response.status)
    answer.headers = response.headers
    return answer
