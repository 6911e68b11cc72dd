"""Batch upload (批量上货) against the sandbox gateway over real HTTP, with a real RQ worker on
real Redis. Outcomes are checked on the gateway side (its offers and its call counters)."""

import signal
import subprocess
import sys
from decimal import Decimal

import django_rq
import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from rq.job import Job

from catalog.common.offer_refs import parse_offer_refs
from catalog.models import Shop, UploadBatch, UploadItem
from catalog.publishing import services
from catalog.publishing.upload import lock_key
from catalog.shops.clients import call_as_shop, make_client
from erp1688.refusals import Refused
from tests.child_processes import ROOT, child_env, wait_for
from tests.conftest import run_worker
from tests.factories import ShopFactory, UploadBatchFactory, UploadItemFactory
from tests.sandbox.publishing_kit import legacy_offer, ready_seller_via_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def short_grace(settings):
    """Unknown outcomes are looked at 0.2 s after the send, twice, inside the run."""
    settings.UPLOAD_UNKNOWN_GRACE_SECONDS = 0.2
    settings.UPLOAD_RECONCILE_LOOKS = 2


def submit_batch(batch: UploadBatch) -> str:
    return services.submit_batch(user=None, batch=batch)


def retry_failed(batch: UploadBatch) -> str:
    return services.retry_failed(user=None, batch=batch)


def copy_offers(batch: UploadBatch, text: str):
    return services.copy_offers(user=None, batch=batch, offer_refs=text)


def refused_code(call, *args) -> str:
    with pytest.raises(Refused) as refused:
        call(*args)
    return refused.value.code


# Staged items carry their leaf's required attributes and its schema is cached (tests/factories.py),
# so the run publishes them by the schema-driven add (catalog/publishing/upload/publishing.py
# choose_api), after
# putting their pictures into the shop's photobank and reading its freight settings once.
ADD = "alibaba.new.product.add"
LIST = "alibaba.product.list.get"


@pytest.fixture
def instant_audit(sandbox):
    """New offers are decided at once (`published`) instead of `auditing` for 3 s, for tests
    that follow an item to published (docs/sandbox-control.md, "Publishing")."""
    sandbox.control("switches", {"audit_seconds": 0, "audit_reject_share": 0})
    yield
    sandbox.control("switches", {"audit_seconds": 3})


def make_batch(shop: Shop, count: int, **fields) -> UploadBatch:
    batch = UploadBatchFactory(shop=shop)
    UploadItemFactory.create_batch(count, batch=batch, **fields)
    return batch


def remote_offers(sandbox, shop: Shop, cargo_number: str | None = None) -> list[dict]:
    params = {"member_id": shop.member_id}
    if cargo_number:
        params["cargo_number"] = cargo_number
    return sandbox.get("offers", **params)["offers"]


def assert_one_offer_per_item(sandbox, batch: UploadBatch) -> None:
    offers = remote_offers(sandbox, batch.shop)
    by_cargo = {}
    for offer in offers:
        by_cargo.setdefault(offer["cargoNumber"], []).append(offer["productID"])
    for item in batch.items.filter(status=UploadItem.Status.PUBLISHED):
        assert by_cargo.get(item.cargo_number) == [item.remote_offer_id], item.cargo_number
    assert all(len(ids) == 1 for ids in by_cargo.values())


def offers_of_another_seller(sandbox, member_id: str, count: int) -> list[int]:
    """`count` T-shirts another seller published as 1688 accepts them (its photobank picture,
    freight template and address, the leaf's required attributes and a SKU; see
    tests/sandbox/publishing_kit.py); their product ids."""
    token = sandbox.new_seller(member_id, "源头工厂")["access_token"]
    with make_client() as client:
        seller = ready_seller_via_client(client, token)
        return [
            client.add_product(
                token,
                legacy_offer(
                    seller.photo,
                    seller.template,
                    seller.address,
                    cargo=f"SRC-{n}",
                    subject=f"2026新款纯棉短袖T恤女 源头 {n}",
                ),
            )
            for n in range(count)
        ]


@pytest.mark.usefixtures("instant_audit")
def test_valid_items_are_uploaded_in_chunks_and_invalid_ones_never_sent(sandbox, connected_shop):
    batch = make_batch(connected_shop, 120)
    items = list(batch.items.order_by("position"))
    broken = items[3::17][:7]  # spread over the three chunks of 50
    for n, item in enumerate(broken):
        if n % 2:
            item.title = ""
        else:
            item.price = None
        item.save()

    job_id = submit_batch(batch)
    batch.refresh_from_db()
    assert batch.status == UploadBatch.Status.SUBMITTED and batch.job_id == job_id
    run_worker("upload")

    batch.refresh_from_db()
    assert batch.status == UploadBatch.Status.DONE, batch.last_error
    assert (batch.items_total, batch.items_succeeded, batch.items_invalid) == (120, 113, 7)
    assert batch.finished_at is not None
    assert sandbox.calls()[ADD] == 113
    assert len(remote_offers(sandbox, connected_shop)) == 113
    assert_one_offer_per_item(sandbox, batch)
    for item in UploadItem.objects.filter(pk__in=[i.pk for i in broken]):
        assert item.status == UploadItem.Status.PENDING and item.attempts == 0
        assert set(item.validation_errors) & {"title", "price"}, item.validation_errors
        assert remote_offers(sandbox, connected_shop, item.cargo_number) == []
    sent = batch.items.get(pk=items[0].pk)
    assert sent.attempts == 1 and sent.remote_offer_id


@pytest.mark.usefixtures("instant_audit")
def test_retry_sends_only_the_failed_items(sandbox, connected_shop):
    batch = make_batch(connected_shop, 10)
    submit_batch(batch)
    # Rows the platform refuses although staging passed them (written past staging before the
    # worker runs): the schema-driven add rejects a title over 60 (a Chinese character counts 2).
    refused = list(batch.items.order_by("position").values_list("pk", flat=True)[2:5])
    UploadItem.objects.filter(pk__in=refused).update(title="长" * 31)
    run_worker("upload")

    batch.refresh_from_db()
    assert batch.status == UploadBatch.Status.PARTLY_FAILED
    assert (batch.items_succeeded, batch.items_failed) == (7, 3)
    for item in UploadItem.objects.filter(pk__in=refused):
        assert item.status == UploadItem.Status.FAILED
        assert item.remote_error_code == "TITLE_TOO_LONG"
        assert "60" in item.remote_error_message
    first_ids = dict(
        batch.items.filter(status=UploadItem.Status.PUBLISHED).values_list("pk", "remote_offer_id")
    )

    UploadItem.objects.filter(pk__in=refused).update(title="夏季韩版宽松纯棉短袖T恤女 修正")
    sandbox.reset_stats()
    retry_failed(batch)
    run_worker("upload")

    batch.refresh_from_db()
    assert batch.status == UploadBatch.Status.DONE
    # the 7 that succeeded were not sent again; the pictures are in the shop's photobank and its
    # freight settings known since the first run, so the retry is the three adds alone
    assert sandbox.calls() == {ADD: 3}
    assert (
        dict(batch.items.filter(pk__in=first_ids).values_list("pk", "remote_offer_id")) == first_ids
    )
    assert len(remote_offers(sandbox, connected_shop)) == 10
    assert_one_offer_per_item(sandbox, batch)


@pytest.mark.usefixtures("instant_audit")
def test_dropped_answer_is_reconciled_by_cargo_number_not_sent_twice(sandbox, connected_shop):
    batch = make_batch(connected_shop, 3)
    sandbox.fault(ADD, "drop_after_apply")  # the offer is created, the answer is lost
    submit_batch(batch)
    run_worker("upload")

    batch.refresh_from_db()
    assert batch.status == UploadBatch.Status.DONE
    assert sandbox.calls()[ADD] == 3 and sandbox.calls()[LIST] == 1
    first = batch.items.order_by("position").first()
    assert first.status == UploadItem.Status.PUBLISHED and first.attempts == 1
    assert_one_offer_per_item(sandbox, batch)


@pytest.mark.usefixtures("instant_audit")
def test_server_error_that_did_not_apply_is_sent_once_more_after_checking(sandbox, connected_shop):
    batch = make_batch(connected_shop, 2)
    sandbox.fault(ADD, "http500")  # nothing created, but the client cannot know that
    submit_batch(batch)
    run_worker("upload")

    batch.refresh_from_db()
    assert batch.status == UploadBatch.Status.DONE
    # sent again only after every look (UPLOAD_RECONCILE_LOOKS = 2) found nothing
    assert sandbox.calls()[ADD] == 3 and sandbox.calls()[LIST] == 2
    assert batch.items.order_by("position").first().attempts == 2
    assert_one_offer_per_item(sandbox, batch)


@pytest.mark.system
@pytest.mark.usefixtures("instant_audit")
def test_worker_killed_during_add_leaves_no_duplicate_after_rerun(
    sandbox, connected_shop, redis_conn
):
    batch = make_batch(connected_shop, 3)
    first = batch.items.order_by("position").first()
    sandbox.fault(ADD, "slow", delay=2.0)  # the sandbox creates the offer after 2 s
    child = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "upload_batch", str(batch.pk), "--inline"],
        cwd=ROOT,
        env={**child_env(sandbox), "OPEN1688_IMAGE_BASE": sandbox.url + "/"},  # its pictures
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # The sandbox counts a call on arrival, then sleeps before creating the offer.
        wait_for(
            lambda: sandbox.calls().get(ADD) or child.poll() is not None,
            30,
            "the child to send the add",
        )
        assert child.poll() is None, child.stderr.read().decode()
        child.send_signal(signal.SIGKILL)  # the worker dies while 1688 works on the add
    finally:
        child.kill()
        child.wait()
        child.stderr.close()
    wait_for(lambda: remote_offers(sandbox, connected_shop), 10, "the sandbox to apply the add")
    first.refresh_from_db()
    assert first.status == UploadItem.Status.UPLOADING and first.remote_offer_id is None
    wait_for(lambda: not redis_conn.exists(lock_key(batch.pk)), 5, "the dead run's lock")

    submit_batch(batch)
    run_worker("upload")

    batch.refresh_from_db()
    assert batch.status == UploadBatch.Status.DONE
    assert sandbox.calls()[ADD] == 3  # one by the killed run, two by the re-run
    first.refresh_from_db()
    assert first.status == UploadItem.Status.PUBLISHED
    assert (
        first.remote_offer_id
        == remote_offers(sandbox, connected_shop, first.cargo_number)[0]["productID"]
    )
    assert len(remote_offers(sandbox, connected_shop)) == 3
    assert_one_offer_per_item(sandbox, batch)


def test_quota_limit_keeps_items_pending_and_reschedules_the_job(sandbox, connected_shop, settings):
    settings.OPEN1688_MAX_RETRIES = 0  # the client gives up at once instead of backing off
    batch = make_batch(connected_shop, 3)
    sandbox.fault(ADD, "quota")
    first_job = submit_batch(batch)
    run_worker("upload")

    batch.refresh_from_db()
    assert batch.status == UploadBatch.Status.SUBMITTED
    assert "rate limit" in batch.last_error
    assert batch.items_pending == 3 and batch.items_failed == 0
    assert list(batch.items.values_list("attempts", flat=True)) == [0, 0, 0]
    assert remote_offers(sandbox, connected_shop) == []
    queue = django_rq.get_queue("upload")
    assert batch.job_id != first_job
    assert batch.job_id in queue.scheduled_job_registry.get_job_ids()
    assert refused_code(submit_batch, batch) == "batch.busy"

    # Time passes: the scheduler would move the job to the queue now.
    job = Job.fetch(batch.job_id, connection=queue.connection)
    queue.scheduled_job_registry.remove(job)
    queue.enqueue_job(job)
    run_worker("upload")

    batch.refresh_from_db()
    assert batch.status == UploadBatch.Status.DONE and batch.last_error == ""
    assert len(remote_offers(sandbox, connected_shop)) == 3


def test_expired_authorisation_stops_the_batch_with_items_pending(sandbox, connected_shop):
    batch = make_batch(connected_shop, 3)
    submit_batch(batch)
    sandbox.control("tokens/expire", {"access_token": connected_shop.access_token})
    sandbox.control("tokens/expire", {"refresh_token": connected_shop.refresh_token})
    run_worker("upload")

    batch.refresh_from_db()
    assert batch.status == UploadBatch.Status.PARTLY_FAILED
    assert "re-authorise" in batch.last_error
    assert batch.items_pending == 3 and batch.items_failed == 0
    assert list(batch.items.values_list("attempts", flat=True)) == [0, 0, 0]
    connected_shop.refresh_from_db()
    assert connected_shop.status == Shop.Status.NEEDS_REAUTH
    assert refused_code(submit_batch, batch) == "shop.not_connected"


def test_submit_refuses_running_batches_and_batches_without_valid_items(sandbox, connected_shop):
    batch = make_batch(connected_shop, 2, title="")
    assert refused_code(submit_batch, batch) == "batch.nothing_to_upload"
    batch.items.update(title="夏季新款T恤")
    submit_batch(batch)
    assert refused_code(submit_batch, batch) == "batch.busy"
    assert refused_code(retry_failed, batch) == "batch.busy"
    run_worker("upload")
    assert refused_code(retry_failed, batch) == "batch.nothing_to_retry"


def test_offer_references_are_parsed_deduplicated_and_unknown_tokens_reported():
    text = (
        "https://detail.1688.com/offer/653120459876.html?spm=a26352.13672862.0&sk=consign\n"
        "653120459876，https://m.1688.com/offer/653120459877.html "
        "detail.1688.com/offer/653120459878.html;"
        "https://detail.m.1688.com/page/index.html?offerId=653120459879\t"
        "hello https://example.com/offer/653120459880.html 12"
    )
    ids, unrecognised = parse_offer_refs(text)
    assert ids == [653120459876, 653120459877, 653120459878, 653120459879]
    assert unrecognised == ["hello", "https://example.com/offer/653120459880.html", "12"]


@pytest.mark.usefixtures("instant_audit")
def test_copy_offers_stages_valid_items_that_upload(sandbox, connected_shop):
    # Another seller's offers: read from the buyer side (product.get reads only one's own).
    a, b, c = offers_of_another_seller(sandbox, "b2b-2209000077", 3)
    batch = UploadBatchFactory(shop=connected_shop)
    text = (
        f"https://detail.1688.com/offer/{a}.html?spm=x\n{b}, https://m.1688.com/offer/{c}.html"
        f" {a} 999999999999 not-an-offer"
    )
    result = copy_offers(batch, text)

    assert [item.source_offer_id for item in result.created] == [a, b, c]
    assert result.unrecognised == ["not-an-offer"]
    assert [offer for offer, _message in result.errors] == ["999999999999"]
    assert "商品不存在或已删除" in result.errors[0][1]
    with make_client() as client:
        detail = call_as_shop(connected_shop, client, client.get_buyer_offer, a)
    detail = detail.as_product_detail()
    item = UploadItem.objects.get(batch=batch, source_offer_id=a)
    assert item.source == UploadItem.Source.COPY and item.validation_errors == {}
    assert (item.title, item.category_id, item.unit) == (
        detail.subject,
        detail.category_id,
        detail.unit,
    )
    if detail.quote_type == 1:  # priced per SKU: its "from" tier is not a tier to copy
        assert item.price_ranges == [] and item.price == min(s.price for s in detail.skus)
        assert [s["price"] for s in item.skus] == [str(s.price) for s in detail.skus]
    else:
        assert item.price_ranges == [
            {"start_quantity": r.start_quantity, "price": str(r.price.quantize(Decimal("0.01")))}
            for r in detail.price_ranges
        ]
    assert item.stock == detail.amount_on_sale and len(item.skus) == len(detail.skus)
    assert item.images == list(detail.images)  # absolute URLs in the buyer-side detail
    assert item.cargo_number and item.cargo_number != detail.cargo_number
    assert copy_offers(batch, str(a)).skipped == [a]  # already staged in this batch

    submit_batch(batch)
    run_worker("upload")
    batch.refresh_from_db()
    assert batch.status == UploadBatch.Status.DONE, batch.last_error
    # On 1688 under the item's own 货号 (the source's stays with the original offer): what the
    # run looks for after a lost answer.
    copied = remote_offers(sandbox, connected_shop, item.cargo_number)
    assert [offer["subject"] for offer in copied] == [detail.subject], remote_offers(
        sandbox, connected_shop
    )
    assert_one_offer_per_item(sandbox, batch)


def test_copy_offers_reports_a_shop_whose_authorisation_expired(sandbox, connected_shop):
    source = sandbox.control("seed", {"member_id": "b2b-2209000078", "count": 2, "seed": 6})
    sandbox.control("tokens/expire", {"access_token": connected_shop.access_token})
    sandbox.control("tokens/expire", {"refresh_token": connected_shop.refresh_token})
    batch = UploadBatchFactory(shop=connected_shop)
    with translation.override("en"):  # the reasons come in the active language
        result = copy_offers(batch, " ".join(str(i) for i in source["product_ids"]))
    assert result.created == []
    assert [offer for offer, _ in result.errors] == [str(i) for i in source["product_ids"]]
    assert all("re-authorise" in message for _, message in result.errors)


@pytest.mark.usefixtures("instant_audit")
def test_command_uploads_inline_with_progress(sandbox, connected_shop, settings, capsys):
    settings.UPLOAD_CHUNK_SIZE = 2
    batch = make_batch(connected_shop, 3)
    call_command("upload_batch", str(batch.pk), "--inline")
    out = capsys.readouterr().out
    assert "chunk 1/2: 2 succeeded" in out and "chunk 2/2: 3 succeeded" in out
    assert f"batch {batch.pk}: done" in out
    batch.refresh_from_db()
    assert batch.status == UploadBatch.Status.DONE
    assert len(remote_offers(sandbox, connected_shop)) == 3


def test_command_errors_are_clear(sandbox, connected_shop):
    with pytest.raises(CommandError, match="must be a number"):
        call_command("upload_batch", "abc")
    with pytest.raises(CommandError, match="No upload batch 987654"):
        call_command("upload_batch", "987654")
    with pytest.raises(CommandError, match="arguments are required"):
        call_command("upload_batch")
    offline = make_batch(ShopFactory(status=Shop.Status.NEEDS_REAUTH), 1)
    with pytest.raises(CommandError, match="shop.not_connected: "):
        call_command("upload_batch", str(offline.pk))
    batch = make_batch(connected_shop, 1)
    with pytest.raises(CommandError, match="batch.nothing_to_retry: "):
        call_command("upload_batch", str(batch.pk), "--retry-failed", "--inline")
    call_command("upload_batch", str(batch.pk))
    with pytest.raises(CommandError, match="batch.busy: "):
        call_command("upload_batch", str(batch.pk))
