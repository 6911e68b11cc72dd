"""Hostile input at every staff URL, fuzzed with hypothesis: random query parameters
on every page, random form data on every form, sent by a signed-in manager (who may do
everything, so the input reaches the forms and services) → never a server error.

The URLs come from the permission matrix's table (tests/staff/test_permission_matrix.py), which must
name every URL of the staff site. Import files (UTF-16, formulas, HTML/JS, bombs) are fuzzed in
tests/publishing/test_import_export.py and tests/fuzz/test_bad_input.py, 1688's answers in
tests/fuzz/test_hostile_answers.py.
"""

import pytest
from django.test import override_settings
from django.urls import NoReverseMatch, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import UserFactory
from tests.fuzz_profiles import examples
from tests.staff.test_permission_matrix import rows, world

# Writes queue their jobs on commit (django-rq), so requests run in committed transactions.
pytestmark = pytest.mark.django_db(transaction=True)

# Parameter names the pages read (filters, paging, choices), plus random ones.
KNOWN_PARAMS = [
    "page", "q", "shop", "status", "show", "sort", "order", "field", "source", "since",
    "until", "date_from", "date_to", "min_price", "max_price", "category", "keyword", "kind",
    "price_start", "price_end", "min_order", "image_url", "next", "per_page", "quote_type",
    "products", "select", "action", "batch", "items", "stock", "price", "title", "token",
    "offer_refs", "stock_mode", "percent", "add", "round_to", "code", "state", "error",
]  # fmt: skip
NASTY = [
    "",
    "-1",
    "0",
    "1e999",
    "NaN",
    "-inf",
    "99999999999999999999999999999",
    "9" * 400,
    "\x00",
    "a\x00b",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "%00",
    "\ud7ff\ue000\U0010ffff",
    "𠀋𡈽𡌛",
    "2026-13-45",
    "1999-01-01T25:61:00",
    "[]",
    "{}",
    "[1,2",
    "csv",
    "xlsx",
    " ",
    "\n\r\t",
]
values = st.one_of(
    st.sampled_from(NASTY),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=60),
)
names = st.one_of(st.sampled_from(KNOWN_PARAMS), st.text(min_size=1, max_size=12))
params = st.dictionaries(names, st.one_of(values, st.lists(values, max_size=3)), max_size=6)


def _text(value: str) -> str:
    # The test client encodes str; lone surrogates cannot travel in a URL or a form at all.
    return value.encode("utf-8", "replace").decode("utf-8")


def _clean(data: dict) -> dict:
    return {
        _text(k): [_text(v) for v in value] if isinstance(value, list) else _text(value)
        for k, value in data.items()
    }


@pytest.fixture
def site(client, redis_conn, sandbox):
    """A manager signed in, the objects the URLs name, and the rows: (GET urls, POST rows)."""
    client.force_login(UserFactory(username="fuzz", roles=["manager"]))
    table = list(rows(world()))
    gets = sorted({url for _n, method, url, _d, _p, _h in table if method == "get"})
    posts = [(url, data) for _n, method, url, data, _p, _h in table if method == "post"]
    return client, gets, posts


FUZZ = settings(
    max_examples=examples(200),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


@FUZZ
@given(data=st.data(), query=params)
def test_random_query_parameters_never_cause_a_server_error(site, scoreboard, data, query):
    client, gets, _posts = site
    url = data.draw(st.sampled_from(gets))
    response = client.get(url, _clean(query))
    scoreboard.hostile()
    assert response.status_code < 500, (url, query, response.status_code)


@FUZZ
@given(data=st.data(), extra=params)
def test_random_form_data_never_causes_a_server_error(site, scoreboard, data, extra):
    client, _gets, posts = site
    url, good = data.draw(st.sampled_from(posts))
    # Each known field of the form: kept, dropped or replaced by something hostile.
    form = {}
    for key, value in good.items():
        choice = data.draw(st.sampled_from(["keep", "drop", "hostile"]))
        if choice == "keep":
            form[key] = value
        elif choice == "hostile":
            form[key] = data.draw(values)
    form.update(_clean(extra))
    response = client.post(url, {k: v for k, v in form.items() if v is not None})
    scoreboard.hostile()
    assert response.status_code < 500, (url, form, response.status_code)


@FUZZ
@given(body=st.one_of(st.binary(max_size=400), params.map(str).map(str.encode)))
def test_random_push_messages_are_refused_cleanly(client, scoreboard, db, body):
    try:
        url = reverse("push_1688")
    except NoReverseMatch:
        pytest.skip("no push endpoint in this checkout")
    # Every example reaches the signature check: the per-address throttle of forged posts
    # (tests/fuzz/test_push_hostile.py) would answer most of them 429 unread.
    with override_settings(PUSH_FORGED_PER_MINUTE=10**9):
        for content_type in ("application/json", "application/x-www-form-urlencoded"):
            response = client.post(url, body, content_type=content_type)
            scoreboard.hostile()
            assert response.status_code < 500, (body, response.status_code)
