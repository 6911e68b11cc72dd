"""Message push replay (``cn.alibaba.open``, no token): ``push.query.messageList`` {page,
pageSize} → {pushMessagePage: {datas, totalCount}} (unconfirmed, not confirming),
``push.cursor.messageList`` {quantity 20-200} → {pushMessageList} (confirms what it returns),
``push.message.confirm`` {msgIdList} → {isSuccess: true}. Delivery: sandbox/server/push.py.
"""

from typing import TYPE_CHECKING

from ..world import push_messages
from .params import ParamInvalid, json_param

if TYPE_CHECKING:
    from .call import ApiCall


def _int_param(call: "ApiCall", name: str, default: int, low: int, high: int) -> int:
    text = call.params.get(name)
    if text in (None, ""):
        return default
    try:
        return max(low, min(high, int(text)))
    except ValueError as error:
        raise ParamInvalid(f"{name} must be a number") from error


def query_message_list(call: "ApiCall") -> dict:
    try:
        page = _int_param(call, "page", 1, 1, 10**6)
        size = _int_param(call, "pageSize", 20, 20, 200)
    except ParamInvalid as error:
        return {"success": False, "code": error.code, "message": str(error)}
    rows, total = _unconfirmed(call, size, (page - 1) * size)
    datas = [push_messages.envelope(r) for r in rows]
    return {"pushMessagePage": {"datas": datas, "totalCount": total}}


def cursor_message_list(call: "ApiCall") -> dict:
    try:
        quantity = _int_param(call, "quantity", 20, 20, 200)
    except ParamInvalid as error:
        return {"success": False, "code": error.code, "message": str(error)}
    rows, _total = _unconfirmed(call, quantity)
    push_messages.mark(call.store, [r["msg_id"] for r in rows], confirm=True)
    return {"pushMessageList": [push_messages.envelope(r) for r in rows]}


def confirm_messages(call: "ApiCall") -> dict:
    try:
        ids = json_param(call.params, "msgIdList", list, [])
        msg_ids = [int(i) for i in ids]
    except (ParamInvalid, TypeError, ValueError):
        return {"isSuccess": False, "code": "PARAM_INVALID", "message": "msgIdList: ids"}
    push_messages.ensure_schema(call.store)
    push_messages.mark(call.store, msg_ids, confirm=True)
    return {"isSuccess": True}


def _unconfirmed(call: "ApiCall", limit: int, offset: int = 0) -> tuple[list, int]:
    return push_messages.unconfirmed(
        call.store,
        call.app_key,
        topic=call.params.get("type") or None,
        member_id=call.params.get("userInfo") or None,
        limit=limit,
        offset=offset,
    )
