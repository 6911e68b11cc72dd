"""Image search for many pictures at once, each optionally cropped to the object first.

Staff give several files and/or a list of picture addresses, each with an optional region
(x, y, width, height in pixels from the top left). Two steps, so a page of results can be
linked and returned to after a watch or a stage:
- `prepare_pictures`: a file is cropped (erp1688/pictures.py) and uploaded for image search;
  an address with a region is downloaded by the guarded fetch (erp1688/guarded_fetch.py:
  public addresses only, deadline, byte and pixel caps), cropped and uploaded; an address
  without a region is kept for 1688 to fetch (catalog/sourcing/services.py checks it). Each picture
  succeeds or fails on its own.
- `search_pictures`: catalog/sourcing/services.py's image search for each prepared picture, the
results
  grouped per picture.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from catalog.models import Shop
from catalog.sourcing import services as sourcing
from erp1688 import guarded_fetch, pictures
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import PermissionRefused, Refused, require
from open1688 import Open1688Client, SearchPage

PICTURES_MAX = 10  # pictures in one batch
_NUMBERS = re.compile(r"^\s*(\d{1,6})\s*[, ]\s*(\d{1,6})\s*[, ]\s*(\d{1,6})\s*[, ]\s*(\d{1,6})\s*$")


@dataclass(frozen=True)
class Region:
    x: int
    y: int
    width: int
    height: int

    @classmethod
    def parse(cls, text: str) -> Region | None:
        """ "x, y, w, h" (or separated by spaces); "" is no region. Refused
        `search.bad_region` for anything else."""
        if not text.strip():
            return None
        match = _NUMBERS.match(text)
        if not match or int(match.group(3)) < 1 or int(match.group(4)) < 1:
            raise Refused(
                RefusalCode.SEARCH_BAD_REGION,
                _(
                    "Write a region as x, y, width, height in pixels "
                    "(for example 10, 20, 200, 150)."
                ),
            )
        return cls(*(int(group) for group in match.groups()))

    def box(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.width, self.height)

    def __str__(self) -> str:
        return f"{self.x}, {self.y}, {self.width}, {self.height}"


@dataclass(frozen=True)
class Picture:
    """One picture to search with: a file's bytes or an address, and its region."""

    label: str
    data: bytes | None = None
    url: str = ""
    region: Region | None = None


@dataclass(frozen=True)
class Prepared:
    """Ready to search: an uploaded picture's imageId, or an address 1688 fetches."""

    label: str
    image_id: str = ""
    image_url: str = ""


@dataclass(frozen=True)
class Outcome:
    label: str
    prepared: Prepared | None = None
    results: SearchPage | None = None
    error: str = ""


def prepare_pictures(
    *,
    user,
    items: list[Picture],
    shop: Shop | None = None,
    client: Open1688Client | None = None,
) -> list[Outcome]:
    """Each picture cropped and uploaded (or its address kept), in order; a picture that
    cannot be used is an Outcome with its `error` sentence. Refused `search.too_many`."""
    require(user, sourcing.SEARCH_PERMISSION)
    if len(items) > PICTURES_MAX:
        raise Refused(
            RefusalCode.SEARCH_TOO_MANY,
            _("Search with at most %(max)d pictures at once."),
            params={"max": PICTURES_MAX},
        )
    outcomes = []
    for item in items:
        try:
            prepared = _prepare(user=user, item=item, shop=shop, client=client)
        except PermissionRefused:
            raise
        except Refused as refused:
            outcomes.append(Outcome(label=item.label, error=str(refused.message)))
        else:
            outcomes.append(Outcome(label=item.label, prepared=prepared))
    return outcomes


def _prepare(*, user, item: Picture, shop, client) -> Prepared:
    data = item.data
    if data is None:
        if item.region is None:
            return Prepared(label=item.label, image_url=item.url)
        # Cropping needs the picture here: this server fetches it, through the guard.
        data = guarded_fetch.fetch(item.url, max_bytes=sourcing.IMAGE_MAX_BYTES)
    if len(data) > sourcing.IMAGE_MAX_BYTES:
        sourcing.shrink_for_upload(data)  # refuses it, with the sentence staff know
    if item.region is not None:
        data = pictures.cropped_for_search(data, item.region.box())
    image_id = sourcing.upload_search_image(user=user, image=data, shop=shop, client=client)
    return Prepared(label=item.label, image_id=image_id)


def search_pictures(
    *,
    user,
    prepared: list[Prepared],
    page_size: int = 20,
    shop: Shop | None = None,
    client: Open1688Client | None = None,
) -> list[Outcome]:
    """The first page of image search for each prepared picture, grouped per picture; a
    search that fails is that picture's `error`, the others go on."""
    require(user, sourcing.SEARCH_PERMISSION)
    outcomes = []
    for item in prepared[:PICTURES_MAX]:
        try:
            found = sourcing.search_by_image(
                user=user,
                image_id=item.image_id,
                image_url=item.image_url,
                page_size=page_size,
                shop=shop,
                client=client,
            )
        except PermissionRefused:
            raise
        except Refused as refused:
            outcomes.append(Outcome(label=item.label, prepared=item, error=str(refused.message)))
        else:
            outcomes.append(Outcome(label=item.label, prepared=item, results=found))
    return outcomes
