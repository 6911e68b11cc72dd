"""What an API handler gets (ApiCall) and how the gateway knows an API (Api). Imports no API
module: the API modules import it, and sandbox/apis/table.py lists them."""

from collections.abc import Callable
from dataclasses import dataclass, field

from ..wire.http import Response
from ..world.store import Store
from .switches import Switches


@dataclass
class ApiCall:
    """What an API handler gets: the parsed call plus the seller the token stands for."""

    store: Store
    params: dict[str, str]
    files: dict[str, bytes]
    host_url: str
    app_key: str
    member_id: str | None = None
    switches: Switches = field(default_factory=Switches)


Handler = Callable[[ApiCall], dict | Response]


@dataclass(frozen=True)
class Api:
    handler: Handler
    needs_token: bool = True
    required: tuple[str, ...] = field(default=())
    # False where the official generated SDK sends no signature (`need_sign()`): a signature
    # is then checked only when one is sent.
    needs_sign: bool = True
