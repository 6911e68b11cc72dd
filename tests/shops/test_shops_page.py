"""The staff shops page: connection, token expiry countdown, next scheduled sync, the
last run's failure in plain words (classified auth / quota / data / platform / worker, with what
to do), "sync now", "authorise again", and the APIs 1688 refused this app."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from catalog.alerts.failures import explain, run_error_kind
from catalog.models import Shop, SyncRun
from sync.jobs import enqueue_sync
from tests.conftest import run_worker
from tests.factories import ShopFactory, SyncRunFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def page(client, url) -> str:
    answer = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 200
    return answer.content.decode()


@pytest.fixture
def manager_client(client):
    client.force_login(UserFactory(username="boss", roles=["manager"]))
    client.cookies["django_language"] = "en"
    return client


def test_expiry_next_sync_and_a_failed_run_in_plain_words(sandbox, connected_shop, manager_client):
    sandbox.control("seed", {"member_id": connected_shop.member_id, "count": 3, "seed": 1})
    sandbox.fault("alibaba.product.list.get", "quota", times=20)
    run = enqueue_sync(connected_shop)
    run_worker("sync")
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert run.error_kind == SyncRun.ErrorKind.QUOTA
    Shop.objects.filter(pk=connected_shop.pk).update(
        refresh_token_expires_at=timezone.now() + timedelta(days=3, hours=5),
        declined_apis=[{"api": "alibaba.product.delete", "at": "", "message": "acl"}],
    )
    html = page(manager_client, reverse("catalog:shop_detail", args=[connected_shop.pk]))
    assert "in 3 d 5 h" in html or "in 3 d 4 h" in html  # the countdown
    assert "The 1688 call quota or this ERP&#x27;s rate limit was used up." in html
    assert "the next scheduled sync continues" in html  # what to do
    assert "alibaba.product.delete" in html  # the API not granted
    assert f'action="/catalog/shops/{connected_shop.pk}/sync/"' in html
    assert reverse("sync:connect") in html  # authorise again
    # next sync: the interval after the last run
    assert "Next sync" in html and "within a minute" not in html.split("Next sync")[1][:300]

    sandbox.control("faults", method="DELETE")
    manager_client.post(reverse("catalog:shop_sync", args=[connected_shop.pk]))
    run_worker("sync")
    latest = SyncRun.objects.filter(shop=connected_shop).order_by("-id").first()
    assert latest.status == SyncRun.Status.SUCCEEDED
    html = page(manager_client, reverse("catalog:shop_list"))
    assert "3 offers seen" in html
    assert "What to do" not in html


@pytest.mark.parametrize(
    ("error", "kind", "words"),
    [
        ("AuthError: 401 Request need user authorized", "auth", "Authorise the shop again"),
        ("RefreshTokenExpiredError: refresh token rejected", "auth", "Authorise the shop again"),
        ("QuotaError: App call exceeds limited frequency", "quota", "larger quota"),
        ("MalformedResponseError: not JSON", "data", "full resync"),
        ("ServerError: gw.ISPInvokeError", "platform", "retries on its own"),
        ("RequestTimeout: read timed out", "platform", "retries on its own"),
        ("The worker running this sync stopped before it finished", "worker", "worker process"),
        ("RuntimeError: the window kept changing", "other", "administrator"),
    ],
)
def test_stored_errors_are_classified_for_old_runs_too(error, kind, words, db):
    run = SyncRunFactory(status="failed", error=error)
    assert run_error_kind(run) == kind
    with translation.override("en"):
        problem = explain(run)
        assert words in str(problem["todo"]) or words in str(problem["what"])


def test_a_needs_reauth_shop_and_a_disabled_schedule(manager_client):
    shop = ShopFactory(
        name="过期店", status=Shop.Status.NEEDS_REAUTH, status_reason="refresh token rejected"
    )
    quiet = ShopFactory(name="停用定时店", sync_enabled=False)
    html = page(manager_client, reverse("catalog:shop_list"))
    card = html.split(f'data-shop="{shop.pk}"')[1].split("</section>")[0]
    assert "Needs re-authorisation" in card and "not synced until it is authorised again" in card
    assert "Sync now" not in card  # no sync button for a shop that cannot sync
    card = html.split(f'data-shop="{quiet.pk}"')[1].split("</section>")[0]
    assert "scheduled sync is off" in card


def test_viewers_see_no_buttons_and_bad_input_is_no_500(client):
    shop = ShopFactory()
    client.force_login(UserFactory(username="v", roles=["viewer"]))
    html = page(client, reverse("catalog:shop_list"))
    assert "Sync now" not in html and reverse("sync:connect") not in html
    assert client.post(reverse("catalog:shop_sync", args=[shop.pk])).status_code == 403
    assert client.get(reverse("catalog:shop_detail", args=[999999])).status_code == 404
    assert client.get(reverse("catalog:shop_sync", args=[shop.pk])).status_code == 405
    client.force_login(UserFactory(username="nobody", is_staff=True))
    assert client.get(reverse("catalog:shop_list")).status_code == 403


def test_first_sync_is_labelled_so_and_offers_seen_counts_each_offer_once(sandbox, connected_shop):
    """Two defects once found: "offers seen" double-counted (588 for 300 offers) when a pass was
    repeated, and the first sync of a shop was labelled incremental."""
    from sync.catalog_sync import start_run, sync_shop

    seeded = sandbox.control("seed", {"member_id": connected_shop.member_id, "count": 45})
    ids = sorted(seeded["product_ids"])

    def modify_an_offer_after_page_one(run):
        if run.pages == 1:  # it leaves the window: the pass is repeated
            sandbox.control("offers/update", {"product_id": ids[0], "status": "published"})

    run = start_run(connected_shop)
    sync_shop(run, progress=modify_an_offer_after_page_one)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED and run.pages > 3  # two passes
    assert run.offers_seen == 45 and run.offers_total in (44, 45)
    assert run.kind == SyncRun.Kind.FIRST
    with translation.override("en"):
        assert run.get_kind_display() == "First sync"
    nxt = start_run(connected_shop)
    sync_shop(nxt)
    assert nxt.kind == SyncRun.Kind.INCREMENTAL
