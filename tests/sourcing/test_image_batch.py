"""Image search with several pictures at once against the sandbox over HTTP: files and
addresses, a region cropped on this server before the search (the object, not its
background), results grouped per picture, a bad picture failing alone, watch and stage."""

import io
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.urls import reverse
from PIL import Image

from catalog.models import UploadItem, WatchedOffer
from catalog.shops.clients import make_client
from catalog.sourcing import image_batch
from erp1688 import pictures
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused
from tests.factories import UploadBatchFactory

SUPPLIER = "b2b-2209500088"
URL = "catalog:sourcing_images"


@pytest.fixture
def offers(sandbox, connected_shop):
    """(offer id, its main picture's address, the picture) of three published offers."""
    sandbox.new_seller(SUPPLIER, "东莞玩具厂")
    sandbox.control("seed", {"member_id": SUPPLIER, "count": 40, "seed": 5})
    listed = sandbox.get("offers", member_id=SUPPLIER, limit=100)["offers"]
    ids = [o["productID"] for o in listed if o["status"] == "published"][:3]
    found = []
    with make_client() as client:
        for offer_id in ids:
            address = client.get_buyer_offer(connected_shop.access_token, offer_id).images[0]
            found.append((offer_id, address, requests.get(address, timeout=10).content))
    return found


def _upload(data: bytes, name: str) -> io.BytesIO:
    upload = io.BytesIO(data)
    upload.name = name
    return upload


def _on_a_busy_background(picture: bytes) -> tuple[bytes, str]:
    """The picture pasted into a larger noisy scene; returns the scene and its region."""
    inner = Image.open(io.BytesIO(picture)).convert("RGB")
    scene = Image.effect_noise((inner.width * 3, inner.height * 2), 90).convert("RGB")
    x, y = inner.width + 7, inner.height // 2
    scene.paste(inner, (x, y))
    out = io.BytesIO()
    scene.save(out, format="PNG")
    return out.getvalue(), f"{x}, {y}, {inner.width}, {inner.height}"


def test_files_and_addresses_are_searched_each_and_grouped_with_the_crop(
    staff_client, offers, sandbox
):
    (first, _a1, picture1), (second, _a2, picture2), (third, address3, _p3) = offers
    scene, region = _on_a_busy_background(picture1)
    answer = staff_client.post(
        reverse(URL),
        {
            "images": [_upload(scene, "scene.png"), _upload(picture2, "plain.jpg")],
            "regions": f"{region}\n",
            "urls": address3,
        },
    )
    assert answer.status_code == 302
    assert parse_qs(urlsplit(answer["Location"]).query)["n"] == [
        "scene.png",
        "plain.jpg",
        address3,
    ]
    page = staff_client.get(answer["Location"])
    groups = page.context["groups"]
    assert [g.label for g in groups] == ["scene.png", "plain.jpg", address3]
    assert [g.results.items[0].offer_id for g in groups] == [first, second, third]
    assert page.content.decode().count('class="picture-group"') == 3


def test_an_address_with_a_region_is_fetched_by_the_guard_and_cropped(
    staff_client, offers, connected_shop
):
    offer_id, address, picture = offers[0]
    width, height = Image.open(io.BytesIO(picture)).size
    region = image_batch.Region.parse(f"0 0 {width} {height}")
    prepared = image_batch.prepare_pictures(
        user=None, items=[image_batch.Picture(label="a", url=address, region=region)]
    )
    assert prepared[0].prepared.image_id and not prepared[0].error
    found = image_batch.search_pictures(user=None, prepared=[prepared[0].prepared])
    assert found[0].results.items[0].offer_id == offer_id


def test_a_bad_picture_fails_alone_with_a_sentence(staff_client, offers, sandbox):
    offer_id, address, picture = offers[0]
    answer = staff_client.post(
        reverse(URL),
        {
            "images": [_upload(b"not a picture", "broken.jpg"), _upload(picture, "ok.jpg")],
            "urls": "http://10.1.2.3/secret.jpg 0, 0, 10, 10\n" + address + " 0, 0, 99999, 5",
        },
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    text = answer.content.decode()
    assert "broken.jpg: The file is not a picture that can be read." in text
    assert "http://10.1.2.3/secret.jpg:" in text  # the guard refused it: never fetched
    assert "The region to search is not inside the picture" in text
    groups = answer.context["groups"]
    assert [g.label for g in groups] == ["ok.jpg"]
    assert groups[0].results.items[0].offer_id == offer_id


def test_a_region_is_four_numbers_and_lies_inside_the_picture(offers):
    assert image_batch.Region.parse("") is None
    assert image_batch.Region.parse(" 1,2 , 3 4").box() == (1, 2, 3, 4)
    for text in ("1,2,3", "a,b,c,d", "1,2,0,4", "-1,2,3,4"):
        with pytest.raises(Refused) as refused:
            image_batch.Region.parse(text)
        assert refused.value.code == RefusalCode.SEARCH_BAD_REGION
    picture = offers[0][2]
    width, height = Image.open(io.BytesIO(picture)).size
    cropped = pictures.cropped_for_search(picture, (1, 2, width // 2, height // 3))
    assert Image.open(io.BytesIO(cropped)).size == (width // 2, height // 3)
    with pytest.raises(Refused) as refused:
        pictures.cropped_for_search(picture, (width - 1, 0, 2, 1))
    assert refused.value.code == RefusalCode.IMAGE_BAD_REGION


def test_too_many_pictures_are_refused(staff_client, offers):
    items = [image_batch.Picture(label=str(n), url=offers[0][1]) for n in range(11)]
    with pytest.raises(Refused) as refused:
        image_batch.prepare_pictures(user=None, items=items)
    assert refused.value.code == RefusalCode.SEARCH_TOO_MANY


def test_watch_and_stage_from_the_grouped_results(staff_client, offers, connected_shop):
    _offer, _address, picture = offers[1]
    answer = staff_client.post(reverse(URL), {"images": [_upload(picture, "p.jpg")]})
    page = staff_client.get(answer["Location"])
    target = page.context["groups"][0].results.items[0].offer_id
    here = page.context["here"]
    assert f'value="{target}"' in page.content.decode()
    watched = staff_client.post(reverse("catalog:watch_add"), {"offer_id": target, "next": here})
    assert watched["Location"] == here and WatchedOffer.objects.get().offer_id == target
    batch = UploadBatchFactory(shop=connected_shop)
    staged = staff_client.post(
        reverse("catalog:sourcing_stage"), {"offer_id": target, "batch": batch.pk, "next": here}
    )
    assert staged["Location"] == here and UploadItem.objects.filter(batch=batch).count() == 1


def test_the_page_speaks_chinese(staff_client, offers):
    answer = staff_client.post(
        reverse(URL),
        {"urls": offers[0][1] + " 1, 2, 3"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
        follow=True,
    )
    text = answer.content.decode()
    assert "用多张图片搜索 1688" in text and "像素" in text
