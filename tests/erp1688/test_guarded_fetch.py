"""The one guarded fetch (erp1688/guarded_fetch.py) against a hostile HTTP server of its own on
127.0.0.1: private addresses in every spelling, names that resolve to loopback, redirect chains
into the machine and to the cloud's metadata address, slow and endless bodies, slow headers,
DNS rebinding, TLS with the original name; and, end to end, an item whose picture points into
the machine is refused at validation, and when it sneaks past validation the publish job refuses
it with the same sentence while no request reaches the hostile server."""

import datetime as dt
import ipaddress
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import translation

from erp1688 import guarded_fetch
from erp1688.guarded_fetch import FetchRefused, address_problem, fetch
from erp1688.messages import render
from erp1688.refusal_codes import RefusalCode
from tests.erp1688.test_pictures import pixel_bomb, png

PICTURE = png((32, 32))
FAKE_PUBLIC = "93.184.216.34"  # what a rebinding name answers first: public, then not


class HostileHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args):
        pass

    def do_GET(self):  # noqa: N802 - http.server's name
        server = self.server
        server.requests.append((self.path, self.headers.get("Host")))
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        route = parts.path
        if route == "/pic.png":
            self._answer(200, PICTURE)
        elif route == "/bomb.png":
            self._answer(200, pixel_bomb())
        elif route == "/redirect":
            self._answer(int(query.get("status", 302)), b"", Location=query["to"])
        elif route.startswith("/chain/"):
            left = int(route.rsplit("/", 1)[1])
            self._answer(302, b"", Location=f"/chain/{left - 1}" if left else "/pic.png")
        elif route == "/slow":  # one byte every `every` seconds, a length it never reaches
            self._drip(float(query["every"]), header=False)
        elif route == "/slow-headers":
            self._drip(float(query["every"]), header=True)
        elif route == "/endless":  # no length, 64 KB after 64 KB, never ending
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self._until_stopped(lambda: self.wfile.write(b"\xff" * 65536), pause=0)
        elif route == "/huge":  # says 50 GB, sends nothing
            self.send_response(200)
            self.send_header("Content-Length", str(50 * 2**30))
            self.end_headers()
        else:
            self._answer(404, b"no")

    def _answer(self, status: int, body: bytes, **headers):
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _drip(self, every: float, *, header: bool):
        if header:
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            self._until_stopped(lambda: self.wfile.write(b"X"), pause=every)
        else:
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self._until_stopped(lambda: self.wfile.write(b"\xff"), pause=every)

    def _until_stopped(self, write, *, pause: float):
        try:
            while not self.server.stopping.is_set():
                write()
                self.wfile.flush()
                if pause:
                    self.server.stopping.wait(pause)
        except OSError:
            pass  # the client went away: that is the point


class HostileServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, tls: ssl.SSLContext | None = None):
        super().__init__(("127.0.0.1", 0), HostileHandler)
        self.requests: list[tuple[str, str]] = []
        self.stopping = threading.Event()
        self.port = self.server_address[1]
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)

    def handle_error(self, request, client_address):
        pass  # a client that hangs up on a hostile answer is the expected outcome

    def url(self, path: str = "/pic.png", host: str = "127.0.0.1", scheme="http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"


def _serve(server: HostileServer):
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


@pytest.fixture(scope="module")
def servers():
    """The hostile server, and an "internal service" on another port nothing may reach."""
    started = [_serve(HostileServer()), _serve(HostileServer())]
    yield started
    for server in started:
        server.stopping.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def hostile(servers):
    servers[0].requests.clear()
    return servers[0]


@pytest.fixture
def internal(servers):
    servers[1].requests.clear()
    return servers[1]


@pytest.fixture
def reachable(settings, hostile):
    """The hostile server is let through (as the sandbox's picture host is), so what it answers
    is what is tested; everything else on the machine stays refused."""
    settings.FETCH_ALLOWED_HOSTS = [f"127.0.0.1:{hostile.port}"]
    settings.FETCH_DEADLINE_SECONDS = 2.0
    return hostile


@pytest.fixture
def names(monkeypatch):
    """A resolver of our own (the fetch's `resolve`, which every check and connection uses):
    name → addresses, or a list of answers given one call after another."""
    table: dict[str, list] = {}
    calls: list[str] = []

    def resolve(host, port):
        calls.append(host)
        answer = table.get(host)
        if answer is None:
            raise OSError("not found")
        if isinstance(answer[0], list):  # successive answers
            return answer.pop(0) if len(answer) > 1 else answer[0]
        return answer

    monkeypatch.setattr(guarded_fetch, "resolve", resolve)
    monkeypatch.setattr(guarded_fetch, "_answers", {})  # validation's memory of answers
    table["calls"] = calls
    return table


def refusal(url: str) -> FetchRefused:
    with pytest.raises(FetchRefused) as refused:
        fetch(url)
    return refused.value


LOOPBACK_SPELLINGS = [
    "127.0.0.1", "2130706433", "0177.0.0.1", "0x7f.0.0.1", "0x7f000001", "127.1", "017700000001",
    "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[0:0:0:0:0:ffff:127.0.0.1]",
    "[2002:7f00:1::]", "[64:ff9b::7f00:1]", "localhost", "LOCALHOST.", "pictures.localhost",
    "0.0.0.0", "0", "[::]",
]  # fmt: skip
ELSEWHERE_INSIDE = [
    "169.254.169.254", "[::ffff:169.254.169.254]", "[64:ff9b::a9fe:a9fe]", "2852039166",
    "10.255.255.1", "192.168.1.1", "172.16.0.1", "100.64.0.1", "224.0.0.1", "240.0.0.1",
    "255.255.255.255", "[fe80::1]", "[fe80::1%25eth0]", "[fc00::1]", "[ff02::1]",
]  # fmt: skip


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_loopback_in_every_spelling_is_refused_without_a_request(host, hostile, scoreboard):
    scoreboard.hostile()
    url = f"http://{host}:{hostile.port}/pic.png"
    refused = refusal(url)
    assert refused.code == RefusalCode.FETCH_PRIVATE_ADDRESS, refused.message
    assert (
        address_problem(url).code == RefusalCode.FETCH_PRIVATE_ADDRESS
    )  # validation says the same
    assert address_problem(url, resolve_names=False).code == RefusalCode.FETCH_PRIVATE_ADDRESS
    assert hostile.requests == []


@pytest.mark.parametrize("host", ELSEWHERE_INSIDE)
def test_private_link_local_multicast_and_reserved_addresses_are_refused(host, scoreboard):
    scoreboard.hostile()
    url = f"http://{host}/latest/meta-data/"
    assert refusal(url).code == RefusalCode.FETCH_PRIVATE_ADDRESS
    assert address_problem(url, resolve_names=False).code == RefusalCode.FETCH_PRIVATE_ADDRESS


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("file:///etc/passwd", "fetch.scheme"),
        ("ftp://example.com/a.jpg", "fetch.scheme"),
        ("gopher://127.0.0.1:6379/_INFO", "fetch.scheme"),
        ("javascript:alert(1)", "fetch.scheme"),
        ("http://user:secret@example.com/a.jpg", "fetch.invalid"),
        ("http://127.0.0.1:6379@example.com/a.jpg", "fetch.invalid"),
        ("http:///a.jpg", "fetch.invalid"),
        ("http://example.com:99999/a.jpg", "fetch.invalid"),
        ("http://exa mple.com/a.jpg", "fetch.invalid"),
    ],
)
def test_other_schemes_and_odd_addresses_are_refused(url, code, scoreboard):
    scoreboard.hostile()
    assert refusal(url).code == code


def test_a_name_that_resolves_to_loopback_is_refused(names, hostile, scoreboard):
    names["pictures.example"] = ["127.0.0.1"]
    names["mixed.example"] = [FAKE_PUBLIC, "10.0.0.7"]  # one inside is enough
    for name in ("pictures.example", "mixed.example"):
        scoreboard.hostile()
        url = hostile.url(host=name)
        assert refusal(url).code == RefusalCode.FETCH_PRIVATE_ADDRESS
        assert address_problem(url).code == RefusalCode.FETCH_PRIVATE_ADDRESS
    assert hostile.requests == []


def test_the_machines_own_name_through_the_real_resolver_is_refused(hostile, scoreboard):
    """Not only spellings: the system resolver's answer is checked (the machine's host name
    resolves to loopback or to its own private address)."""
    name = socket.gethostname()
    answers = guarded_fetch.resolve(name, hostile.port)
    if any(guarded_fetch.is_public(ipaddress.ip_address(a.split("%")[0])) for a in answers):
        pytest.skip(f"{name} resolves to a public address here")
    scoreboard.hostile()
    assert refusal(hostile.url(host=name)).code == RefusalCode.FETCH_PRIVATE_ADDRESS
    assert hostile.requests == []


def test_a_name_that_does_not_resolve_says_it_may_pass(names):
    refused = refusal("http://no-such-name.example/a.jpg")
    assert refused.code == RefusalCode.FETCH_NOT_FOUND
    with translation.override("en"):
        assert "try again later" in refused.message
    assert address_problem("http://no-such-name.example/a.jpg") is None  # not a staging error


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{internal}/admin",  # another service on the machine
        "http://169.254.169.254/latest/meta-data/iam/",  # the cloud's metadata
        "http://10.255.255.1/",
        "http://localhost:{hostile}/pic.png",  # the allowed server, by another name
        "http://2130706433:{hostile}/pic.png",
        "http://[::ffff:127.0.0.1]:{internal}/",
    ],
)
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_into_the_machine_is_refused_before_it_is_followed(
    target, status, reachable, internal, scoreboard
):
    scoreboard.hostile()
    to = target.format(internal=internal.port, hostile=reachable.port)
    refused = refusal(reachable.url(f"/redirect?status={status}&to={to}"))
    assert refused.code == RefusalCode.FETCH_PRIVATE_ADDRESS
    assert internal.requests == [] and len(reachable.requests) == 1


def test_at_most_three_redirects_each_checked(reachable, scoreboard):
    assert fetch(reachable.url("/chain/2")) == PICTURE  # 3 redirects
    reachable.requests.clear()
    scoreboard.hostile()
    refused = refusal(reachable.url("/chain/3"))  # a 4th
    assert refused.code == RefusalCode.FETCH_REDIRECTS
    assert [path for path, _host in reachable.requests] == [
        "/chain/3", "/chain/2", "/chain/1", "/chain/0",
    ]  # fmt: skip


@pytest.mark.exclusive  # timed: no other test may share the cores
@pytest.mark.parametrize("every", [0.3, 15.0])
@pytest.mark.parametrize("route", ["/slow", "/slow-headers"])
def test_a_slow_server_is_cut_off_at_the_total_deadline(route, every, reachable, scoreboard):
    """One byte every 0.3 s passes any per-read timeout; one every 15 s is the probe's: both
    end at the deadline (FETCH_DEADLINE_SECONDS, 2 s here), headers or body."""
    scoreboard.hostile()
    started = time.monotonic()
    refused = refusal(reachable.url(f"{route}?every={every}"))
    seconds = time.monotonic() - started
    print(f"\n{route} every {every} s: refused after {seconds:.2f} s")
    assert refused.code == RefusalCode.FETCH_DEADLINE
    assert 1.9 <= seconds < 3.0  # the deadline, plus a loaded machine's wake-up
    with translation.override("en"):
        assert refused.message == "the download did not finish within 2 seconds"


def test_the_deadline_counts_every_hop_of_a_redirect_chain(reachable, settings, scoreboard):
    scoreboard.hostile()
    started = time.monotonic()
    to = reachable.url("/slow?every=0.5")
    refused = refusal(reachable.url(f"/redirect?to={to}"))
    assert refused.code == RefusalCode.FETCH_DEADLINE and time.monotonic() - started < 3.0


def test_an_endless_body_is_cut_at_the_byte_cap(reachable, settings, scoreboard):
    scoreboard.hostile(2)
    settings.FETCH_MAX_BYTES = 1024 * 1024
    started = time.monotonic()
    refused = refusal(reachable.url("/endless"))
    assert refused.code == RefusalCode.FETCH_TOO_LARGE and time.monotonic() - started < 1.5
    with translation.override("en"):
        assert refused.message == "it is larger than 1 MB"
    assert (
        refusal(reachable.url("/huge")).code == RefusalCode.FETCH_TOO_LARGE
    )  # by its declared length


def test_the_connection_goes_to_the_checked_address_with_the_original_host(
    names, settings, hostile, scoreboard
):
    """DNS rebinding: the name answers 127.0.0.1 (allowed here for this name and port) when it
    is checked and the metadata address afterwards; the name is resolved once and the request
    goes to the address that was checked, naming the host the address gave."""
    scoreboard.hostile()
    names["rebind.example"] = [["127.0.0.1"], ["169.254.169.254"]]
    settings.FETCH_ALLOWED_HOSTS = [f"rebind.example:{hostile.port}"]
    assert fetch(hostile.url(host="rebind.example")) == PICTURE
    assert names["calls"] == ["rebind.example"]
    assert hostile.requests == [("/pic.png", f"rebind.example:{hostile.port}")]


def test_the_sandbox_image_host_is_the_one_default_exception(settings, hostile, internal):
    settings.FETCH_ALLOWED_HOSTS = ["OPEN1688_IMAGE_BASE"]
    settings.OPEN1688_IMAGE_BASE = hostile.url("/")
    assert fetch(hostile.url()) == PICTURE
    assert (
        refusal(internal.url()).code == RefusalCode.FETCH_PRIVATE_ADDRESS
    )  # same address, other port
    assert internal.requests == []


def test_refusals_are_sentences_never_errors_or_port_states(settings, reachable, internal):
    """A closed port and an open one read alike: "could not be reached", no errno, no "refused"."""
    closed = internal.port + 1000 if internal.port < 60000 else internal.port - 1000
    settings.FETCH_ALLOWED_HOSTS = [f"127.0.0.1:{closed}", f"127.0.0.1:{reachable.port}"]
    refused = [refusal(f"http://127.0.0.1:{closed}/"), refusal(reachable.url("/missing"))]
    assert [r.code for r in refused] == ["fetch.unreachable", "fetch.status"]
    for each in refused:
        with translation.override("en"):
            english = each.message
        with translation.override("zh-hans"):
            chinese = each.message
        assert "Errno" not in english and "refused" not in english.lower()
        assert english != chinese and not chinese.isascii()


# --- TLS: the checked address, the original name ----------------------------------------------


def _certificate(name: str):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem, key_pem


@pytest.fixture
def tls_server(tmp_path, monkeypatch):
    """An https picture server on 127.0.0.1 whose certificate names pictures.example, the
    names it was asked for by SNI, and a fetch that trusts that certificate."""
    pem, key_pem = _certificate("pictures.example")
    (tmp_path / "cert.pem").write_bytes(pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    asked: list[str] = []
    context.sni_callback = lambda _sock, name, _ctx: asked.append(name)
    server = _serve(HostileServer(tls=context))
    server.asked = asked
    monkeypatch.setattr(
        guarded_fetch, "_tls_context", lambda: ssl.create_default_context(cadata=pem.decode())
    )
    yield server
    server.stopping.set()
    server.shutdown()
    server.server_close()


def test_https_goes_to_the_checked_address_with_the_name_in_sni_and_the_certificate(
    tls_server, names, settings
):
    names["pictures.example"] = ["127.0.0.1"]
    names["other.example"] = ["127.0.0.1"]
    settings.FETCH_ALLOWED_HOSTS = [
        f"pictures.example:{tls_server.port}",
        f"other.example:{tls_server.port}",
    ]
    url = tls_server.url(host="pictures.example", scheme="https")
    assert fetch(url) == PICTURE
    assert tls_server.asked == ["pictures.example"]
    # The certificate is checked against the name, not the address: another name is refused.
    refused = refusal(tls_server.url(host="other.example", scheme="https"))
    assert refused.code == RefusalCode.FETCH_UNREACHABLE


def test_a_tls_handshake_dripped_slowly_is_cut_at_the_deadline(names, settings, scoreboard):
    """A server that answers the TLS handshake one byte every 0.3 s: the deadline covers the
    handshake too."""
    scoreboard.hostile()
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip():  # a TLS record header announcing 16 KB of handshake, then its bytes, slowly
        connection, _address = listener.accept()
        record = b"\x16\x03\x03\x40\x00" + b"\x02" * 16384
        with connection:
            for byte in record:
                if stop.wait(0.3):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return

    threading.Thread(target=drip, daemon=True).start()
    port = listener.getsockname()[1]
    names["slow.example"] = ["127.0.0.1"]
    settings.FETCH_ALLOWED_HOSTS = [f"slow.example:{port}"]
    settings.FETCH_DEADLINE_SECONDS = 2.0
    started = time.monotonic()
    try:
        refused = refusal(f"https://slow.example:{port}/a.jpg")
    finally:
        stop.set()
        listener.close()
    assert refused.code == RefusalCode.FETCH_DEADLINE
    assert 1.9 <= time.monotonic() - started < 3.0


# --- end to end: staging, then the publish job -----------------------------------------------

PRIVATE = "is a private, local or reserved address: the server downloads only from public addresses"


def _item(connected_shop, **fields):
    from catalog.publishing.categories import attributes_for
    from tests.publishing.test_publish import TEE, staged_item

    return staged_item(connected_shop, attributes_for(connected_shop, TEE), **fields)


def _publish_with_picture(item, url: str):
    """Submit the valid item (validated and queued), then put `url` in as its picture behind
    validation's back, and run the upload job."""
    from catalog.models import UploadItem
    from catalog.publishing import services
    from tests.conftest import run_worker

    services.submit_batch(user=None, batch=item.batch)
    UploadItem.objects.filter(pk=item.pk).update(images=[url])
    started = time.monotonic()
    run_worker("upload")
    item.refresh_from_db()
    return time.monotonic() - started


def _error(item, language="en") -> str:
    with translation.override(language):
        return render(item.remote_error_message)


@pytest.mark.django_db(transaction=True)
def test_a_picture_into_the_machine_is_refused_while_staging(
    connected_shop, hostile, names, scoreboard
):
    from catalog.publishing.batch_validation import validate_batch

    names["pictures.example"] = ["127.0.0.1"]
    urls = [
        hostile.url(),
        hostile.url(host="0177.0.0.1"),
        "http://169.254.169.254/latest/meta-data/",
        hostile.url(host="pictures.example"),
    ]
    scoreboard.hostile(len(urls))
    item = _item(connected_shop, images=urls)
    validate_batch(item.batch)
    item.refresh_from_db()
    with translation.override("en"):
        shown = [render(message) for message in item.validation_errors["images"]]
    assert shown == [
        f"Image 1: 127.0.0.1 {PRIVATE}",
        f"Image 2: 0177.0.0.1 {PRIVATE}",
        f"Image 3: 169.254.169.254 {PRIVATE}",
        f"Image 4: pictures.example {PRIVATE}",
    ]
    with translation.override("zh-hans"):
        assert render(item.validation_errors["images"][0]) == (
            "第 1 张图片：127.0.0.1 是内网、本机或保留地址：服务器只从公网地址下载"
        )
    assert hostile.requests == []


@pytest.mark.django_db(transaction=True)
def test_a_picture_that_sneaks_past_validation_is_refused_by_the_publish_job(
    connected_shop, sandbox, hostile, scoreboard
):
    from catalog.models import UploadItem

    scoreboard.hostile()
    item = _item(connected_shop)
    url = hostile.url()
    sandbox.reset_stats()
    _publish_with_picture(item, url)
    assert item.status == UploadItem.Status.FAILED and item.remote_error_code == "picture"
    assert _error(item) == f"picture 1: could not download {url}: 127.0.0.1 {PRIVATE}"
    assert _error(item, "zh-hans").startswith("第 1 张图片：无法下载")
    assert hostile.requests == []  # nothing reached the hostile server
    sent = {"alibaba.photobank.photo.add", "alibaba.product.add", "alibaba.new.product.add"}
    assert not sent & set(sandbox.calls())


@pytest.mark.django_db(transaction=True)
def test_a_slow_picture_fails_its_item_at_the_deadline(
    connected_shop, sandbox, reachable, scoreboard
):
    """The probe's server: one byte every 15 s. The job's item fails at the 2 s deadline."""
    from catalog.models import UploadItem

    scoreboard.hostile()
    item = _item(connected_shop)
    url = reachable.url("/slow?every=15")
    seconds = _publish_with_picture(item, url)
    print(f"\nthe upload job with a picture dripping a byte every 15 s: {seconds:.1f} s")
    assert item.status == UploadItem.Status.FAILED and item.remote_error_code == "picture"
    assert _error(item) == (
        f"picture 1: could not download {url}: the download did not finish within 2 seconds"
    )
    assert seconds < 10


@pytest.mark.django_db(transaction=True)
def test_a_pixel_bomb_from_an_allowed_host_fails_its_item_quickly(
    connected_shop, sandbox, reachable, scoreboard
):
    """Even from a host the fetch may reach (the image host's place), a pixel bomb is refused
    before it is decoded: the item fails with the sentence, nothing goes to the photobank."""
    from catalog.models import UploadItem

    scoreboard.hostile()
    pixel_bomb()  # built once (compressing 432 MB of pixels takes seconds), then served
    item = _item(connected_shop)
    sandbox.reset_stats()
    seconds = _publish_with_picture(item, reachable.url("/bomb.png"))
    print(f"\nthe upload job with a 12,000 x 12,000 picture: {seconds:.1f} s")
    assert item.status == UploadItem.Status.FAILED and item.remote_error_code == "picture"
    assert _error(item) == (
        "picture 1: The picture has too many pixels: 12000 × 12000, at most 40 million in all."
    )
    assert "alibaba.photobank.photo.add" not in sandbox.calls()
    assert seconds < 10
