"""The photobank (图片银行): albums and photo upload (alibaba.photobank.*).

Rules of alibaba.photobank.photo.add (docs/protocol.md): `albumID` of one of the seller's
albums, `name` at most 30 characters, `imageBytes` a multipart file (not signed) of at most
2 MB in jpg/jpeg/gif/bmp/png, and no transparent PNG. A photo's path (``img/ibank/...``) is
what an offer's pictures must be: publish refuses pictures that are not the seller's photos.
Every seller starts with two albums. Error codes are the sandbox's own (not attested);
answers are flat ``{"success", "errorCode", "errorMsg"}`` like the product APIs.
"""

import io
from typing import TYPE_CHECKING

from PIL import Image, UnidentifiedImageError

from ..world import images

if TYPE_CHECKING:
    from ..world.store import Store
    from .call import ApiCall

MAX_BYTES = 2 * 1024 * 1024
NAME_MAX = 30
FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "BMP": "bmp"}
DEFAULT_ALBUMS = ("默认相册", "商品主图")
FIRST_ALBUM_ID = 30_000_000
FIRST_IMAGE_ID = 8_000_000_000


class PhotoRefused(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def error(code: str, message: str) -> dict:
    return {"success": False, "errorCode": code, "errorMsg": message}


def albums(store: "Store", member_id: str) -> list[dict]:
    with store.write() as conn:
        rows = _albums(conn, member_id)
        if not rows:
            for name in DEFAULT_ALBUMS:
                album_id = _next_id(conn, "photobank_albums", "album_id", FIRST_ALBUM_ID)
                conn.execute(
                    "INSERT INTO photobank_albums VALUES (?, ?, ?, ?)",
                    (album_id, member_id, name, store.clock.now_ms()),
                )
            rows = _albums(conn, member_id)
    return rows


def _albums(conn, member_id: str) -> list[dict]:
    sql = (
        "SELECT a.album_id, a.name, a.created_ms, COUNT(p.image_id) AS image_count"
        " FROM photobank_albums a LEFT JOIN photobank_photos p ON p.album_id = a.album_id"
        " WHERE a.member_id = ? GROUP BY a.album_id ORDER BY a.album_id"
    )
    return [
        {"albumID": row[0], "name": row[1], "imageCount": row[3], "authority": 1}
        for row in conn.execute(sql, (member_id,))
    ]


def _next_id(conn, table: str, column: str, first: int) -> int:
    row = conn.execute(f"SELECT MAX({column}) FROM {table}").fetchone()  # noqa: S608
    return max(first, (row[0] or 0) + 1)


def check_picture(data: bytes) -> str:
    """The file extension of an acceptable picture, or PhotoRefused naming the rule."""
    if not data:
        raise PhotoRefused("IMAGE_REQUIRED", "imageBytes is required (a multipart file)")
    if len(data) > MAX_BYTES:
        raise PhotoRefused(
            "IMAGE_TOO_LARGE",
            f"图片不能超过2M（{len(data)} 字节）",
        )
    try:
        with Image.open(io.BytesIO(data)) as picture:
            kind = picture.format or ""
            if kind not in FORMATS:
                raise PhotoRefused(
                    "IMAGE_TYPE_INVALID",
                    f"图片格式只支持jpg、jpeg、gif、bmp、png / {kind or 'unknown'} is not allowed",
                )
            if kind == "PNG" and _transparent(picture):
                raise PhotoRefused("IMAGE_TRANSPARENT", "不支持透明背景的PNG图片")
            picture.load()  # a truncated or corrupt file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise PhotoRefused("IMAGE_TYPE_INVALID", "图片无法识别") from None
    return FORMATS[kind]


def _transparent(picture: Image.Image) -> bool:
    if "transparency" in picture.info:
        return True
    if picture.mode in ("RGBA", "LA", "PA"):
        alpha = picture.getchannel("A")
        return alpha.getextrema()[0] < 255
    return False


def add_photo(call: "ApiCall") -> dict:
    params = call.params
    name = params.get("name", "").strip()
    if len(name) > NAME_MAX:
        return error("NAME_TOO_LONG", f"图片名称不能超过30个字符（{len(name)} 个）")
    try:
        album_id = int(params.get("albumID", ""))
    except ValueError:
        return error("ALBUM_NOT_EXIST", "albumID must be one of the seller's album ids")
    if album_id not in {a["albumID"] for a in albums(call.store, call.member_id)}:
        return error("ALBUM_NOT_EXIST", f"相册不存在：{album_id}")
    data = call.files.get("imageBytes") or b""
    try:
        extension = check_picture(data)
    except PhotoRefused as refused:
        return error(refused.code, str(refused))
    pattern = images.balance(images.average_hash(data) if extension != "gif" else len(data))
    with call.store.write() as conn:
        image_id = _next_id(conn, "photobank_photos", "image_id", FIRST_IMAGE_ID)
        path = images.path_for_pattern(pattern, image_id % 1000, album_id % 1000)
        path = path.rsplit(".", 1)[0] + "." + extension
        conn.execute(
            "INSERT INTO photobank_photos VALUES (?, ?, ?, ?, ?, ?, ?)",
            (image_id, call.member_id, album_id, name or f"{image_id}", path, len(data),
             call.store.clock.now_ms()),
        )  # fmt: skip
    image = {"id": image_id, "albumID": album_id, "name": name or str(image_id), "url": path}
    return {"success": True, "image": image}


def list_albums(call: "ApiCall") -> dict:
    found = albums(call.store, call.member_id)
    return {"success": True, "albumInfos": found, "count": len(found)}


def owned_paths(store: "Store", member_id: str, paths: list[str]) -> set[str]:
    """Which of ``paths`` (relative or full URLs) are photos of this seller's photobank."""
    relative = {images.relative_image_path(path): path for path in paths}
    if not relative:
        return set()
    marks = ",".join("?" * len(relative))
    sql = f"SELECT path FROM photobank_photos WHERE member_id = ? AND path IN ({marks})"  # noqa: S608
    with store.connection() as conn:
        found = {row[0] for row in conn.execute(sql, [member_id, *relative])}
    return {relative[path] for path in found}
