"""A local imitation of the 1688 Open Platform gateway (dev, demo, tests and benchmarks only).

Standalone on purpose: stdlib + the ``sandbox`` extra (Pillow, imagehash, websockets), no
Django, and no code shared with the client in ``open1688`` so that a protocol bug cannot hide
by being wrong on both sides. Four rooms, each importing only those below it: ``server`` (HTTP,
gateway checks, faults, control API, push delivery), ``apis`` (one module per 1688 API family),
``world`` (store, categories, generated offers and pictures), ``wire`` (requests, responses,
error table, time stamps). See docs/sandbox-control.md for the layout, the CLI and the control
API.
"""

DEMO_MEMBER_ID = "b2b-demo001"
DEMO_LOGIN_ID = "demo-shop"
DEMO_SELLER_NAME = "义乌小商品示范店"
