"""Hostile answers to the publishing parsers, fuzzed with hypothesis (the strategies of
tests/fuzz/test_hostile_answers.py): a clean value or a typed Open1688Error, never another
exception."""

import contextlib
import dataclasses
import json
from functools import partial

import pytest
from hypothesis import given, settings

from open1688 import Open1688Error
from open1688 import answers as parsers
from tests.fuzz.test_hostile_answers import FUZZ, JSONISH, _assert_clean, shaped
from tests.fuzz_profiles import examples

FUZZ = settings(
    FUZZ, max_examples=examples(60)
)  # ten parsers: fewer examples each keeps the suite fast
ID_FIELDS = {
    "category_id", "attr_id", "item_id", "image_id", "album_id", "template_id", "address_id",
}  # fmt: skip
ATTRIBUTE = {
    "attrID": 287, "name": "材质", "required": "true", "inputType": "1", "isSKUAttribute": False,
    "attrValues": [{"attrValueID": 1, "name": "棉"}], "units": ["g"], "parentAttrID": 0,
}  # fmt: skip
TEMPLATES = {
    "categories": (
        parsers.parse_categories,
        {"categoryInfo": [{"categoryID": 7, "name": "女装", "isLeaf": False, "parentIDs": [0],
                           "childIDs": [71]}], "succes": "true"},
    ),
    "category_search": (
        parsers.parse_category_search,
        {"products": [{"categoryID": 71, "name": "T恤", "isLeaf": True}], "success": "true"},
    ),
    "attributes": (
        partial(parsers.parse_category_attributes, category_id=71),
        {"attributes": [ATTRIBUTE], "attributeLevelMapStr": '{"287:1":"8243"}'},
    ),
    "schema": (
        partial(parsers.parse_product_schema, category_id=71, scene="popular"),
        {"result": {"success": True, "bizData": '{"fields": []}'}},
    ),
    "new_product": (
        parsers.parse_new_product,
        {"result": {"success": True, "bizData": json.dumps({"dataJson": '{"itemId": 9}'})}},
    ),
    "preview": (parsers.parse_preview, {"success": True}),
    "albums": (parsers.parse_albums, {"albumInfos": [{"albumID": 3, "name": "默认相册"}]}),
    "photo": (parsers.parse_photo, {"image": {"id": 5, "albumID": 3, "url": "img/ibank/a.jpg"}}),
    "freight": (parsers.parse_freight_templates, {"result": [{"id": 1, "name": "包邮"}]}),
    "addresses": (
        parsers.parse_send_goods_addresses,
        {"result": [{"id": 2, "addressName": "仓", "fullAddress": "义乌"}]},
    ),
}  # fmt: skip


def _check_ids(value) -> None:
    if dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            inner = getattr(value, field.name)
            optional = field.name == "album_id" and inner is None  # a photo may omit it
            if field.name in ID_FIELDS and not optional:
                assert type(inner) is int, f"{field.name} is {inner!r}"
            if field.name != "raw":
                _check_ids(inner)
    elif isinstance(value, tuple):
        for inner in value:
            _check_ids(inner)


def _clean_or_typed(parser, answer) -> None:
    with contextlib.suppress(Open1688Error):
        value = parser(answer)
        _assert_clean(value)
        _check_ids(value)


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_templates_parse(name):
    parser, template = TEMPLATES[name]
    assert parser(json.loads(json.dumps(template))) is not None


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_hostile_shaped_publishing_answers(name):
    parser, template = TEMPLATES[name]

    @FUZZ
    @given(shaped(template))
    def run(answer):
        _clean_or_typed(parser, answer)

    run()


@pytest.mark.parametrize("name", list(TEMPLATES))
@FUZZ
@given(answer=JSONISH)
def test_random_publishing_answers(name, answer):
    _clean_or_typed(TEMPLATES[name][0], answer)
