"""Minimal request/response objects over WSGI (stdlib only)."""

import json
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http import HTTPStatus
from urllib.parse import parse_qsl

MAX_BODY_BYTES = 20 * 1024 * 1024
JSON_TYPE = "application/json;charset=UTF-8"


class DropConnection(Exception):  # noqa: N818 (an instruction to the server, not an error)
    """Raised by the app to make the server close the socket without sending any answer."""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    files: dict[str, bytes]
    body: bytes
    content_type: str
    host_url: str

    @property
    def params(self) -> dict[str, str]:
        """Query string and form fields together (a field in the body wins)."""
        return {**self.query, **self.form}

    def json(self) -> dict:
        if not self.body:
            return {}
        data = json.loads(self.body)
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        return data

    @classmethod
    def from_environ(cls, environ: dict) -> "Request":
        body = _read_body(environ)
        content_type = environ.get("CONTENT_TYPE") or ""
        form, files = _parse_form(content_type, body)
        host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
        return cls(
            method=environ["REQUEST_METHOD"].upper(),
            path=_decoded_path(environ),
            query=_first_values(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)),
            form=form,
            files=files,
            body=body,
            content_type=content_type,
            host_url=f"{environ.get('wsgi.url_scheme', 'http')}://{host}",
        )


def _decoded_path(environ: dict) -> str:
    # PEP 3333 hands PATH_INFO over as latin-1 decoded bytes; paths may carry UTF-8.
    raw = environ.get("PATH_INFO") or "/"
    try:
        return raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return raw


def _read_body(environ: dict) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return b""
    return environ["wsgi.input"].read(min(length, MAX_BODY_BYTES))


def _first_values(pairs: list[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for key, value in pairs:
        values.setdefault(key, value)
    return values


def _parse_form(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        text = body.decode("utf-8", errors="replace")
        return _first_values(parse_qsl(text, keep_blank_values=True)), {}
    if kind == "multipart/form-data":
        return _parse_multipart(content_type, body)
    return {}, {}


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
    """Fields and files of a multipart body (the cgi module is gone from newer Pythons)."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        data = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            files.setdefault(name, data)
        else:
            fields.setdefault(name, data.decode(part.get_content_charset() or "utf-8"))
    return fields, files


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def status_line(self) -> str:
        return f"{self.status} {HTTPStatus(self.status).phrase}"


def json_response(data, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(status=status, body=body)


def html_response(html: str, status: int = 200) -> Response:
    return Response(
        status=status, body=html.encode("utf-8"), content_type="text/html;charset=UTF-8"
    )


def redirect(location: str) -> Response:
    return Response(status=302, content_type="text/plain", headers=[("Location", location)])
