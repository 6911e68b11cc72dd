"""The gateway's own `_aop_signature` (written independently of the client's signer).

message = path factor ``param2/1/{namespace}/{name}/{appKey}`` + the sorted, concatenated
``key + value`` strings of every parameter except ``_aop_signature`` (raw values, not
URL-encoded); HMAC-SHA1 keyed with the app secret; upper-case hex.
"""

import hashlib
import hmac
from collections.abc import Mapping

SIGNATURE_PARAM = "_aop_signature"


def _java_string_order(text: str) -> bytes:
    # The official SDKs sort Java Strings, i.e. by UTF-16 code units; UTF-16-BE bytes compare
    # the same way. It differs from code point order only for characters beyond the BMP.
    return text.encode("utf-16-be")


def signing_message(path_factor: str, params: Mapping[str, str]) -> str:
    pieces = [f"{key}{value}" for key, value in params.items() if key != SIGNATURE_PARAM]
    return path_factor + "".join(sorted(pieces, key=_java_string_order))


def sign(secret: str, path_factor: str, params: Mapping[str, str]) -> str:
    message = signing_message(path_factor, params)
    digest = hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha1)
    return digest.hexdigest().upper()


def signature_matches(secret: str, path_factor: str, params: Mapping[str, str]) -> bool:
    """Strict: the documented form is upper-case hex, so a lower-case signature is refused."""
    given = params.get(SIGNATURE_PARAM, "")
    return hmac.compare_digest(sign(secret, path_factor, params), given)
