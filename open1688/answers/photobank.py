"""Answers of the photobank APIs: albums and an uploaded picture."""

from __future__ import annotations

from ..types import Album, PhotobankImage
from .reader import Reader, raise_category_error, result_list


def parse_albums(answer: object) -> tuple[Album, ...]:
    """alibaba.photobank.album.getList: `albumInfos` [{albumID, name, imageCount}]."""
    return tuple(
        Album(
            album_id=item.integer("albumID", required=True)
            if "albumID" in item.raw
            else item.integer("id", required=True),
            name=item.text("name"),
            image_count=item.integer("imageCount"),
            raw=item.raw,
        )
        for item in result_list(Reader(answer), "albumInfos", "albums", "result")
    )


def parse_photo(answer: object) -> PhotobankImage:
    """alibaba.photobank.photo.add: `image` {id, albumID, name, url}."""
    top = Reader(answer)
    if isinstance(top.raw.get("result"), dict) and "image" not in top.raw:
        top = top.child("result")
    raise_category_error(top)
    image = top.child("image")
    url = image.text("url", required=True)
    return PhotobankImage(
        image_id=image.integer("id", required=True),
        album_id=image.integer("albumID"),
        name=image.text("name"),
        url=url,
        raw=top.raw,
    )
