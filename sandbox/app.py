"""The WSGI application: routes to the gateway, OAuth pages, pictures and the control API."""

import logging
import uuid

from . import images, oauth
from .control import Control
from .faults import FaultQueue
from .gateway import Gateway
from .http import DropConnection, Request, Response, gateway_error, json_response
from .ratelimit import RateLimiter
from .stats import CallStats
from .store import Store

log = logging.getLogger("sandbox")


class SandboxApp:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.faults = FaultQueue()
        self.stats = CallStats()
        self.limiter = RateLimiter()
        self.gateway = Gateway(store, self.faults, self.stats, self.limiter)
        self.control = Control(store, self.faults, self.stats, self.limiter)

    def __call__(self, environ: dict, start_response):
        request = Request.from_environ(environ)
        response = self._answer(request)
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            ("X-Request-Id", uuid.uuid4().hex),
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
            return gateway_error(500, "gw.ISPInvokeError", "sandbox internal error")

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
