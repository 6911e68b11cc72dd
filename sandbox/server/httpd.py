"""A threaded WSGI server (wsgiref) that can also drop a connection without answering."""

import sys
from socketserver import ThreadingMixIn
from wsgiref.handlers import SimpleHandler
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from ..apis.switches import Switches
from ..wire.http import MAX_BODY_BYTES, DropConnection
from ..world.store import Store
from .app import SandboxApp
from .control import DEFAULT_RATE_PER_SEC


class _DroppingServerHandler(ServerHandler):
    """Lets DropConnection escape instead of turning it into a 500 page."""

    def handle_error(self) -> None:
        if isinstance(sys.exc_info()[1], DropConnection):
            raise DropConnection
        super().handle_error()

    def close(self) -> None:
        if self.status is None:  # nothing was answered, so nothing to log
            SimpleHandler.close(self)
            return
        super().close()


class _RequestHandler(WSGIRequestHandler):
    # HTTP/1.1 keep-alive, as the real gateway: one connection serves a client's many calls
    # instead of a new TCP connection per call. An idle connection is closed after
    # `timeout` seconds.
    protocol_version = "HTTP/1.1"
    timeout = 30
    # The head and the body are written separately: without TCP_NODELAY, Nagle's algorithm
    # holds the body back until the client's delayed ACK, ~40 ms per call on a kept-alive
    # connection.
    disable_nagle_algorithm = True

    def handle(self) -> None:
        self.close_connection = True
        self.handle_one_request()
        while not self.close_connection:
            self.handle_one_request()

    def handle_one_request(self) -> None:
        # Same as WSGIRequestHandler.handle, with the dropping handler, once per request.
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except (TimeoutError, ConnectionError):
            self.close_connection = True
            return
        if not self.raw_requestline:  # the client closed the connection
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.send_error(414)
            return
        if not self.parse_request():
            return
        environ = self.get_environ()
        handler = _DroppingServerHandler(
            self.rfile, self.wfile, self.get_stderr(), environ, multithread=True
        )
        handler.http_version = "1.1" if self.request_version == "HTTP/1.1" else "1.0"
        handler.request_handler = self
        try:
            handler.run(self.server.get_app())
        except DropConnection:
            self.close_connection = True  # the server closes the socket; no byte was written
            return
        if _unread_body(environ) or handler.http_version == "1.0":
            self.close_connection = True  # the next request would start inside this body

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (stdlib signature)
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)


def _unread_body(environ: dict) -> bool:
    try:
        return int(environ.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES
    except ValueError:
        return True


class SandboxServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    block_on_close = False  # shutdown must not wait for a "slow" fault to finish sleeping
    request_queue_size = 128
    verbose = False
    store: Store
    app: SandboxApp

    def server_close(self) -> None:
        super().server_close()
        self.store.close()


def make_server(
    host: str,
    port: int,
    db_path: str,
    *,
    app_key: str | None = None,
    app_secret: str | None = None,
    rate_per_sec: float = DEFAULT_RATE_PER_SEC,
    verbose: bool = False,
    switches: Switches | None = None,
) -> SandboxServer:
    """The sandbox on ``host:port`` (0 picks a free port, see ``server.server_port``) with its
    schema and demo seller ready; registers the app when ``app_key``/``app_secret`` are given.
    ``switches``: the default answer shapes (sandbox/apis/switches.py)."""
    store = Store(db_path)
    if app_key and app_secret:
        store.put_app(app_key, app_secret, rate_per_sec)
    server = SandboxServer((host, port), _RequestHandler)
    server.store = store
    server.app = SandboxApp(store, switches)
    server.verbose = verbose
    server.set_app(server.app)
    return server
