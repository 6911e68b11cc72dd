"""Start-up checks of production settings (plain functions: settings.py imports this before Django
is set up, so nothing here touches Django).

Each function returns a problem sentence, or None when the value is fine; settings.py turns a
problem into ImproperlyConfigured naming the variable. A problem sentence never repeats a secret.
"""

import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

SANDBOX_PORT = 8688  # python -m sandbox serve


def _loopback(host: str) -> bool:
    """True for localhost names, 127.0.0.0/8, ::1, 0.0.0.0/:: and their spellings."""
    host = host.strip("[]").rstrip(".").lower()
    if host in {"", "localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}:
        return True
    if host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:  # the lenient C spellings too: 127.1, 0x7f000001, 2130706433
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


def gateway_problem(url: str, *, sandbox_port: int = SANDBOX_PORT) -> str | None:
    """Why `url` cannot be the production 1688 gateway: not https, loopback, or the sandbox."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return "is not a URL"
    if parts.scheme != "https":
        return "must be an https:// URL"
    host = parts.hostname or ""
    if _loopback(host):
        return "points at this machine (a loopback address), not at 1688"
    if "sandbox" in host or port == sandbox_port:
        return "points at the sandbox gateway, not at 1688"
    return None


def fernet_keys_problem(keys: Sequence[str]) -> str | None:
    """Why the comma-separated FIELD_ENCRYPTION_KEY list is unusable; names positions only."""
    from cryptography.fernet import Fernet

    if not keys:
        return "holds no key"
    bad = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.strip())
        except (ValueError, TypeError):
            bad.append(str(position))
    if bad:
        return (
            "key " + ", ".join(bad) + " of " + str(len(keys)) + " is not a valid Fernet key "
            "(32 url-safe base64-encoded bytes; make one with "
            "`python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`)"
        )
    return None
