"""A scripted gateway: a real HTTP server on 127.0.0.1 that answers from a queue and records."""

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

APP_KEY = "1000000"
APP_SECRET = "test123"


@dataclass
class Answer:
    status: int = 200
    body: object = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False  # close the connection without answering


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes

    @property
    def fields(self) -> dict:
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("multipart/form-data"):
            head = f"Content-Type: {content_type}\r\n\r\n".encode()
            message = BytesParser(policy=HTTP).parsebytes(head + self.body)
            return {
                part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
                for part in message.iter_parts()
            }
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))


def expected_signature(path: str, fields: dict, secret: str = APP_SECRET) -> str:
    """Written apart from open1688.signing so a bug cannot hide by being on both sides."""
    pieces = sorted(
        k + v for k, v in fields.items() if k != "_aop_signature" and isinstance(v, str)
    )
    message = path.removeprefix("/openapi/") + "".join(pieces)
    return hmac.new(secret.encode(), message.encode(), hashlib.sha1).hexdigest().upper()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that timed out closed the socket; that is the point of the test


class ScriptedGateway:
    def __init__(self):
        self.answers = deque()
        self.received = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                gateway._handle(self)

            def log_message(self, *args):
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def script(self, *answers: Answer) -> None:
        self.answers.extend(answers)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length", 0))
        body = handler.rfile.read(length)
        self.received.append(Received(handler.path, dict(handler.headers), body))
        answer = self.answers.popleft() if self.answers else Answer()
        time.sleep(answer.delay)
        if answer.drop:
            handler.close_connection = True
            return
        payload = answer.body
        if not isinstance(payload, bytes | str):
            payload = json.dumps(payload, ensure_ascii=False)
        payload = payload.encode() if isinstance(payload, str) else payload
        handler.send_response(answer.status)
        headers = {"Content-Type": "application/json;charset=UTF-8", **answer.headers}
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
