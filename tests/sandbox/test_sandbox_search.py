"""Buyer search: keyword search over all sellers, image upload, image search, pictures."""

import base64
import json

import requests
from sandbox_client import CROSSBORDER, DEMO_SELLER

from sandbox.world import images


def search(gateway, name: str, query: dict, token: str) -> dict:
    if name == "product.search.keywordQuery":
        query = {"country": "en", **query}  # required (docs/protocol.md)
    params = {"offerQueryParam": json.dumps(query, ensure_ascii=False)}
    answer = gateway.call(name, params, namespace=CROSSBORDER, token=token)
    assert answer.status_code == 200, answer.text
    body = answer.json()["result"]
    assert body["success"] == "true", body
    return body["result"]


def seed_two_sellers(gateway) -> None:
    gateway.control("POST", "/_sandbox/seed", member_id=DEMO_SELLER, count=60, seed=1)
    gateway.control("POST", "/_sandbox/seed", member_id="b2b-2200000003", count=60, seed=2)


def test_keyword_search_matches_subjects_of_all_sellers(gateway):
    seed_two_sellers(gateway)
    result = search(
        gateway, "product.search.keywordQuery", {"keyword": "新款", "pageSize": 50}, gateway.token()
    )
    assert result["totalRecords"] > 0
    assert result["pageSize"] == 50 and result["currentPage"] == 1
    offer = result["data"][0]
    assert "新款" in offer["subject"]
    assert offer["imageUrl"].startswith(gateway.base_url + "/img/ibank/")
    assert len(offer["createDate"]) == len("2026-11-23 10:30:00")
    assert offer["priceInfo"]["price"] > 0


def test_keyword_search_filters_by_price_and_sorts(gateway):
    seed_two_sellers(gateway)
    query = {"keyword": "新款", "priceStart": "10", "priceEnd": "30", "sort": {"price": "asc"}}
    data = search(gateway, "product.search.keywordQuery", query, gateway.token())["data"]
    prices = [offer["priceInfo"]["price"] for offer in data]
    assert prices == sorted(prices)


def test_generated_picture_hashes_to_its_path_pattern(gateway):
    path = "img/ibank/2026/123/456/3971714299_420783022.jpg"
    answer = requests.get(f"{gateway.base_url}/{path}", timeout=5)
    assert answer.headers["Content-Type"] == "image/jpeg"
    assert images.average_hash(answer.content) == images.pattern_for_path(path)
    again = requests.get(f"{gateway.base_url}/{path}", timeout=5)
    assert again.content == answer.content


def test_image_search_finds_the_offer_whose_picture_was_uploaded(gateway):
    seed_two_sellers(gateway)
    token = gateway.token()
    offer = search(gateway, "product.search.keywordQuery", {"keyword": "新款"}, token)["data"][3]
    picture = requests.get(offer["imageUrl"], timeout=5).content
    upload = gateway.call(
        "product.image.upload",
        {"uploadImageParam": json.dumps({"imageBase64": base64.b64encode(picture).decode()})},
        namespace=CROSSBORDER,
        token=token,
    ).json()["result"]
    assert upload["success"] == "true"
    image_id = upload["result"]
    found = search(
        gateway, "product.search.imageQuery", {"imageId": image_id, "pageSize": 80}, token
    )
    assert found["pageSize"] == 50
    assert found["data"][0]["offerId"] == offer["offerId"]
    by_address = search(
        gateway, "product.search.imageQuery", {"imageAddress": offer["imageUrl"]}, token
    )
    assert by_address["data"][0]["offerId"] == offer["offerId"]


def test_image_upload_refuses_the_old_parameter_name(gateway):
    picture, _ = images.render("img/ibank/2026/001/001/11_22.jpg")
    answer = gateway.call(
        "product.image.upload",
        {"uploadParams": json.dumps({"imageBase64": base64.b64encode(picture).decode()})},
        namespace=CROSSBORDER,
        token=gateway.token(),
    )
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "gw.ParamMissing"
    assert "uploadImageParam" in answer.json()["error_message"]


def test_bad_image_is_a_business_error(gateway):
    answer = gateway.call(
        "product.image.upload",
        {
            "uploadImageParam": json.dumps(
                {"imageBase64": base64.b64encode(b"not a picture").decode()}
            )
        },
        namespace=CROSSBORDER,
        token=gateway.token(),
    )
    assert answer.status_code == 200
    assert answer.json()["result"]["success"] == "false"
