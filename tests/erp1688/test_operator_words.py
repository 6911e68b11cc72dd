"""Failures shown to staff are sentences saying what happened and what to do: no exception text,
no API name, no internal code; the detail is behind a "details" toggle for superusers only."""

import pytest
from django.urls import reverse

from catalog.common.operator_words import problem_words
from catalog.models import UploadItem
from open1688 import BusinessError, ConnectionFailed
from tests.factories import UploadBatchFactory, UploadItemFactory, UserFactory

pytestmark = pytest.mark.django_db

RAW = (
    "alibaba.product.add: HTTPSConnectionPool(host='gw.open.1688.com', port=443): Max retries "
    'exceeded (Caused by NameResolutionError("<urllib3.connection.HTTPSConnection object at '
    "0x7f>: Failed to resolve 'gw.open.1688.com'\"))"
)
FORBIDDEN = ["HTTPSConnectionPool", "NameResolutionError", "new.product.add", "product.add"]


def page(client, url: str, language: str) -> str:
    client.cookies["django_language"] = language
    return client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()


def failed_items(batch):
    UploadItemFactory(
        batch=batch,
        status=UploadItem.Status.FAILED,
        publish_api="schema",
        remote_error_code="photobank",
        remote_error_message=RAW,
    )
    UploadItemFactory(
        batch=batch,
        status=UploadItem.Status.UNKNOWN,
        publish_api="legacy",
        remote_error_code="ConnectionFailed",
        remote_error_message=RAW,
    )
    UploadItemFactory(
        batch=batch,
        status=UploadItem.Status.FAILED,
        publish_api="schema",
        remote_error_code="FIELD_REQUIRED",
        remote_error_message="缺少必填项「商品主图」(primaryPicture)",
    )


@pytest.mark.parametrize(
    ("language", "sentences"),
    [
        ("zh-hans", ["无法放入店铺的 1688 图片空间", "1688 没有明确答复", "1688 拒绝了这个商品"]),
        ("en", ["could not be put into the shop's 1688 photobank", "did not answer clearly",
                "1688 refused the item"]),
    ],
)  # fmt: skip
def test_upload_results_read_as_sentences_for_staff(client, language, sentences):
    batch = UploadBatchFactory()
    failed_items(batch)
    client.force_login(UserFactory(roles=["operator"]))
    html = page(client, reverse("catalog:batch_detail", args=[batch.pk]), language)
    for sentence in sentences:
        assert sentence.replace("'", "&#x27;") in html, sentence
    for word in [*FORBIDDEN, "photobank</", ">FIELD_REQUIRED", '<details class="technical"']:
        assert word not in html, word


def test_superusers_see_the_detail_behind_a_toggle(client):
    batch = UploadBatchFactory()
    failed_items(batch)
    client.force_login(UserFactory(is_superuser=True))
    html = page(client, reverse("catalog:batch_detail", args=[batch.pk]), "zh-hans")
    assert html.count('<details class="technical">') == 3
    assert "FIELD_REQUIRED" in html and "HTTPSConnectionPool" in html


def test_a_preflight_that_cannot_reach_1688_says_so_in_words(
    connected_shop, client, settings, language="zh-hans"
):
    settings.OPEN1688_GATEWAY = "https://gw.no-such-host.invalid"
    settings.OPEN1688_MAX_RETRIES = 0
    batch = UploadBatchFactory(shop=connected_shop)
    UploadItemFactory(batch=batch)
    client.force_login(UserFactory(roles=["manager"]))
    client.cookies["django_language"] = language
    answer = client.post(reverse("catalog:batch_preflight", args=[batch.pk]), follow=True)
    html = answer.content.decode()
    assert answer.status_code == 200
    assert "1688 无法连接或没有正常答复" in html
    for word in [*FORBIDDEN, "NameResolution", "ConnectionFailed", "no-such-host"]:
        assert word not in html, word


def test_problem_words_never_carry_the_exception_text():
    with_pool = problem_words(ConnectionFailed(RAW, api="alibaba.product.add"))
    assert "HTTPSConnectionPool" not in with_pool and "1688" in with_pool
    refusal = problem_words(BusinessError("标题含违禁词", code="TITLE_INVALID"))
    assert "标题含违禁词" in refusal and "TITLE_INVALID" not in refusal
    technical = problem_words(BusinessError("java.lang.NullPointerException at x", code="E"))
    assert "java.lang" not in technical
