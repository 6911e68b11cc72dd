"""python -m sandbox serve | seed | mutate (see docs/sandbox-control.md)."""

import argparse
import itertools
import json
import sys
import threading
import time

from . import DEMO_MEMBER_ID
from .apis.switches import NESTINGS, TOTAL_KEYS, Switches
from .server.control import DEFAULT_RATE_PER_SEC
from .server.httpd import make_server
from .world.seeding import mutate_catalog, seed_catalog
from .world.store import Store

DEFAULT_DB = "data/sandbox.sqlite3"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the gateway")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8688, help="0 picks a free port")
    serve.add_argument("--db", default=DEFAULT_DB)
    serve.add_argument("--app-key", default="8688001")
    serve.add_argument("--app-secret", default="sandbox-secret")
    serve.add_argument("--rate", type=float, default=DEFAULT_RATE_PER_SEC, help="calls/s per app")
    serve.add_argument("--verbose", action="store_true", help="log every request to stderr")
    serve.add_argument(
        "--churn",
        type=float,
        default=0,
        metavar="SECONDS",
        help="for the demo: every SECONDS change 1%% of the demo seller's offers (0: never)",
    )

    serve.add_argument(
        "--push-ws-port",
        type=int,
        default=0,
        metavar="PORT",
        help="serve message push over WebSocket on PORT for --app-key (0: off; server/push.py)",
    )

    shapes = serve.add_argument_group("answer shapes (docs/sandbox-control.md, switches)")
    shapes.add_argument(
        "--list-nesting", choices=NESTINGS, default=NESTINGS[0], help="where the list page sits"
    )
    shapes.add_argument("--list-total", choices=TOTAL_KEYS, default=TOTAL_KEYS[0])
    shapes.add_argument(
        "--list-skus",
        action="store_true",
        help="list items carry skuInfos, saleInfo and productCargoNumber",
    )
    shapes.add_argument(
        "--no-strict-ownership",
        dest="strict_ownership",
        action="store_false",
        help="alibaba.product.get also answers for other sellers' offers",
    )
    shapes.add_argument(
        "--deny-api",
        dest="denied_apis",
        action="append",
        default=[],
        metavar="NAME",
        help="an API the app was not granted (gw.APIACLDecline); repeatable",
    )
    shapes.add_argument(
        "--lenient-publish",
        dest="strict_publish",
        action="store_false",
        help="alibaba.product.add publishes anything at once, unchecked (default: checked like "
        "1688: leaf, attributes, photobank, freight)",
    )
    shapes.add_argument(
        "--audit-seconds",
        type=float,
        default=Switches.audit_seconds,
        help="new offers stay 'auditing' this long (0: decided at once)",
    )

    seed = commands.add_parser("seed", help="create offers for a seller")
    seed.add_argument("--db", default=DEFAULT_DB)
    seed.add_argument("--seller", default=DEMO_MEMBER_ID, help="member id")
    seed.add_argument("--count", type=int, default=1000)
    seed.add_argument("--seed", type=int, default=1)

    mutate = commands.add_parser("mutate", help="change prices/stock/status of some offers")
    mutate.add_argument("--db", default=DEFAULT_DB)
    mutate.add_argument("--seller", default=DEMO_MEMBER_ID, help="member id")
    mutate.add_argument("--fraction", type=float, default=0.05)
    mutate.add_argument("--seed", type=int, default=2)
    mutate.add_argument("--price-delta", help="move prices by this many yuan, e.g. -8")
    mutate.add_argument("--quote-type", type=int, choices=(0, 1, 2), help="only such offers")
    return parser


def serve(args: argparse.Namespace) -> None:
    server = make_server(
        args.host,
        args.port,
        args.db,
        app_key=args.app_key,
        app_secret=args.app_secret,
        rate_per_sec=args.rate,
        verbose=args.verbose,
        switches=Switches(
            list_nesting=args.list_nesting,
            list_total=args.list_total,
            list_skus=args.list_skus,
            strict_ownership=args.strict_ownership,
            denied_apis=tuple(args.denied_apis),
            strict_publish=args.strict_publish,
            audit_seconds=args.audit_seconds,
        ),
    )
    host, port = server.server_address[:2]
    print(f"SANDBOX_LISTENING http://{host}:{port}", flush=True)
    if args.churn > 0:
        threading.Thread(target=_churn, args=(server.store, args.churn), daemon=True).start()
    if args.push_ws_port:
        from .server import push

        push.hub_for(server.store).configure(
            args.app_key, {"websocket": True}, ws_port=args.push_ws_port
        )
        print(f"SANDBOX_PUSH ws://{host}:{args.push_ws_port}/websocket", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _churn(store: Store, every: float) -> None:
    """Keep the demo alive: prices and stock of the demo seller move now and then."""
    for round_no in itertools.count(1):
        time.sleep(every)
        report = mutate_catalog(store, DEMO_MEMBER_ID, round_no, None, 0.01)
        counts = {kind: len(ids) for kind, ids in report.items()}
        print(f"churn {round_no}: {json.dumps(counts)}", flush=True)


def seed(args: argparse.Namespace) -> None:
    store = Store(args.db)
    started = time.perf_counter()
    created = seed_catalog(store, args.seller, args.count, args.seed)
    seconds = round(time.perf_counter() - started, 2)
    print(json.dumps({"seller": args.seller, "created": len(created), "seconds": seconds}))
    store.close()


def mutate(args: argparse.Namespace) -> None:
    store = Store(args.db)
    report = mutate_catalog(
        store,
        args.seller,
        args.seed,
        None,
        args.fraction,
        price_delta=args.price_delta,
        quote_type=args.quote_type,
    )
    print(json.dumps(report))
    store.close()


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    {"serve": serve, "seed": seed, "mutate": mutate}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
