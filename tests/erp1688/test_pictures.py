"""One picture module (erp1688/pictures.py) for publishing and image search: pixels counted
before decoding, so a pixel bomb is refused in milliseconds by every path that opens pictures,
with a sentence for staff; only the picture kinds asked for are ever decoded."""

import functools
import io
import struct
import time
import tracemalloc
import zlib

import pytest
from django.utils import translation
from PIL import Image

from catalog.publishing.upload import publishing
from catalog.sourcing import services as sourcing
from erp1688 import pictures
from erp1688.messages import render
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@functools.cache
def pixel_bomb(width: int = 12_000, height: int = 12_000, *, complete: bool = True) -> bytes:
    """A valid RGB PNG of width × height black pixels: 12,000 × 12,000 is a 420 KB file that
    decodes to 432 MB (the probe's 445 KB one cost 551 MB and 11 s). `complete=False` stops
    after the header (enough for a reader that looks before decoding)."""
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    if not complete:
        return b"\x89PNG\r\n\x1a\n" + header + _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    packer = zlib.compressobj(9)
    line = b"\x00" * (1 + width * 3)
    data = b"".join(packer.compress(line) for _ in range(height)) + packer.flush()
    return b"\x89PNG\r\n\x1a\n" + header + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def png(size=(64, 64), mode="RGB", color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, "PNG")
    return out.getvalue()


def _refusal(call, data):
    """The refusal a path gives, as (code or "picture", text in English)."""
    try:
        call(data)
    except publishing.PictureError as exc:
        with translation.override("en"):
            return "picture", render(exc.message)
    except Refused as exc:
        with translation.override("en"):
            return exc.code, exc.message
    return None


# Every way a picture is opened on the server, through the one module.
PATHS = {
    "photobank": pictures.for_photobank,
    "search": pictures.for_search,
    "check": pictures.check_picture,
    "publishing.acceptable_picture": publishing.acceptable_picture,
    "publishing.stage_picture": publishing.stage_picture,
    "sourcing.shrink_for_upload": sourcing.shrink_for_upload,
}


@pytest.mark.exclusive  # timed: no other test may share the cores
@pytest.mark.parametrize("path", list(PATHS))
def test_a_pixel_bomb_is_refused_before_decoding_on_every_path(path, scoreboard):
    bomb = pixel_bomb()
    assert len(bomb) < 500 * 1024
    tracemalloc.start()
    started = time.perf_counter()
    try:
        outcome = _refusal(PATHS[path], bomb)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    scoreboard.hostile()
    kb, ms, mb = len(bomb) / 1024, seconds * 1000, peak / 2**20
    print(f"\n{path}: a {kb:.0f} KB bomb refused in {ms:.1f} ms, peak {mb:.1f} MB")
    assert outcome is not None, "the bomb was decoded"
    code, text = outcome
    assert code in ("image.too_large", "picture")
    assert "12000 × 12000" in text and "at most 40 million" in text
    assert seconds < 0.5 and peak < 5 * 2**20


def test_a_bomb_beyond_pillows_own_limit_is_refused_as_too_many_pixels(scoreboard):
    scoreboard.hostile()
    for call in (pictures.for_photobank, pictures.for_search):
        with pytest.raises(pictures.PictureRefused) as refused:
            call(pixel_bomb(20_000, 20_000, complete=False))  # 400 million pixels
        assert refused.value.code == RefusalCode.IMAGE_TOO_LARGE


def test_the_refusal_is_a_sentence_in_the_readers_language(scoreboard):
    scoreboard.hostile()
    with pytest.raises(publishing.PictureError) as refused:
        publishing.stage_picture(pixel_bomb())
    with translation.override("zh-hans"):
        text = render(refused.value.message)
    assert text == "图片像素过多：12000 × 12000，总数最多 40 百万像素。"


def test_one_pixel_cap_for_publishing_and_image_search(settings):
    """The cap is one setting read by the one module: both paths move with it."""
    picture = png((2000, 1000))
    settings.PICTURE_MAX_PIXELS = 2_000_000
    assert publishing.acceptable_picture(picture)[1] == "png"
    assert len(sourcing.shrink_for_upload(picture)) <= sourcing.UPLOAD_MAX_BYTES
    settings.PICTURE_MAX_PIXELS = 1_500_000
    for call in (publishing.acceptable_picture, sourcing.shrink_for_upload):
        _code, text = _refusal(call, picture)
        assert "2000 × 1000" in text and "at most 1.5 million" in text


def test_other_kinds_are_never_decoded(scoreboard):
    """Only JPEG, PNG, GIF, BMP and WebP are opened (search: no BMP): an EPS (Pillow would hand
    it to Ghostscript) or a TIFF is not a picture here."""
    tiff = io.BytesIO()
    Image.new("RGB", (8, 8)).save(tiff, "TIFF")
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"
    bmp = io.BytesIO()
    Image.new("RGB", (8, 8)).save(bmp, "BMP")
    for data in (tiff.getvalue(), eps):
        scoreboard.hostile()
        for call in (pictures.for_photobank, pictures.for_search):
            with pytest.raises(pictures.PictureRefused) as refused:
                call(data)
            assert refused.value.code == RefusalCode.IMAGE_INVALID
    assert pictures.for_photobank(bmp.getvalue())[1] == "bmp"
    with pytest.raises(pictures.PictureRefused):
        pictures.for_search(bmp.getvalue())


def test_both_paths_flatten_transparency_on_white():
    clear = png((40, 40), "RGBA", (0, 0, 0, 0))
    photo, extension = publishing.acceptable_picture(clear)
    search = sourcing.shrink_for_upload(clear)
    assert extension == "jpg"
    for data in (photo, search):
        picture = Image.open(io.BytesIO(data))
        assert picture.format == "JPEG" and picture.getpixel((20, 20)) >= (250, 250, 250)


def test_one_conversion_flattens_fits_and_shrinks_to_jpeg():
    """jpeg_on_white is what the photobank, the image search and a cropped search all use."""
    half_clear = Image.new("RGBA", (3000, 1000), (0, 0, 0, 0))
    half_clear.paste((10, 120, 30, 255), (0, 0, 1500, 1000))
    noise = Image.effect_noise((1500, 1000), 80).convert("RGB")
    half_clear.paste(noise, (0, 0))
    data = pictures.jpeg_on_white(half_clear, max_bytes=60_000, max_side=1200)
    made = Image.open(io.BytesIO(data))
    assert made.format == "JPEG" and len(data) <= 60_000
    assert max(made.size) <= 1200 and made.width / made.height == pytest.approx(3, rel=0.02)
    assert made.getpixel((made.width - 5, made.height // 2)) >= (250, 250, 250)
    with io.BytesIO() as whole:
        half_clear.save(whole, "PNG")
        cropped = pictures.cropped_for_search(whole.getvalue(), (2000, 0, 1000, 1000))
    assert Image.open(io.BytesIO(cropped)).getpixel((500, 500)) >= (250, 250, 250)


def test_an_acceptable_picture_is_kept_as_it_is():
    opaque = png()
    assert publishing.acceptable_picture(opaque) == (opaque, "png")


@pytest.mark.parametrize(
    "address",
    ["http://127.0.0.1:6379/a.jpg", "http://2130706433/a.jpg", "http://[::ffff:a9fe:a9fe]/x"],
)
def test_image_search_refuses_an_address_into_the_machine_before_any_call(address, scoreboard):
    """1688 fetches the address of an image search, not this server; the address itself is
    still checked like the guarded fetch's (no name is resolved: x.test stays acceptable)."""
    scoreboard.hostile()
    with pytest.raises(Refused) as refused, translation.override("en"):
        sourcing.search_by_image(user=None, image_url=address)
    assert refused.value.code == RefusalCode.SEARCH_BAD_QUERY
    with translation.override("en"):
        assert "is a private, local or reserved address" in refused.value.message
