"""The seller's freight templates and send-goods addresses, which a published offer names
(docs/protocol.md, "Publishing what 1688 accepts")."""

from __future__ import annotations

from .. import answers
from ..transport import Transport, parsed
from ..types import FreightTemplate, SendGoodsAddress
from . import LOGISTICS_NAMESPACE


class LogisticsApi(Transport):
    def list_freight_templates(self, access_token: str) -> tuple[FreightTemplate, ...]:
        """alibaba.logistics.myFreightTemplate.list.get: the seller's freight templates."""
        api = "alibaba.logistics.myFreightTemplate.list.get"
        answer = self.call(LOGISTICS_NAMESPACE, api, {"webSite": "1688"}, access_token=access_token)
        return parsed(answers.parse_freight_templates, answer, api)

    def list_send_goods_addresses(self, access_token: str) -> tuple[SendGoodsAddress, ...]:
        """alibaba.logistics.mySendGoodsAddress.list.get: the seller's send-goods addresses."""
        api = "alibaba.logistics.mySendGoodsAddress.list.get"
        answer = self.call(LOGISTICS_NAMESPACE, api, {"webSite": "1688"}, access_token=access_token)
        return parsed(answers.parse_send_goods_addresses, answer, api)
