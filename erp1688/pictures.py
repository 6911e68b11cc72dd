"""The one place pictures are opened and converted (publishing and image search).

Every picture is opened with `open_picture`: only the kinds asked for, and its pixel count
(width × height, read from the header) checked against PICTURE_MAX_PIXELS before a single
pixel is decoded, so a small file that unpacks to gigabytes (a 12,000 × 12,000 PNG of 445 KB)
is refused in milliseconds. Conversion is one function, `jpeg_on_white` (flatten transparency
on white, fit the sides, shrink to a JPEG of at most so many bytes), for:
- `for_photobank(data)`: as 1688's photobank takes it (≤ 2 MB; JPEG, GIF, BMP or opaque PNG
  kept as they are, anything else made JPEG, shrunk only when quality alone is not enough);
- `for_search(data)`: a JPEG of at most 300 KB and 1,200 px a side, for image search;
  `cropped_for_search(data, box)` the same of a region of it (the object, not the background).
Refusals are `PictureRefused` (codes `image.invalid`, `image.too_large`) with a sentence for
staff; `msgid` and `params` let publishing keep it as a stored message.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused

PHOTOBANK_KINDS = ("JPEG", "PNG", "GIF", "BMP", "WEBP")
SEARCH_KINDS = ("JPEG", "PNG", "WEBP", "GIF")
# The largest picture staff may give (an upload, a download): larger is refused before reading.
PICTURE_MAX_BYTES = 10 * 1024 * 1024
PHOTOBANK_MAX_BYTES = 2 * 1024 * 1024  # 1688's photobank refuses larger pictures
SEARCH_MAX_BYTES = 300 * 1024  # image search uploads (docs/protocol.md)
SEARCH_MAX_SIDE = 1200
# What Pillow raises for a file that is not a picture it can read, or a damaged one.
UNREADABLE = (
    UnidentifiedImageError,
    OSError,
    ValueError,
    SyntaxError,
    Image.DecompressionBombError,
)


class PictureRefused(Refused):
    @property
    def msgid(self) -> str:
        return getattr(self._message, "_args", [str(self._message)])[0]


def unreadable() -> PictureRefused:
    return PictureRefused(
        RefusalCode.IMAGE_INVALID, _("The file is not a picture that can be read.")
    )


def too_many_pixels(width: int = 0, height: int = 0) -> PictureRefused:
    maximum = f"{settings.PICTURE_MAX_PIXELS / 1_000_000:.10g}"
    if not (width and height):  # Pillow itself refused it, beyond its own limit
        return PictureRefused(
            RefusalCode.IMAGE_TOO_LARGE,
            _("The picture has too many pixels: at most %(max)s million in all."),
            params={"max": maximum},
        )
    return PictureRefused(
        RefusalCode.IMAGE_TOO_LARGE,
        _(
            "The picture has too many pixels: %(width)d × %(height)d, at most %(max)s million "
            "in all."
        ),
        params={"width": width, "height": height, "max": maximum},
    )


def open_picture(data: bytes, kinds=PHOTOBANK_KINDS) -> Image.Image:
    """The picture, opened but not decoded, once its kind and pixel count are acceptable."""
    try:
        picture = Image.open(io.BytesIO(data), formats=list(kinds))
    except Image.DecompressionBombError as exc:
        raise too_many_pixels() from exc
    except UNREADABLE as exc:
        raise unreadable() from exc
    width, height = picture.size
    if width * height > settings.PICTURE_MAX_PIXELS:
        picture.close()
        raise too_many_pixels(width, height)
    return picture


def check_picture(data: bytes, kinds=PHOTOBANK_KINDS) -> None:
    """Refuse what open_picture refuses, and a damaged file (verify reads it without keeping
    the pixels)."""
    picture = open_picture(data, kinds)
    try:
        picture.verify()
    except UNREADABLE as exc:
        raise unreadable() from exc
    finally:
        picture.close()


def has_alpha(picture: Image.Image) -> bool:
    if "transparency" in picture.info:
        return True
    if picture.mode in ("RGBA", "LA", "PA"):
        return picture.getchannel("A").getextrema()[0] < 255
    return False


def flattened(picture: Image.Image) -> Image.Image:
    """RGB on white (a transparent pixel would turn black in a JPEG)."""
    if has_alpha(picture) or picture.mode in ("P", "PA", "LA", "RGBA"):
        rgba = picture.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return picture.convert("RGB")


def _jpeg(picture: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def jpeg_on_white(
    picture: Image.Image,
    *,
    max_bytes: int,
    max_side: int | None = None,
    qualities=(85, 70, 55, 40),
    shrink: float = 0.75,
) -> bytes:
    """Flatten on white and shrink to JPEG: the picture on white (flattened), within `max_side`
    pixels a side, as a JPEG of at most `max_bytes` — each quality in turn, then the sides
    times `shrink`. Pillow errors are the caller's to map (the picture is decoded here)."""
    picture = flattened(picture)
    if max_side:
        picture.thumbnail((max_side, max_side))
    while True:
        for quality in qualities:
            data = _jpeg(picture, quality)
            if len(data) <= max_bytes:
                return data
        size = (max(1, int(picture.width * shrink)), max(1, int(picture.height * shrink)))
        picture = picture.resize(size)


def for_photobank(data: bytes) -> tuple[bytes, str]:
    """The picture as 1688 takes it (≤ 2 MB, jpg/gif/bmp/png, no transparency) and its
    extension: returned as it is when already acceptable."""
    picture = open_picture(data, PHOTOBANK_KINDS)
    try:
        picture.load()
        kind = (picture.format or "").upper()
        alpha = has_alpha(picture)
        ok_kind = kind in ("JPEG", "GIF", "BMP") or (kind == "PNG" and not alpha)
        if ok_kind and len(data) <= PHOTOBANK_MAX_BYTES:
            return data, {"JPEG": "jpg"}.get(kind, kind.lower())
        return jpeg_on_white(
            picture, max_bytes=PHOTOBANK_MAX_BYTES, qualities=(90, 80, 70, 60), shrink=0.5
        ), "jpg"
    except UNREADABLE as exc:
        raise unreadable() from exc
    finally:
        picture.close()


def for_search(data: bytes, *, max_bytes: int = SEARCH_MAX_BYTES) -> bytes:
    """A JPEG of at most `max_bytes` and SEARCH_MAX_SIDE a side (a small JPEG as it is)."""
    picture = open_picture(data, SEARCH_KINDS)
    try:
        if picture.format == "JPEG" and len(data) <= max_bytes:
            picture.verify()
            return data
        picture.draft("RGB", (SEARCH_MAX_SIDE, SEARCH_MAX_SIDE))  # JPEG: decode at a smaller size
        picture.load()
        return jpeg_on_white(picture, max_bytes=max_bytes, max_side=SEARCH_MAX_SIDE)
    except UNREADABLE as exc:
        raise unreadable() from exc
    finally:
        picture.close()


def region_outside(width: int, height: int) -> PictureRefused:
    return PictureRefused(
        RefusalCode.IMAGE_BAD_REGION,
        _(
            "The region to search is not inside the picture, which is %(width)d × %(height)d "
            "pixels."
        ),
        params={"width": width, "height": height},
    )


def cropped_for_search(
    data: bytes, box: tuple[int, int, int, int], *, max_bytes: int = SEARCH_MAX_BYTES
) -> bytes:
    """The region `box` = (x, y, width, height) in pixels from the top left of the picture, as
    `for_search` makes it: the object searched for, not its background. Refused as open_picture,
    and `image.bad_region` when the region is empty or not inside the picture."""
    x, y, width, height = box
    picture = open_picture(data, SEARCH_KINDS)
    try:
        full_width, full_height = picture.size
        if x < 0 or y < 0 or width < 1 or height < 1:
            raise region_outside(full_width, full_height)
        if x + width > full_width or y + height > full_height:
            raise region_outside(full_width, full_height)
        picture.load()
        region = picture.crop((x, y, x + width, y + height))
        return jpeg_on_white(region, max_bytes=max_bytes, max_side=SEARCH_MAX_SIDE)
    except UNREADABLE as exc:
        raise unreadable() from exc
    finally:
        picture.close()
