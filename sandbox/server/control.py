"""The sandbox-only control API under /_sandbox/ (JSON in, JSON out; not part of 1688).
See docs/sandbox-control.md."""

from collections.abc import Callable
from dataclasses import dataclass

from ..apis import buyer, publish
from ..apis.switches import SwitchBoard
from ..wire.http import Request, Response, json_response
from ..wire.timefmt import format_1688
from ..world import push_messages, seeding, supplier_moves
from ..world.store import Store
from . import push
from .faults import FaultQueue
from .oauth import ACCESS_LIFE_S, REFRESH_LIFE_S, token_answer
from .ratelimit import RateLimiter
from .stats import CallStats

DEFAULT_RATE_PER_SEC = 50.0
OFFER_LISTING_LIMIT = 1000
SEED_IDS_LIMIT = 1000


class ControlError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Control:
    store: Store
    faults: FaultQueue
    stats: CallStats
    limiter: RateLimiter
    switches: SwitchBoard

    def handle(self, request: Request) -> Response:
        route = self._routes().get((request.method, request.path.rstrip("/")))
        if route is None:
            return json_response(
                {"error": f"no control route {request.method} {request.path}"}, 404
            )
        try:
            body = request.json() if request.method in ("POST", "DELETE") else {}
            return json_response(route(body, request))
        except ControlError as error:
            return json_response({"error": str(error)}, error.status)
        except (ValueError, KeyError, TypeError) as error:
            return json_response({"error": f"bad request: {error}"}, 400)

    def _routes(self) -> dict[tuple[str, str], Callable[[dict, Request], dict]]:
        return {
            ("GET", "/_sandbox/health"): lambda body, request: {"ok": True},
            ("POST", "/_sandbox/reset"): self.reset,
            ("POST", "/_sandbox/apps"): self.put_app,
            ("POST", "/_sandbox/sellers"): self.add_seller,
            ("POST", "/_sandbox/tokens"): self.issue_tokens,
            ("POST", "/_sandbox/tokens/expire"): self.expire_token,
            ("POST", "/_sandbox/seed"): self.seed,
            ("POST", "/_sandbox/mutate"): self.mutate,
            ("POST", "/_sandbox/offers/update"): self.update_offer,
            ("POST", "/_sandbox/offers/move"): self.move_offer,
            ("GET", "/_sandbox/acl"): self.get_acl,
            ("POST", "/_sandbox/acl"): self.set_acl,
            ("GET", "/_sandbox/limits"): lambda body, request: self.store.limits(),
            ("POST", "/_sandbox/limits"): lambda body, request: self.store.set_limits(body),
            ("GET", "/_sandbox/offers"): self.list_offers,
            ("GET", "/_sandbox/faults"): lambda body, request: {"faults": self.faults.pending()},
            ("POST", "/_sandbox/faults"): self.add_fault,
            ("DELETE", "/_sandbox/faults"): self.clear_faults,
            ("GET", "/_sandbox/stats"): lambda body, request: self.stats.snapshot(),
            ("POST", "/_sandbox/stats/reset"): self.reset_stats,
            ("GET", "/_sandbox/stats/arrivals"): lambda body, request: self.stats.arrivals(),
            ("GET", "/_sandbox/follows"): lambda body, request: {
                "follows": buyer.followed(
                    self.store, request.query.get("app_key", ""), request.query.get("member_id")
                )
            },
            ("GET", "/_sandbox/push"): lambda body, request: push.hub_for(self.store).snapshot(
                request.host_url.split("//", 1)[-1].split(":")[0]
            ),
            ("POST", "/_sandbox/push"): self.set_push,
            ("GET", "/_sandbox/switches"): self.get_switches,
            ("POST", "/_sandbox/switches"): self.set_switches,
        }

    # --- handlers ------------------------------------------------------------------------
    def reset(self, body: dict, request: Request) -> dict:
        self.store.reset()
        push.reset(self.store)
        self.faults.clear()
        self.stats.reset()
        self.limiter.reset()
        self.switches.reset()
        return {"ok": True}

    def put_app(self, body: dict, request: Request) -> dict:
        rate = float(body.get("rate_per_sec", DEFAULT_RATE_PER_SEC))
        self.store.put_app(_required(body, "app_key"), _required(body, "app_secret"), rate)
        return {"ok": True}

    def add_seller(self, body: dict, request: Request) -> dict:
        member_id = _required(body, "member_id")
        login_id = body.get("login_id") or member_id.removeprefix("b2b-")
        self.store.ensure_seller(member_id, login_id, body.get("name") or login_id)
        seller = self.store.get_seller(member_id)
        return {"member_id": member_id, "login_id": login_id, "ali_id": seller["ali_id"]}

    def issue_tokens(self, body: dict, request: Request) -> dict:
        app_key, member_id = _required(body, "app_key"), _required(body, "member_id")
        if self.store.get_app(app_key) is None:
            raise ControlError(f"unknown app_key {app_key}", 404)
        seller = self._seller(member_id)
        access_life_s = int(body.get("expires_in", ACCESS_LIFE_S))
        refresh_life_s = int(body.get("refresh_expires_in", REFRESH_LIFE_S))
        issued = self.store.issue_tokens(
            app_key, member_id, access_life_s * 1000, refresh_life_s * 1000
        )
        return token_answer(seller, issued, access_life_s)

    def expire_token(self, body: dict, request: Request) -> dict:
        access_token, refresh_token = body.get("access_token"), body.get("refresh_token")
        if not access_token and not refresh_token:
            raise ControlError("give access_token or refresh_token")
        changed = self.store.expire_token(
            access_token=access_token or "", refresh_token=refresh_token or ""
        )
        if not changed:
            raise ControlError("unknown token", 404)
        return {"expired": changed}

    def seed(self, body: dict, request: Request) -> dict:
        member_id = _required(body, "member_id")
        count = int(body.get("count", 100))
        ids = seeding.seed_catalog(self.store, member_id, count, int(body.get("seed", 1)))
        answer: dict = {"created": len(ids)}
        if count <= SEED_IDS_LIMIT:
            answer["product_ids"] = ids
        return answer

    def mutate(self, body: dict, request: Request) -> dict:
        member_id = _required(body, "member_id")
        counts = None
        if "fraction" not in body:
            counts = seeding.MutationCounts(
                price=int(body.get("price", 0)),
                stock=int(body.get("stock", 0)),
                new=int(body.get("new", 0)),
                delist=int(body.get("delist", 0)),
            )
        seed = int(body.get("seed", 1))
        fraction = float(body.get("fraction", 0.0))
        quote_type = body.get("quote_type")
        return seeding.mutate_catalog(
            self.store,
            member_id,
            seed,
            counts,
            fraction,
            price_delta=body.get("price_delta"),
            quote_type=None if quote_type is None else int(quote_type),
        )

    def update_offer(self, body: dict, request: Request) -> dict:
        try:
            offer = seeding.update_offer(
                self.store,
                int(_required(body, "product_id")),
                sku_prices=body.get("sku_prices"),
                sku_stock=body.get("sku_stock"),
                status=body.get("status"),
                price_ranges=body.get("price_ranges"),
                tier_delta=body.get("tier_delta"),
                sku_price_ranges=body.get("sku_price_ranges"),
                amount_on_sale=body.get("amount_on_sale"),
            )
        except seeding.UnknownOffer as error:
            raise ControlError(str(error), 404) from error
        return {"productID": offer.product_id, "lastUpdateTime": format_1688(offer.last_update_ms)}

    def move_offer(self, body: dict, request: Request) -> dict:
        """A supplier's offer moves (prices, stock, sold out, listing); the messages 1688
        sends its followers are written at once, delivered by the push hub."""
        push_messages.ensure_schema(self.store)
        push_messages.detect(self.store)  # followers' last view, before the move
        try:
            offer = supplier_moves.move_offer(
                self.store,
                int(_required(body, "product_id")),
                price_factor=body.get("price_factor"),
                price_delta=body.get("price_delta"),
                price_ranges=body.get("price_ranges"),
                sku_prices=body.get("sku_prices"),
                stock=body.get("stock"),
                sku_stock=body.get("sku_stock"),
                sold_out=bool(body.get("sold_out")),
                listing=body.get("listing"),
            )
        except supplier_moves.UnknownOffer as error:
            raise ControlError(str(error), 404) from error
        except supplier_moves.MoveRefused as error:
            raise ControlError(str(error), 409) from error
        return {
            "productID": offer.product_id,
            "lastUpdateTime": format_1688(offer.last_update_ms),
            "messages": push_messages.detect(self.store),
            **supplier_moves.state(offer),
        }

    def list_offers(self, body: dict, request: Request) -> dict:
        publish.settle_audits(self.store)  # due audits show as decided here too
        member_id = request.query.get("member_id")
        cargo_number = request.query.get("cargo_number")
        limit = min(int(request.query.get("limit", OFFER_LISTING_LIMIT)), OFFER_LISTING_LIMIT)
        return {"offers": self.store.offer_summaries(member_id, cargo_number, limit)}

    def get_acl(self, body: dict, request: Request) -> dict:
        app_key = request.query.get("app_key") or ""
        return {"app_key": app_key, "declined": self.store.declined_apis(app_key)}

    def set_acl(self, body: dict, request: Request) -> dict:
        """{"app_key", "declined": ["alibaba.product.edit", ...]}: the APIs the app is refused
        with gw.APIACLDecline (an empty list grants them again)."""
        app_key = _required(body, "app_key")
        declined = body.get("declined") or []
        if not isinstance(declined, list) or not all(isinstance(a, str) for a in declined):
            raise ControlError("declined must be a list of API names")
        return {"app_key": app_key, "declined": self.store.decline_apis(app_key, declined)}

    def add_fault(self, body: dict, request: Request) -> dict:
        delay = body.get("delay")
        fault = self.faults.add(
            str(body.get("api") or "*"),
            _required(body, "kind"),
            int(body.get("times", 1)),
            None if delay is None else float(delay),
        )
        return {"queued": fault.as_dict(), "faults": self.faults.pending()}

    def clear_faults(self, body: dict, request: Request) -> dict:
        self.faults.clear()
        return {"faults": []}

    def reset_stats(self, body: dict, request: Request) -> dict:
        self.stats.reset()
        return self.stats.snapshot()

    def get_switches(self, body: dict, request: Request) -> dict:
        app_key = request.query.get("app_key")
        answer = self.switches.snapshot()
        if app_key:
            answer["effective"] = self.switches.for_app(app_key).as_dict()
        return answer

    def set_switches(self, body: dict, request: Request) -> dict:
        values = {key: value for key, value in body.items() if key != "app_key"}
        app_key = body.get("app_key") or None
        return {"effective": self.switches.set(values, app_key).as_dict(), "app_key": app_key}

    def set_push(self, body: dict, request: Request) -> dict:
        """{app_key, url, websocket, enabled, duplicate, reorder, drop_websockets}: message
        push delivery for an app (sandbox/server/push.py)."""
        hub = push.hub_for(self.store)
        dropped = hub.drop_websockets() if body.get("drop_websockets") else 0
        values = {k: v for k, v in body.items() if k not in ("app_key", "drop_websockets")}
        hub.configure(_required(body, "app_key"), values)
        host = request.host_url.split("//", 1)[-1].split(":")[0]
        return {**hub.snapshot(host), "dropped": dropped}

    def _seller(self, member_id: str):
        seller = self.store.get_seller(member_id)
        if seller is None:
            raise ControlError(f"unknown seller {member_id}", 404)
        return seller


def _required(body: dict, name: str) -> str:
    value = body.get(name)
    if value in (None, ""):
        raise ControlError(f"{name} is required")
    return str(value)
