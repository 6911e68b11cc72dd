"""Staff accounts: the staff login page (throttled by django-axes like the admin's), OAuth
answers that land on the staff shop pages, and the users page where a manager adds staff, gives
a role, deactivates and resets passwords; accounts made there log in to the staff pages at once.
"""

from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from catalog.models import Shop
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
GOOD = "Tall-ladder-5521"


def login(client, username, password, ip="203.0.113.20", next_url="/"):
    data = {"username": username, "password": password, "next": next_url}
    return client.post(reverse("login"), data, REMOTE_ADDR=ip)


def english() -> Client:
    client = Client()
    client.cookies["django_language"] = "en"
    return client


# -- the staff login page ----------------------------------------------------------------------


def test_a_staff_page_sends_a_visitor_to_the_staff_login_page_not_the_admins(client):
    answer = client.get(reverse("catalog:product_list"))
    assert answer.status_code == 302
    assert answer["Location"].startswith(reverse("login") + "?next=")
    page = client.get(answer["Location"]).content.decode()
    assert "erp1688.css" in page and "登录" in page  # the site's layout, Chinese by default
    assert 'name="csrfmiddlewaretoken"' in page
    assert client.get(reverse("admin:index"))["Location"].startswith(reverse("admin:login"))


def test_staff_log_in_and_out_on_the_staff_pages():
    user = UserFactory(username="ops", roles=["operator"])
    user.set_password(GOOD)
    user.save()
    client = english()
    answer = login(client, "ops", GOOD, next_url=reverse("catalog:batch_list"))
    assert answer.status_code == 302 and answer["Location"] == reverse("catalog:batch_list")
    assert client.get(reverse("catalog:batch_list")).status_code == 200
    assert client.get(reverse("login"))["Location"] == reverse("home")  # already signed in
    answer = client.post(reverse("logout"))
    assert answer["Location"] == reverse("login")


def test_a_wrong_password_and_a_non_staff_account_are_refused_in_words():
    account = User.objects.create_user("outsider", password=GOOD)  # not staff
    client = english()
    page = login(client, "outsider", GOOD).content.decode()
    assert "staff account" in page and "_auth_user_id" not in client.session
    page = login(client, "nobody", "x").content.decode()
    assert "Please enter the correct username and password" in page
    assert account.pk


def test_five_wrong_passwords_lock_the_staff_login_too():
    account = UserFactory(username="guess2", roles=["viewer"])
    account.set_password(GOOD)
    account.save()
    client = Client()
    for _ in range(4):
        assert login(client, "guess2", "wrong").status_code == 200
    assert login(client, "guess2", "wrong").status_code == 429
    locked = login(client, "guess2", GOOD)
    assert locked.status_code == 429 and "_auth_user_id" not in client.session
    page = locked.content.decode()
    assert "登录失败次数过多" in page and f'href="{reverse("login")}"' in page
    assert login(Client(), "guess2", GOOD, ip="198.51.100.9").status_code == 302


# -- OAuth lands on the staff shop pages -------------------------------------------------------


def _authorise(sandbox, state, member_id):
    import requests
    from django.conf import settings

    query = {
        "client_id": settings.OPEN1688_APP_KEY,
        "site": "1688",
        "redirect_uri": "http://testserver" + reverse("sync:oauth_callback"),
        "state": state,
    }
    answer = requests.post(
        f"{sandbox.url}/oauth/authorize",
        params=query,
        data={"member_id": member_id},
        allow_redirects=False,
        timeout=10,
    )
    return parse_qs(urlparse(answer.headers["Location"]).query)["code"][0]


def _connect(client, sandbox, member_id, **form):
    answer = client.post(reverse("sync:connect"), form)
    state = parse_qs(urlparse(answer["Location"]).query)["state"][0]
    code = _authorise(sandbox, state, member_id)
    return client.get(reverse("sync:oauth_callback"), {"state": state, "code": code})


def test_connecting_from_the_shops_page_returns_to_the_staff_shop_page(sandbox, staff_client):
    sandbox.new_seller("b2b-2209700001", "员工页授权店")
    answer = _connect(staff_client, sandbox, "b2b-2209700001")
    shop = Shop.objects.get(member_id="b2b-2209700001")
    assert answer["Location"] == reverse("catalog:shop_detail", args=[shop.pk])
    assert "已连接" in staff_client.get(answer["Location"]).content.decode()


def test_connecting_from_the_admin_returns_to_the_admin_shop_form(sandbox, admin_client):
    sandbox.new_seller("b2b-2209700002", "后台授权店")
    answer = _connect(admin_client, sandbox, "b2b-2209700002", **{"from": "admin"})
    shop = Shop.objects.get(member_id="b2b-2209700002")
    assert answer["Location"] == reverse("admin:catalog_shop_change", args=[shop.pk])


def test_a_refused_answer_returns_to_the_staff_shops_list(sandbox, staff_client):
    staff_client.post(reverse("sync:connect"))
    answer = staff_client.get(reverse("sync:oauth_callback"), {"state": "forged", "code": "x"})
    assert answer["Location"] == reverse("catalog:shop_list")
    assert Shop.objects.count() == 0


# -- the users page ----------------------------------------------------------------------------


@pytest.fixture
def manager(client):
    boss = UserFactory(username="boss", roles=["manager"])
    client.force_login(boss)
    client.cookies["django_language"] = "en"
    return client


def test_the_users_page_lists_roles_translated(client):
    UserFactory(username="ann", roles=["operator"])
    UserFactory(username="bob", roles=["viewer"], is_active=False)
    client.force_login(UserFactory(username="boss", roles=["manager"]))
    page = client.get(reverse("catalog:user_list")).content.decode()
    assert "运营" in page and "只读" in page and "主管" in page
    assert ">operator<" not in page and ">viewer<" not in page
    client.cookies["django_language"] = "en"
    page = client.get(reverse("catalog:user_list")).content.decode()
    assert "Operator" in page and "Viewer" in page and "Deactivated" in page


def test_a_manager_adds_a_user_who_logs_in_to_the_staff_pages_at_once(manager):
    form = {"username": "newop", "password1": GOOD, "password2": GOOD, "role": "operator"}
    answer = manager.post(reverse("catalog:user_add"), form)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    account = User.objects.get(username="newop")
    assert account.is_staff and account.is_active and not account.is_superuser
    assert [g.name for g in account.groups.all()] == ["operator"]
    client = english()
    assert login(client, "newop", GOOD, next_url=reverse("catalog:batch_list")).status_code == 302
    assert client.get(reverse("catalog:batch_list")).status_code == 200


def test_adding_a_user_runs_the_password_validators_and_the_csrf_check(manager):
    form = {"username": "weak", "password1": "123", "password2": "123", "role": "viewer"}
    page = manager.post(reverse("catalog:user_add"), form).content.decode()
    assert "This password is too short" in page and not User.objects.filter(username="weak")
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(User.objects.get(username="boss"))
    form.update(password1=GOOD, password2=GOOD)
    assert checked.post(reverse("catalog:user_add"), form).status_code == 403
    assert not User.objects.filter(username="weak")


def test_a_manager_changes_a_role_deactivates_and_resets_a_password(manager):
    ann = UserFactory(username="ann", roles=["viewer"])
    url = reverse("catalog:user_edit", args=[ann.pk])
    assert manager.post(url, {"role": "operator", "is_active": ""}).status_code == 302
    ann.refresh_from_db()
    assert [g.name for g in ann.groups.all()] == ["operator"] and not ann.is_active
    assert login(english(), "ann", "correct horse battery").status_code == 200  # inactive
    manager.post(url, {"role": "operator", "is_active": "on"})
    url = reverse("catalog:user_password", args=[ann.pk])
    page = manager.post(url, {"new_password1": "abc", "new_password2": "abc"}).content.decode()
    assert "too short" in page
    answer = manager.post(url, {"new_password1": GOOD, "new_password2": GOOD})
    assert answer.status_code == 302
    assert login(english(), "ann", GOOD).status_code == 302


def test_a_manager_cannot_touch_a_superuser_or_deactivate_themself(manager):
    root = User.objects.create_superuser("root", "r@example.com", GOOD)
    assert manager.get(reverse("catalog:user_edit", args=[root.pk])).status_code == 403
    url = reverse("catalog:user_password", args=[root.pk])
    assert (
        manager.post(
            url, {"new_password1": "Xx-991234a", "new_password2": "Xx-991234a"}
        ).status_code
        == 403
    )
    boss = User.objects.get(username="boss")
    page = manager.post(reverse("catalog:user_edit", args=[boss.pk]), {"role": "manager"})
    assert "cannot deactivate your own account" in page.content.decode()
    boss.refresh_from_db()
    assert boss.is_active


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_other_roles_get_the_refusal_page(client, role):
    client.force_login(UserFactory(username=f"u-{role}", roles=[role]))
    for name in ["catalog:user_list", "catalog:user_add"]:
        answer = client.get(reverse(name))
        assert (
            answer.status_code == 403 and 'data-code="permission_denied"' in answer.content.decode()
        )
    assert 'href="/catalog/users/"' not in client.get("/").content.decode()


def test_the_admin_shows_roles_translated_and_keeps_the_english_keys(admin_client):
    from django.contrib.auth.models import Group

    UserFactory(username="ann", roles=["operator"])
    page = admin_client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert "运营" in page and "角色" in page
    ann = User.objects.get(username="ann")
    page = admin_client.get(reverse("admin:auth_user_change", args=[ann.pk])).content.decode()
    assert ">运营<" in page and ">operator<" not in page
    assert sorted(Group.objects.values_list("name", flat=True)) == ["manager", "operator", "viewer"]
