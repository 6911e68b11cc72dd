"""Answers of the push replay APIs (docs/protocol.md, "Message push") and the push envelope
itself, which the push stream's messages share.
"""

from __future__ import annotations

import json

from ..errors import BusinessError, MalformedResponseError
from .reader import Reader, is_true, raise_unless_success, without_nul


def push_envelope(obj: object, at: str = "message") -> dict:
    """One push message {msgId, type, userInfo, data, gmtBorn} with `msgId` and `gmtBorn` read
    as integers and `data` as an object (it may arrive as a JSON string); NUL characters are
    dropped from every string (PostgreSQL's jsonb refuses them)."""
    reader = Reader(without_nul(obj), at)
    data = reader.value("data")
    if isinstance(data, str):
        try:
            data = without_nul(json.loads(data))
        except ValueError as exc:
            raise MalformedResponseError(f"{reader.path('data')} is not JSON") from exc
    if data is not None and not isinstance(data, dict):
        raise MalformedResponseError(f"{reader.path('data')} is not a JSON object")
    return {
        **reader.raw,
        "msgId": reader.integer("msgId", required=True),
        "type": reader.text("type")
        or "_".join(filter(None, (reader.text("topicGroup"), reader.text("topicName")))),
        "userInfo": reader.text("userInfo"),
        "gmtBorn": reader.integer("gmtBorn"),
        "data": data or {},
    }


def parse_push_messages(answer: object) -> list[dict]:
    """push.cursor.messageList: {pushMessageList: [...]} (maybe inside `result`)."""
    top = Reader(answer)
    reader = top.child("result") if isinstance(top.value("result"), dict) else top
    raise_unless_success(reader)
    items = reader.value("pushMessageList") or []
    if not isinstance(items, list):
        raise MalformedResponseError("pushMessageList is not a list")
    return [push_envelope(item, f"pushMessageList[{i}]") for i, item in enumerate(items)]


def parse_push_page(answer: object) -> tuple[list[dict], int]:
    """push.query.messageList: {pushMessagePage: {datas: [...], totalCount}}."""
    top = Reader(answer)
    reader = top.child("result") if isinstance(top.value("result"), dict) else top
    raise_unless_success(reader)
    page = reader.child("pushMessagePage", required=False)
    items = page.value("datas") or []
    if not isinstance(items, list):
        raise MalformedResponseError("pushMessagePage.datas is not a list")
    messages = [push_envelope(item, f"datas[{i}]") for i, item in enumerate(items)]
    return messages, page.integer("totalCount") or 0


def check_confirm_answer(answer: object) -> None:
    """push.message.confirm: {isSuccess: true}."""
    top = Reader(answer)
    reader = top.child("result") if isinstance(top.value("result"), dict) else top
    flag = reader.value("isSuccess")
    if flag is not None and not is_true(flag):
        raise BusinessError("messages were not confirmed", code=reader.text("code") or None)
