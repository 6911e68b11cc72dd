"""Message push replay (docs/protocol.md, "Message push"): the undelivered messages, read by
cursor or by page, and their confirmation. These calls take no access token."""

from __future__ import annotations

from collections.abc import Sequence

from .. import answers
from ..transport import Transport, parsed
from . import PUSH_NAMESPACE


class PushApi(Transport):
    def cursor_messages(self, *, quantity: int = 20, message_type: str = "") -> list[dict]:
        """cn.alibaba.open:push.cursor.messageList: up to `quantity` (20-200) undelivered
        messages, oldest first; reading them confirms them (store them before asking for
        more). Each is the push envelope {msgId, type, userInfo, data, gmtBorn}."""
        api = "push.cursor.messageList"
        params = {"quantity": max(20, min(200, quantity)), "type": message_type or None}
        answer = self.call(PUSH_NAMESPACE, api, {k: v for k, v in params.items() if v})
        return parsed(answers.parse_push_messages, answer, api)

    def query_messages(
        self, *, page: int = 1, page_size: int = 20, message_type: str = ""
    ) -> tuple[list[dict], int]:
        """cn.alibaba.open:push.query.messageList: one page of undelivered messages and the
        total; not confirmed (push.message.confirm does that)."""
        api = "push.query.messageList"
        params = {"page": page, "pageSize": max(20, min(200, page_size))}
        if message_type:
            params["type"] = message_type
        answer = self.call(PUSH_NAMESPACE, api, params)
        return parsed(answers.parse_push_page, answer, api)

    def confirm_messages(self, msg_ids: Sequence[int]) -> None:
        """cn.alibaba.open:push.message.confirm (`msgIdList`). Idempotent."""
        if not msg_ids:
            return
        api = "push.message.confirm"
        answer = self.call(PUSH_NAMESPACE, api, {"msgIdList": list(msg_ids)})
        parsed(answers.check_confirm_answer, answer, api)
