"""Hostile 1688 answers, fuzzed with hypothesis: every parser of
open1688/answers/, and the client's whole answer path over real HTTP, either return a clean
value or raise a typed Open1688Error (MalformedResponseError, BusinessError, ...), never another
exception, and within a bounded time."""

import contextlib
import dataclasses
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from open1688 import Open1688Client, Open1688Error
from open1688 import answers as parsers
from tests.fuzz_profiles import examples
from tests.open1688.scripted_gateway import APP_KEY, APP_SECRET, Answer, ScriptedGateway

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
SOURCE = "".join(path.read_text() for path in sorted(Path(parsers.__file__).parent.glob("*.py")))
# Every key the parsers read, so random objects reach their deeper paths.
KEYS = sorted(set(re.findall(r'"([A-Za-z_]{2,})"', SOURCE)))

NUMBER_TEXT = st.sampled_from(
    ["1e999999999", "-0", "0x10", "１２", "1_000", "9" * 30, "NaN", "Infinity", " 7 ", "", "-"]
)
TIME_TEXT = st.one_of(
    st.from_regex(r"\A[0-9]{14}([0-9]{3})?[+-][0-9]{4}\Z"),
    st.sampled_from(["00010101000000000+0800", "99991231235959999-1200", "2026-12-01 04:00:00"]),
)
# Only what json.loads(body, parse_float=Decimal) can produce: finite Decimals for numbers with
# a fraction or exponent, float NaN/Infinity for those bare words, ints below 4,300 digits.
LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.integers(min_value=-(10**4000), max_value=10**4000),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.sampled_from([Decimal("1E+999999999"), Decimal("-1E-999999999"), Decimal("-0.0")]),
    st.sampled_from([float("nan"), float("inf"), float("-inf")]),
    st.text(max_size=20),
    st.text(alphabet="\x00\ud7ff\ufeff\u202e<>&'\"", max_size=8),
    NUMBER_TEXT,
    TIME_TEXT,
)
JSONISH = st.recursive(
    LEAF,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), children, max_size=6),
    ),
    max_leaves=30,
)


def shaped(template):
    """Answers of the right shape, any part of which may be hostile or missing."""
    if isinstance(template, dict):
        fields = {key: shaped(value) for key, value in template.items()}
        exact = st.fixed_dictionaries({}, optional=fields)
        return st.one_of(exact, JSONISH)
    if isinstance(template, list):
        return st.one_of(st.lists(shaped(template[0]), max_size=3), JSONISH)
    return st.one_of(st.just(template), LEAF)


SKU = {
    "skuId": 1,
    "specId": "s",
    "price": "9.90",
    "retailPrice": "12",
    "amountOnSale": 5,
    "cargoNumber": "C-1",
    "attributes": [{"attributeID": 1, "attributeValue": "红"}],
    "priceRange": [{"startQuantity": 2, "price": "8.8"}],
}
INFO = {
    "productID": 620000000001,
    "subject": "夏季T恤",
    "categoryID": 1031910,
    "status": "published",
    "cargoNumber": "C-1",
    "image": {"images": ["img/ibank/1.jpg"]},
    "saleInfo": {
        "unit": "件",
        "minOrderQuantity": 2,
        "amountOnSale": 10,
        "quoteType": 1,
        "priceRanges": [{"startQuantity": 1, "price": "10.00"}],
    },
    "attributes": [{"attributeID": 1}],
    "skuInfos": [SKU],
    "createTime": "20261123103000000+0800",
    "lastUpdateTime": "20261123103000000+0800",
}
PAGE = {"totalRecords": 1, "pageIndex": 1, "sizePerPage": 20, "resultList": [INFO]}
TEMPLATES = {
    parsers.parse_product_list: {"result": {"success": True, "pageResult": PAGE}},
    parsers.parse_product_detail: {
        "productInfo": INFO,
        "createTime": "20261123103000000+0800",
        "lastUpdateTime": "20261124103000000+0800",
    },
    parsers.parse_search_page: {
        "result": {
            "success": "true",
            "result": {
                "totalRecords": 1,
                "totalPage": 1,
                "pageSize": 20,
                "currentPage": 1,
                "data": [
                    {
                        "offerId": 1,
                        "subject": "x",
                        "imageUrl": "https://cbu01.alicdn.com/1.jpg",
                        "priceInfo": {"price": "1.5"},
                        "monthSold": 3,
                        "createDate": "2026-12-01 04:00:00",
                    }
                ],
            },
        }
    },
    parsers.parse_added_product_id: {"productID": 620000000001},
    parsers.check_product_answer: {"success": True},
    parsers.parse_image_id: {"result": {"success": True, "result": "img-1"}},
    parsers.parse_token: {
        "access_token": "a" * 36,
        "refresh_token": "r" * 36,
        "expires_in": "36000",
        "refresh_token_timeout": "20270601000000000+0800",
        "memberId": "b2b-1",
        "aliId": "1",
        "resource_owner": "shop",
    },
    parsers.parse_postponed_token: {
        "refresh_token": "r" * 36,
        "refresh_token_timeout": "20270601000000000+0800",
    },
}


def _parse(parser, answer):
    if parser in (parsers.parse_token, parsers.parse_postponed_token):
        return parser(answer, NOW)
    return parser(answer)


INTEGER_FIELDS = {"product_id", "sku_id", "offer_id", "total_records", "start_quantity"}
INT64 = range(-(2**63), 2**63)


def _assert_clean(value, at="answer") -> None:
    """A parsed value holds what its type says: ids are ints, prices finite Decimals."""
    if dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            if field.name == "raw":
                continue
            inner = getattr(value, field.name)
            if field.name in INTEGER_FIELDS:
                assert type(inner) is int, f"{at}.{field.name} is {inner!r}"
            if type(inner) is int:
                assert inner in INT64, f"{at}.{field.name} does not fit a bigint column"
            if isinstance(inner, Decimal | float):
                assert isinstance(inner, Decimal) and inner.is_finite(), f"{at}.{field.name}"
            _assert_clean(inner, f"{at}.{field.name}")
    elif isinstance(value, tuple):
        for index, inner in enumerate(value):
            _assert_clean(inner, f"{at}[{index}]")


def _clean_or_typed(parser, answer) -> None:
    with contextlib.suppress(Open1688Error):  # a typed, readable refusal is fine
        _assert_clean(_parse(parser, answer))


FUZZ = settings(
    max_examples=examples(150),
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("parser", list(TEMPLATES), ids=lambda p: p.__name__)
def test_template_answers_parse(parser):
    """The templates themselves are valid, so the fuzz below starts from real shapes."""
    assert _parse(parser, json.loads(json.dumps(TEMPLATES[parser]))) is not None or (
        parser is parsers.check_product_answer
    )


@pytest.mark.fuzz
@pytest.mark.parametrize("parser", list(TEMPLATES), ids=lambda p: p.__name__)
def test_hostile_shaped_answers_give_a_value_or_a_typed_error(parser):
    @FUZZ
    @given(shaped(TEMPLATES[parser]))
    def run(answer):
        _clean_or_typed(parser, answer)

    run()


@pytest.mark.parametrize("parser", list(TEMPLATES), ids=lambda p: p.__name__)
@FUZZ
@given(answer=JSONISH)
def test_random_answers_give_a_value_or_a_typed_error(parser, answer):
    _clean_or_typed(parser, answer)


# -- the whole answer path: bytes over HTTP → client → parser ---------------------------------


@pytest.fixture(scope="module")
def gateway():
    scripted = ScriptedGateway()
    yield scripted
    scripted.close()


@pytest.fixture(scope="module")
def client(gateway):
    with Open1688Client(
        app_key=APP_KEY, app_secret=APP_SECRET, gateway=gateway.url, max_retries=0
    ) as client:
        yield client


def _list_over_http(gateway, client, body: bytes) -> None:
    gateway.script(Answer(body=body))
    with contextlib.suppress(Open1688Error):
        client.list_products("token-" + "x" * 30)


@settings(max_examples=examples(100), deadline=3000, suppress_health_check=list(HealthCheck))
@given(
    body=st.one_of(
        st.binary(max_size=200),
        shaped(TEMPLATES[parsers.parse_product_list]).map(
            lambda a: json.dumps(a, default=str, ensure_ascii=False).encode()
        ),
    )
)
def test_hostile_bytes_over_http_give_a_value_or_a_typed_error(gateway, client, body):
    _list_over_http(gateway, client, body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"result": {"success": true, "pageResult": {"totalRecords": 1e99999999999}}}',
        b'{"result": {"pageResult": {"totalRecords": ' + b"9" * 5000 + b"}}}",
        b'{"result": {"pageResult": {"totalRecords": NaN, "resultList": [Infinity]}}}',
        b'{"error_code": {"a": [1]}, "error_message": ["x"]}',
        b'{"result": {"pageResult": {"totalRecords": 1, "resultList": [{"productID": 1, '
        b'"subject": "\\u0000\\ud800"}]}}}',
        '{"result": {"pageResult": {"totalRecords": 1}}}'.encode("utf-16"),
    ],
    ids=[
        "huge-exponent",
        "5000-digits",
        "nan-infinity",
        "odd-error",
        "nul-lone-surrogate",
        "utf16",
    ],
)
def test_known_hostile_bodies(gateway, client, body):
    _list_over_http(gateway, client, body)


@pytest.mark.parametrize("depth", [50, 900, 5000, 100_000])
@pytest.mark.parametrize("leaf", [b"", b'"\\u0000"'], ids=["empty", "nul"])
def test_deeply_nested_answers_are_a_typed_error(gateway, client, depth, leaf):
    """A body nested deeper than Python's recursion limit is refused as malformed."""
    subject = b"[" * depth + leaf + b"]" * depth
    body = (
        b'{"result": {"pageResult": {"totalRecords": 1, "resultList": [{"productID": 1, '
        b'"subject": ' + subject + b"}]}}}"
    )
    _list_over_http(gateway, client, body)


@pytest.mark.parametrize(
    "token_answer",
    [
        {"access_token": "a", "expires_in": ""},
        {"access_token": "a", "expires_in": 10**13},  # a valid timedelta, past year 9999
        {"access_token": "a", "expires_in": 1, "refresh_token_timeout": "00010101000000000+0800"},
        {"access_token": "a", "expires_in": 1, "refresh_token_timeout": "99991231235959999-1200"},
    ],
)
def test_token_answers_out_of_range_are_malformed(token_answer):
    from open1688 import MalformedResponseError

    with pytest.raises(MalformedResponseError):
        parsers.parse_token(token_answer, NOW)


@pytest.mark.parametrize("stock", [2**63, -(2**63) - 1, "9223372036854775808", Decimal("1E+19")])
def test_integers_past_64_bits_are_malformed(stock):
    """A stock of 10**19 used to reach the database and fail the sync with OverflowError."""
    from open1688 import MalformedResponseError

    answer = {"productInfo": {"productID": 1, "saleInfo": {"amountOnSale": stock}}}
    with pytest.raises(MalformedResponseError, match="saleInfo.amountOnSale is out of the 64-bit"):
        parsers.parse_product_detail(answer)
    answer["productInfo"]["saleInfo"]["amountOnSale"] = 2**63 - 1
    assert parsers.parse_product_detail(answer).amount_on_sale == 2**63 - 1
