"""Generated offer pictures and the perceptual (average) hash used by image search.

Every picture is an 8x8 mosaic of light and dark cells whose pattern is a 64-bit number
derived from the image path alone, so the average hash of the rendered picture *is* that
number. Offer paths written by the generator (``img/ibank/2026/123/456/HI_LO.jpg``) carry the
pattern in HI and LO (two 32-bit halves, like the two numbers in real 1688 file names); any
other path gets a pattern from its SHA-256. The sandbox can therefore index 200,000 offers
for image search without rendering a single picture.
"""

import colorsys
import functools
import hashlib
import io
import re

import imagehash
from PIL import Image, ImageDraw

GRID = 8
CELL_PX = 50
SIDE_PX = GRID * CELL_PX
MASK_64 = (1 << 64) - 1
_ALTERNATING = 0xAA55AA55AA55AA55
_NUMBERED_NAME = re.compile(r"(\d+)_(\d+)\.(?:jpe?g|png|webp)$", re.IGNORECASE)


def is_balanced(pattern: int) -> bool:
    """Enough light and dark cells that the mean falls between them (else the hash is 0)."""
    return 8 <= pattern.bit_count() <= 56


def balance(pattern: int) -> int:
    pattern &= MASK_64
    return pattern if is_balanced(pattern) else pattern ^ _ALTERNATING


def relative_image_path(address: str) -> str:
    """``img/ibank/...`` from a relative path or any URL whose path contains ``/img/``."""
    path = address.split("?", 1)[0].split("#", 1)[0]
    if "://" in path:
        path = path.split("://", 1)[1].partition("/")[2]
    path = path.lstrip("/")
    marker = path.find("img/")
    return path[marker:] if marker > 0 else path


def public_url(host_url: str, path: str) -> str:
    """Absolute URL of a picture on this sandbox (everything is served under /img/)."""
    relative = relative_image_path(path)
    if not relative.startswith("img/"):
        relative = f"img/{relative}"
    return f"{host_url}/{relative}"


def path_for_pattern(pattern: int, folder_a: int, folder_b: int, year: int = 2026) -> str:
    high, low = pattern >> 32, pattern & 0xFFFFFFFF
    return f"img/ibank/{year}/{folder_a:03d}/{folder_b:03d}/{high}_{low}.jpg"


def pattern_for_path(path: str) -> int:
    path = relative_image_path(path)
    match = _NUMBERED_NAME.search(path)
    if match:
        high, low = int(match.group(1)), int(match.group(2))
        if high < 2**32 and low < 2**32:
            return balance((high << 32) | low)
    digest = hashlib.sha256(path.encode("utf-8")).digest()
    return balance(int.from_bytes(digest[:8], "big"))


def _palette(path: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    hue = hashlib.md5(path.encode("utf-8")).digest()[0] / 255  # noqa: S324 (a colour, not security)

    def rgb(lightness: float) -> tuple[int, int, int]:
        red, green, blue = colorsys.hls_to_rgb(hue, lightness, 0.55)
        return round(red * 255), round(green * 255), round(blue * 255)

    return rgb(0.82), rgb(0.30)


@functools.lru_cache(maxsize=512)
def render(path: str) -> tuple[bytes, str]:
    """(bytes, content type) of the picture for an image path; deterministic."""
    path = relative_image_path(path)
    pattern = pattern_for_path(path)
    light, dark = _palette(path)
    picture = Image.new("RGB", (SIDE_PX, SIDE_PX), light)
    draw = ImageDraw.Draw(picture)
    for index in range(GRID * GRID):
        if pattern >> (63 - index) & 1:
            row, column = divmod(index, GRID)
            box = (
                column * CELL_PX,
                row * CELL_PX,
                (column + 1) * CELL_PX - 1,
                (row + 1) * CELL_PX - 1,
            )
            draw.rectangle(box, fill=dark)
    buffer = io.BytesIO()
    if path.lower().endswith(".png"):
        picture.save(buffer, format="PNG")
        return buffer.getvalue(), "image/png"
    picture.save(buffer, format="JPEG", quality=88)
    return buffer.getvalue(), "image/jpeg"


def average_hash(image_bytes: bytes) -> int:
    """64-bit average hash of a picture (the ``imagehash`` library: 8x8 grey thumbnail, a bit
    per cell), with dark cells = 1 to match the rendered mosaic, whose set bits are its dark
    cells; so a resized or recompressed copy of an offer's picture hashes to its pattern."""
    with Image.open(io.BytesIO(image_bytes)) as picture:
        picture.draft("L", (GRID * 8, GRID * 8))  # JPEG: decode small, a large upload is cheap
        light_cells = imagehash.average_hash(picture, hash_size=GRID).hash.flatten()
    value = 0
    for light in light_cells:
        value = (value << 1) | (0 if light else 1)
    return value


def hamming(first: int, second: int) -> int:
    return ((first ^ second) & MASK_64).bit_count()


def to_signed(pattern: int) -> int:
    """SQLite integers are signed 64-bit."""
    return pattern - (1 << 64) if pattern >= 1 << 63 else pattern


def from_signed(value: int) -> int:
    return value & MASK_64
