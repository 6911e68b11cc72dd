"""Pictures staff upload for an item, kept until the publish job puts them into the photobank.

They are kept through Django's storage API, `storages["staged_pictures"]` (settings.STORAGES):
the web process that takes the upload and the worker that publishes may run on different
machines, so in production the storage is one they share (STAGED_PICTURES_STORAGE and
STAGED_PICTURES_OPTIONS); by default it is a folder of the data directory. A picture is kept
under its content's SHA-256, and an item names it `staged:<sha256>`.
"""

import re
from hashlib import sha256

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages

from erp1688 import pictures

PREFIX = "staged:"
THUMB_SIDE = 240  # pixels a side of the editor's and the batch page's thumbnails
THUMB_MAX_BYTES = 60 * 1024
REFERENCE = re.compile(r"^staged:([0-9a-f]{64})$")


def storage() -> Storage:
    return storages["staged_pictures"]


def _name(reference) -> str | None:
    match = REFERENCE.match(reference) if isinstance(reference, str) else None
    return match.group(1) if match else None


def is_reference(value) -> bool:
    """`staged:<sha256>`, whether or not the picture is (still) kept."""
    return _name(value) is not None


def keep(data: bytes) -> str:
    """Keep the bytes (once per content) and return the reference an item stores."""
    name = sha256(data).hexdigest()
    kept = storage()
    if not kept.exists(name):
        saved = kept.save(name, ContentFile(data))
        if saved != name:  # another process kept the same content meanwhile: one copy is enough
            kept.delete(saved)
    return PREFIX + name


def name_of(reference) -> str | None:
    """The content hash a reference names (`staged:<sha256>`), or None."""
    return _name(reference)


def is_kept(reference) -> bool:
    """A staged picture the storage holds."""
    name = _name(reference)
    return name is not None and storage().exists(name)


def read(reference: str) -> bytes | None:
    """The staged picture's bytes, or None when the storage no longer holds it."""
    name = _name(reference)
    if name is None:
        return None
    try:
        with storage().open(name, "rb") as kept:
            return kept.read()
    except FileNotFoundError:
        return None


def thumbnail(name: str) -> bytes | None:
    """A small JPEG of the staged picture `name` (its content hash), made once and kept beside
    it; None when the storage does not hold the picture (or it cannot be read any more)."""
    if not REFERENCE.match(PREFIX + name):
        return None
    kept, thumb = storage(), f"thumbs/{name}.jpg"
    try:
        with kept.open(thumb, "rb") as made:
            return made.read()
    except FileNotFoundError:
        pass
    data = read(PREFIX + name)
    if data is None:
        return None
    try:
        picture = pictures.open_picture(data)
        try:
            small = pictures.jpeg_on_white(picture, max_bytes=THUMB_MAX_BYTES, max_side=THUMB_SIDE)
        finally:
            picture.close()
    except (pictures.PictureRefused, *pictures.UNREADABLE):
        return None
    saved = kept.save(thumb, ContentFile(small))
    if saved != thumb:  # another request made it meanwhile: one copy is enough
        kept.delete(saved)
    return small
