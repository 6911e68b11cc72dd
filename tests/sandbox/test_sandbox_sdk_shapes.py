"""Requests shaped as Alibaba's official generated Python SDK sends them are accepted: no
access token where the SDK's `need_auth()` is False (alibaba.category.get), no signature where
its `need_sign()` is False (alibaba.photobank.photo.add); the sandbox stays strict everywhere
else (docs/protocol.md, "Sandbox fidelity")."""

import requests
from publishing_kit import T_SHIRT, ok, picture
from sandbox_client import APP_KEY, PRODUCT


def unsigned(gateway, name: str, params: dict, *, files=None) -> requests.Response:
    """A call as the SDK sends an API it marks need_sign False: no _aop_signature at all."""
    url = f"{gateway.base_url}/openapi/param2/1/{PRODUCT}/{name}/{APP_KEY}"
    return requests.post(url, data=params, files=files, timeout=10)


def test_category_get_without_a_token_is_answered(gateway):
    body = ok(gateway.call("alibaba.category.get", {"categoryID": T_SHIRT}))
    (info,) = body["categoryInfo"]
    assert info["categoryID"] == T_SHIRT and info["isLeaf"] is True


def test_an_unsigned_photo_add_is_accepted_and_a_wrong_signature_still_refused(gateway):
    token = gateway.token()
    album = ok(gateway.call("alibaba.photobank.album.getList", token=token))["albumInfos"][0]
    fields = {"albumID": str(album["albumID"]), "name": "主图", "access_token": token}
    files = {"imageBytes": ("p.jpg", picture(), "image/jpeg")}
    body = ok(unsigned(gateway, "alibaba.photobank.photo.add", fields, files=files))
    assert body["image"]["url"].startswith("img/ibank/")
    forged = unsigned(
        gateway,
        "alibaba.photobank.photo.add",
        {**fields, "_aop_signature": "0" * 40},
        files={"imageBytes": ("p.jpg", picture(), "image/jpeg")},
    )
    assert forged.status_code == 400 and forged.json()["error_code"] == "gw.SignatureInvalid"
    no_token = unsigned(
        gateway,
        "alibaba.photobank.photo.add",
        {k: v for k, v in fields.items() if k != "access_token"},
        files={"imageBytes": ("p.jpg", picture(), "image/jpeg")},
    )
    assert no_token.status_code == 401


def test_other_apis_still_need_a_signature_and_a_token(gateway):
    token = gateway.token()
    answer = unsigned(gateway, "alibaba.product.get", {"productID": "1", "access_token": token})
    assert answer.status_code == 400 and answer.json()["error_code"] == "gw.ParamMissing"
    answer = gateway.call("alibaba.photobank.album.getList")
    assert answer.status_code == 401
