"""product.increment.editInfo, the incremental edit of one's own offer (docs/protocol.md,
"Price and title edits"): kept beside the client rather than in it, called with the client.

Practitioners send `catId`, `scene` ("cbu"), `offerId`, `dataBody` = {"formValues": {...}}
and `bizParam` "{}"; it takes title, description and tier prices (`priceRange[{
priceRange_beginAmount, priceRange_price}]`), not catProp, address, freight or sizes. The
answer is `{"success": true, "result": "<JSON string>"}`; how a refusal reads is not on record,
so every shape seen on this platform is read: a flat errorCode/errorMsg, `success` false
outside or inside the (string) result, a bizCode inside it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .errors import BusinessError, MalformedResponseError

if TYPE_CHECKING:
    from .client import Open1688Client

API = "product.increment.editInfo"  # no `alibaba.` prefix (a practitioner's note)
NAMESPACE = "com.alibaba.product"
SCENE = "cbu"  # what the practitioners' editInfo calls send


def increment_edit_info(
    client: Open1688Client,
    access_token: str,
    *,
    offer_id: int,
    category_id: int,
    form_values: Mapping,
    scene: str = SCENE,
) -> None:
    """Set the given form values of the offer. Idempotent (it sets values), so retried like
    a read; raises BusinessError on a refusal, PermissionDeniedError when the app was not
    granted the API."""
    params = {
        "catId": category_id,
        "scene": scene,
        "offerId": offer_id,
        "dataBody": {"formValues": dict(form_values)},
        "bizParam": {},
    }
    answer = client.call(NAMESPACE, API, params, access_token=access_token)
    try:
        check_answer(answer)
    except (BusinessError, MalformedResponseError) as exc:
        exc.api = exc.api or API
        raise


def check_answer(answer: object) -> None:
    if not isinstance(answer, dict):
        raise MalformedResponseError("not a JSON object")
    inner = answer.get("result")
    if isinstance(inner, str):
        try:
            inner = json.loads(inner) if inner.strip() else {}
        except ValueError:
            inner = {}  # some answers carry plain text there: judged by the outer flag
    inner = inner if isinstance(inner, dict) else {}
    flags = [answer.get("success"), inner.get("success")]
    code = _first(answer, inner, "errorCode", "bizCode", "code")
    message = _first(answer, inner, "errorMsg", "bizMessage", "message", "errMsg")
    refused = any(_is_false(flag) for flag in flags) or (
        code and not any(_is_true(flag) for flag in flags)
    )
    if refused:
        raise BusinessError(message or code or "call failed", code=code or None)
    if not any(_is_true(flag) for flag in flags):
        raise MalformedResponseError("the answer says neither success nor failure")


def _first(outer: dict, inner: dict, *keys: str) -> str:
    for source in (outer, inner):
        for key in keys:
            if source.get(key) not in (None, ""):
                return str(source[key])
    return ""


def _is_true(flag) -> bool:
    return flag is True or str(flag).lower() == "true"


def _is_false(flag) -> bool:
    return flag is False or str(flag).lower() == "false"
