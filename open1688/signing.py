"""The `_aop_signature` of the 1688 Open Platform (docs/protocol.md, "Gateway, signing, time")."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SIGNATURE_PARAM = "_aop_signature"


def _is_file(value: object) -> bool:
    return isinstance(value, bytes | bytearray | memoryview) or hasattr(value, "read")


def _utf16_order(piece: str) -> bytes:
    # The gateway is Java: String.compareTo orders by UTF-16 code units. Python's code-point
    # order differs only for characters beyond U+FFFF; big-endian UTF-16 bytes reproduce Java's.
    return piece.encode("utf-16-be")


def sign(path_factor: str, params: Mapping[str, object], secret: str) -> str:
    """HMAC-SHA1 over path_factor + the sorted `key+value` strings; upper-case hex.

    The official SDKs sort the joined strings, not the keys (they differ when one key is a
    prefix of another). File streams and `_aop_signature` itself are not signed.
    """
    pieces = sorted(
        (
            f"{key}{value}"
            for key, value in params.items()
            if key != SIGNATURE_PARAM and not _is_file(value)
        ),
        key=_utf16_order,
    )
    message = path_factor + "".join(pieces)
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha1)
    return digest.hexdigest().upper()
