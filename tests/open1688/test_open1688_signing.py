import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from open1688 import sign

PATH = "param2/1/system/currentTime/1000000"


def hmac_hex(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha1).hexdigest().upper()


def test_official_vector_from_the_platform_signing_doc():
    assert hmac_hex("test123", PATH + "a1b2") == "33E54F4F7B989E3E0E912D3FBD2F1A03CA7CCE88"
    assert sign(PATH, {"b": 2, "a": 1}, "test123") == "33E54F4F7B989E3E0E912D3FBD2F1A03CA7CCE88"


def test_joined_strings_are_sorted_not_keys_when_a_key_prefixes_another():
    path = "param2/1/com.alibaba.product/alibaba.product.get/1000000"
    params = {"a": "z", "ab": "1"}
    # by key: "a" < "ab" gives "az" + "ab1"; the SDKs sort the joined strings: "ab1" < "az".
    assert sign(path, params, "s3cret") == hmac_hex("s3cret", path + "ab1az")
    assert sign(path, params, "s3cret") != hmac_hex("s3cret", path + "azab1")


def test_signature_and_file_bytes_are_not_signed():
    signed = sign(PATH, {"a": 1, "b": 2}, "test123")
    with_extras = {"a": 1, "b": 2, "_aop_signature": "OLD", "image": b"\x89PNG"}
    assert sign(PATH, with_extras, "test123") == signed


def test_values_are_signed_raw_not_url_encoded():
    params = {"subject": "女装 T恤&", "offerQueryParam": '{"keyword":"杯子"}'}
    pieces = sorted(["subject女装 T恤&", 'offerQueryParam{"keyword":"杯子"}'])
    assert sign(PATH, params, "k") == hmac_hex("k", PATH + "".join(pieces))


def test_order_follows_java_utf16_units_beyond_the_basic_plane():
    # Java orders U+1F600 (surrogates D83D DE00) before U+FF01; code-point order is the reverse.
    params = {"k": "\U0001f600", "k\uff01": ""}
    assert sign(PATH, params, "k") == hmac_hex("k", PATH + "k\U0001f600k\uff01")


@given(
    st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=8), max_size=8),
    st.randoms(use_true_random=False),
)
def test_signature_does_not_depend_on_parameter_order(params, random):
    items = list(params.items())
    random.shuffle(items)
    assert sign(PATH, dict(items), "secret") == sign(PATH, params, "secret")
