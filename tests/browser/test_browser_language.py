"""Language in a real browser: the staff pages in Chinese show no English label and in
English no Chinese one (the page's rendered text, product data aside), with a screenshot of each
page in each language; the django-rq pages load without a JavaScript error and their
select-all box works.

Screenshots: data/screenshots/language-<language>-<page>.png (or $ERP_SCREENSHOTS).
"""

import os
import re
from pathlib import Path

import django_rq
import pytest
from django.urls import reverse

from tests.browser.steps import READ_TEXT
from tests.erp1688.test_language import (
    CJK,
    english_words,
    product_data,
    raise_alerts,
    sample_world,
    without_data,
)
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(
    os.environ.get("ERP_SCREENSHOTS")
    or Path(__file__).resolve().parents[2] / "data" / "screenshots"
)
PASSWORD = "correct horse battery"


def log_in(context, live_server, username):
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/admin/login/?next=/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return page


def slug(url: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", url.lower()).strip("-") or "home"


def test_staff_pages_speak_the_readers_language(browser, live_server, redis_conn, settings):
    settings.OPEN1688_IMAGE_BASE = live_server.url + "/static/"  # no request leaves the machine
    objects = sample_world()
    raise_alerts(UserFactory(username="boss", is_superuser=True))
    data = product_data()
    urls = [
        reverse("home"),
        reverse("catalog:product_list"),
        reverse("catalog:product_detail", args=[objects["product"].pk]),
        reverse("catalog:change_list"),
        reverse("catalog:batch_list"),
        reverse("catalog:batch_detail", args=[objects["batch"].pk]),
        reverse("catalog:item_edit", args=[objects["batch"].pk, objects["item"].pk]),
        reverse("catalog:batch_import", args=[objects["batch"].pk]),
        reverse("catalog:shop_list"),
        reverse("catalog:shop_detail", args=[objects["shop"].pk]),
        reverse("catalog:alert_rules"),
        reverse("catalog:alert_inbox"),
        reverse("catalog:live_list"),
        reverse("admin:index"),
        reverse("admin:catalog_product_changelist"),
        reverse("admin:catalog_product_change", args=[objects["product"].pk]),
        reverse("admin:catalog_syncrun_changelist"),
        reverse("admin:catalog_uploadbatch_changelist"),
    ]
    SHOTS.mkdir(parents=True, exist_ok=True)
    mixed = {}
    for language, browser_locale in (("zh-hans", "zh-CN"), ("en", "en-US")):
        context = browser.new_context(
            locale=browser_locale, viewport={"width": 1400, "height": 900}
        )
        context.add_cookies(
            [{"name": "django_language", "value": language, "url": live_server.url}]
        )
        page = log_in(context, live_server, "boss")
        for url in urls:
            page.goto(live_server.url + url)
            page.wait_for_load_state("load")
            assert page.evaluate("document.documentElement.lang").lower().startswith(language[:2])
            page.screenshot(
                path=str(SHOTS / f"language-{language}-{slug(url)}.png"), full_page=True
            )
            text = without_data(page.evaluate(READ_TEXT), data)
            if language == "en":
                found = sorted(set(CJK.findall(text)))
            else:
                found = english_words(text)
                assert CJK.search(text), url
            if found:
                mixed[(language, url)] = found
        context.close()
    assert mixed == {}


def test_rq_pages_run_without_javascript_errors(browser, live_server, redis_conn):
    """django-rq's list pages called `$(...).actions()`, a jQuery plugin Django's admin no longer
    has: every page threw, and the select-all box did nothing."""
    UserFactory(username="root", is_superuser=True)
    queue = django_rq.get_queue("default")
    job = queue.enqueue("builtins.print", "queued for the test")  # no worker: it stays listed
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = log_in(context, live_server, "root")
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    index = list(django_rq.settings.QUEUES).index("default")
    names = ["jobs", "finished_jobs", "failed_jobs", "scheduled_jobs", "started_jobs",
             "deferred_jobs", "workers"]  # fmt: skip
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(live_server.url + reverse("django_rq:home"))
    page.wait_for_load_state("load")
    for name in names:
        page.goto(live_server.url + reverse(f"django_rq:{name}", args=[index]))
        page.wait_for_load_state("load")
        page.screenshot(path=str(SHOTS / f"rq-{name}.png"), full_page=True)
    assert errors == []

    page.goto(live_server.url + reverse("django_rq:jobs", args=[index]))
    row = page.locator(f"input.action-select[value='{job.id}']")
    assert not row.is_checked()
    page.click("#action-toggle")  # admin's actions.js is set up: select-all selects the row
    assert row.is_checked()
    assert errors == []
    job.delete()
    context.close()
