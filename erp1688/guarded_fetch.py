"""The one way the server downloads an address someone gave it (a picture to publish, anything
later): `fetch(url)` returns the body's bytes or raises `FetchRefused`, a refusal whose message
is a sentence for staff.

What it guarantees:
- only http and https, without user names in the address;
- the host is resolved here and every address it resolves to must be public: loopback,
  private, shared (100.64/10), link-local, multicast, reserved and unspecified addresses are
  refused, IPv4 and IPv6 alike, including IPv4 inside IPv6 (mapped, 6to4, NAT64) and every
  spelling the resolver accepts (``2130706433``, ``0177.0.0.1``, ``0x7f.1``);
- the connection goes to the address that was checked (the name is not resolved again, so a
  DNS answer that changes in between cannot redirect it); the original Host header, and for
  https the name in SNI and the certificate check, are kept;
- at most MAX_REDIRECTS (3) redirects, each checked as the first address;
- one deadline for the whole download (FETCH_DEADLINE_SECONDS of wall clock: resolving,
  connecting, redirects, headers and body), and a byte cap (FETCH_MAX_BYTES);
- the only exceptions to the address rule are the hosts of FETCH_ALLOWED_HOSTS (exact host and
  port; the entry ``OPEN1688_IMAGE_BASE`` stands for that setting's host, so the sandbox's
  pictures on 127.0.0.1 can be read in development and tests).

`address_problem(url)` answers, without downloading, the refusal the fetch would give for the
address itself: validation uses it so staff hear it while staging. This module knows nothing
of 1688.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from requests.utils import requote_uri

from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused

IMAGE_BASE_ENTRY = "OPEN1688_IMAGE_BASE"
DEFAULT_PORTS = {"http": 80, "https": 443}
REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 3
CHUNK = 64 * 1024
CONNECT_SECONDS = 5.0  # per address tried, within the deadline
USER_AGENT = "erp1688-fetch"
# IPv4 carried inside IPv6 by translators: 64:ff9b::/96 (NAT64) is "global" to ipaddress.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
ANSWER_SECONDS = 30.0  # address_problem's memory of a name's answer
_answers: dict = {}


class FetchRefused(Refused):
    """The download was refused or failed; `message` is a clause for staff ("could not
    download <url>: <message>"), `msgid` its English message id (for stored messages)."""

    @property
    def msgid(self) -> str:
        return getattr(self._message, "_args", [str(self._message)])[0]


def _refused(code: RefusalCode, message, **params) -> FetchRefused:
    return FetchRefused(code, message, params=params)


def _invalid() -> FetchRefused:
    return _refused(
        RefusalCode.FETCH_INVALID, _("the address is not a valid http or https address")
    )


def _private(host: str) -> FetchRefused:
    return _refused(
        RefusalCode.FETCH_PRIVATE_ADDRESS,
        _(
            "%(host)s is a private, local or reserved address: the server downloads only from "
            "public addresses"
        ),
        host=host[:100],
    )


def _not_found(host: str) -> FetchRefused:
    return _refused(
        RefusalCode.FETCH_NOT_FOUND,
        _(
            "the name %(host)s could not be found; if the address is right this can be a "
            "passing problem: try again later"
        ),
        host=host[:100],
    )


# --- addresses ----------------------------------------------------------------------------


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for an address on the public internet; False for every kind of local address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is None and address.teredo:
            embedded = address.teredo[1]
        if embedded is not None and not is_public(embedded):
            return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def literal_address(host: str):
    """The address a host written as an address stands for (IPv6, dotted quad, or the decimal,
    octal and hexadecimal spellings resolvers accept), or None for a name."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host) and host[0].isdigit():
        try:  # inet_aton reads 2130706433, 0177.0.0.1 and 0x7f.1 as the resolver does
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (tests replace this to map names)."""
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(answer[4][0] for answer in answers))


def _resolve_within(host: str, port: int, seconds: float) -> list[str] | None:
    """resolve() bounded by `seconds` (the system resolver has no deadline of its own); None
    when the name is not found or the time ran out."""
    result: dict = {}

    def run():
        try:
            result["addresses"] = resolve(host, port)
        except (OSError, UnicodeError):
            result["addresses"] = None

    worker = threading.Thread(target=run, name="fetch-resolve", daemon=True)
    worker.start()
    worker.join(max(0.0, seconds))
    return result.get("addresses")


def allowed_hosts() -> set[tuple[str, int]]:
    """(host, port) pairs exempt from the public-address rule (FETCH_ALLOWED_HOSTS)."""
    allowed = set()
    for entry in getattr(settings, "FETCH_ALLOWED_HOSTS", []) or []:
        entry = str(entry).strip()
        if entry == IMAGE_BASE_ENTRY:
            parts = urlsplit(settings.OPEN1688_IMAGE_BASE)
        else:
            parts = urlsplit(entry if "//" in entry else "//" + entry)
        try:
            port = parts.port or DEFAULT_PORTS.get(parts.scheme, 0)
        except ValueError:
            continue
        if parts.hostname:
            allowed.add((parts.hostname, port))
    return allowed


class _Target:
    """A parsed http(s) address: what to connect to and what to say in the request."""

    def __init__(self, url: str):
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise _invalid() from None
        if parts.scheme not in DEFAULT_PORTS:
            raise _refused(
                RefusalCode.FETCH_SCHEME, _("only http and https addresses are downloaded")
            )
        host = (parts.hostname or "").rstrip(".")
        if not host or parts.username is not None or parts.password is not None:
            raise _invalid()
        if not host.isascii():
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError:
                raise _invalid() from None
        if any(c.isspace() or ord(c) < 32 for c in url):
            raise _invalid()
        self.url, self.scheme, self.host = url, parts.scheme, host
        self.port = port or DEFAULT_PORTS[parts.scheme]
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        shown = f"[{host}]" if ":" in host else host
        self.host_header = shown if self.port == DEFAULT_PORTS[self.scheme] else f"{shown}:{port}"

    @property
    def allowed(self) -> bool:
        return (self.host, self.port) in allowed_hosts()


def _literal_problem(target: _Target) -> FetchRefused | None:
    if target.allowed:
        return None
    if target.host == "localhost" or target.host.endswith(".localhost"):
        return _private(target.host)
    literal = literal_address(target.host)
    if literal is not None and not is_public(literal):
        return _private(target.host)
    return None


def _checked_addresses(target: _Target, clock: _Clock) -> list[str]:
    """The addresses to connect to, every one of them allowed; FetchRefused otherwise."""
    problem = _literal_problem(target)
    if problem:
        raise problem
    addresses = _resolve_within(target.host, target.port, clock.remaining())
    if not addresses:
        raise clock.refused() if clock.passed() else _not_found(target.host)
    if not target.allowed:
        for address in addresses:
            if not is_public(ipaddress.ip_address(address.split("%", 1)[0])):
                raise _private(target.host)
    return addresses


def address_problem(url: str, *, resolve_names: bool = True, seconds: float = 3.0):
    """The FetchRefused the fetch would raise for the address alone, else None (nothing is
    downloaded). A name that does not resolve now is not a problem here: that can pass, and
    the fetch says so when it happens. Answers for names are kept ANSWER_SECONDS, so a batch
    of a thousand pictures on one host asks the resolver once."""
    try:
        target = _Target(url)
        problem = _literal_problem(target)
        if problem or not resolve_names or literal_address(target.host) is not None:
            return problem
        key = (target.host, target.port, frozenset(allowed_hosts()))
        kept = _answers.get(key)
        if kept and kept[0] > time.monotonic():
            return kept[1]
        problem = None
        addresses = _resolve_within(target.host, target.port, seconds)
        if addresses and not target.allowed:
            for address in addresses:
                if not is_public(ipaddress.ip_address(address.split("%", 1)[0])):
                    problem = _private(target.host)
        if len(_answers) > 1000:
            _answers.clear()
        _answers[key] = (time.monotonic() + ANSWER_SECONDS, problem)
        return problem
    except FetchRefused as refused:
        return refused


# --- the download -------------------------------------------------------------------------


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to a checked address (the Host header is set by the request). `live_socket` is the
    socket as soon as it exists, for the watchdog: http.client forgets its own `sock` once the
    answer owns the connection."""

    live_socket = None

    def connect(self):
        super().connect()
        self.live_socket = self.sock


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to a checked address, with the original name in SNI and in the certificate check;
    the handshake runs after `live_socket` is known, so the deadline covers it too."""

    live_socket = None

    def __init__(self, address: str, port: int, *, server_hostname: str, **kwargs):
        super().__init__(address, port, **kwargs)
        self.server_hostname = server_hostname

    def connect(self):
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(
            self.sock, server_hostname=self.server_hostname, do_handshake_on_connect=False
        )
        self.live_socket = self.sock
        self.sock.do_handshake()


def _tls_context() -> ssl.SSLContext:
    try:
        import certifi  # requests' CA bundle, as every other https call here uses

        return ssl.create_default_context(cafile=certifi.where())
    except ImportError:  # pragma: no cover
        return ssl.create_default_context()


def _cut(connection) -> None:
    """At the deadline: end the connection under whatever read is waiting on it."""
    sock = connection.live_socket
    if sock is not None:
        # socket.socket's own shutdown, also under TLS: the blocked read returns at once.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _connection(target: _Target, address: str, seconds: float):
    timeout = max(0.01, min(CONNECT_SECONDS, seconds))
    if target.scheme == "https":
        return _PinnedHTTPSConnection(
            address, target.port, server_hostname=target.host, timeout=timeout,
            context=_tls_context(),
        )  # fmt: skip
    return _PinnedHTTPConnection(address, target.port, timeout=timeout)


def _deadline_passed(seconds: float) -> FetchRefused:
    return _refused(
        RefusalCode.FETCH_DEADLINE,
        _("the download did not finish within %(seconds)s seconds"),
        seconds=f"{seconds:g}",
    )


def _too_large(max_bytes: int) -> FetchRefused:
    return _refused(
        RefusalCode.FETCH_TOO_LARGE,
        _("it is larger than %(mb)s MB"),
        mb=f"{max_bytes / 1024 / 1024:g}",
    )


class _Clock:
    """The one deadline of a download, and whether the watchdog had to cut a connection."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.cut = False

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def passed(self) -> bool:
        return self.cut or self.remaining() <= 0

    def refused(self) -> FetchRefused:
        return _deadline_passed(self.seconds)


def _one_request(target: _Target, addresses: list[str], clock: _Clock, max_bytes: int):
    """(status, location, body) of one GET to the first of `addresses` that answers."""
    unreachable = _refused(RefusalCode.FETCH_UNREACHABLE, _("the server could not be reached"))
    for address in addresses:
        if clock.passed():
            raise clock.refused()
        connection = _connection(target, address, clock.remaining())

        def cut(connection=connection):
            clock.cut = True
            _cut(connection)

        watchdog = threading.Timer(max(0.0, clock.remaining()), cut)
        watchdog.daemon = True
        watchdog.start()
        try:
            try:
                connection.connect()
            except OSError:
                continue  # the next address, if any
            connection.live_socket.settimeout(max(0.01, clock.remaining()))
            connection.request(
                "GET",
                requote_uri(target.path),
                headers={"Host": target.host_header, "User-Agent": USER_AGENT, "Accept": "*/*"},
            )
            answer = connection.getresponse()
            if answer.status in REDIRECTS:
                return answer.status, answer.getheader("Location") or "", b""
            if answer.status != 200:
                return answer.status, "", b""
            declared = answer.getheader("Content-Length") or ""
            if declared.isdigit() and int(declared) > max_bytes:
                raise _too_large(max_bytes)
            body = bytearray()
            while not clock.passed() and (chunk := answer.read(CHUNK)):
                body += chunk
                if len(body) > max_bytes:
                    raise _too_large(max_bytes)
            if clock.passed():
                raise clock.refused()
            return 200, "", bytes(body)
        except (OSError, http.client.HTTPException, ValueError):
            raise (clock.refused() if clock.passed() else unreachable) from None
        finally:
            watchdog.cancel()
            connection.close()
    raise clock.refused() if clock.passed() else unreachable


def fetch(url: str, *, max_bytes: int | None = None, deadline_seconds: float | None = None):
    """The body of `url` (a 200 answer, after at most MAX_REDIRECTS redirects, each checked),
    or FetchRefused with a sentence saying why. Never the raw error, and nothing of an address
    that was refused: it is never connected to."""
    max_bytes = max_bytes or settings.FETCH_MAX_BYTES
    clock = _Clock(deadline_seconds or settings.FETCH_DEADLINE_SECONDS)
    redirects = 0
    while True:
        target = _Target(url)
        addresses = _checked_addresses(target, clock)
        status, location, body = _one_request(target, addresses, clock, max_bytes)
        if status == 200:
            return body
        if status not in REDIRECTS:
            raise _refused(
                RefusalCode.FETCH_STATUS,
                _("the server answered with HTTP status %(status)d"),
                status=status,
            )
        if not location:
            raise _refused(
                RefusalCode.FETCH_STATUS, _("the server redirected without saying where")
            )
        redirects += 1
        if redirects > MAX_REDIRECTS:
            raise _refused(
                RefusalCode.FETCH_REDIRECTS,
                _("the address redirects more than %(max)d times"),
                max=MAX_REDIRECTS,
            )
        url = urljoin(url, location)
