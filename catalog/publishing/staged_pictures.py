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

PREFIX = "staged:"
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
