"""``system.currentTime``: the gateway's clock as a 1688 time stamp (no token)."""

from typing import TYPE_CHECKING

from ..wire.timefmt import format_1688

if TYPE_CHECKING:
    from .call import ApiCall


def current_time(call: "ApiCall") -> dict:
    return {"result": format_1688(call.store.clock.now_ms())}
