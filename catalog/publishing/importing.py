"""Importing upload items: one pipeline (django-import-export's) behind staff pages and admin.

    uploaded file ─► reading (catalog/publishing/import_reading.py): the bounded upload, its size,
                     SpreadsheetFormat: bytes → tablib.Dataset, or Refused(code)
                  ─► preview_import(user=, batch=, upload=)
                        fills empty cargo cells, runs UploadItemResource.import_data(dry_run=True)
                        (every row with its errors); only when every row is valid the dataset is
                        kept in ImportStorage (import-export's temporary storage, in Redis, with
                        an expiry) under a fresh name → ImportPreview(rows, result, name)
                  ─► confirm_import(user=, batch=, name=)
                        claims the kept dataset (read and deleted in one Redis call, so a double
                        click imports once) and runs import_data(dry_run=False): every row or none

The kept dataset is the one the preview showed, cargo numbers included, so the confirmed items
carry exactly the numbers staff saw. Nothing is kept for a refused file or a preview with errors;
a confirmed preview is deleted when claimed; an abandoned one expires after
IMPORT_PREVIEW_SECONDS. Nothing is written to the data folder or the temp folder.
"""

import re
import uuid
import zlib
from dataclasses import dataclass, field

import django_rq
import tablib
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy
from import_export.results import Result
from import_export.tmp_storages import BaseStorage
from redis.exceptions import RedisError

from catalog.models import UploadBatch, new_cargo_number
from catalog.publishing.import_reading import SpreadsheetFormat, read_upload
from catalog.publishing.resources import COLUMN_NAMES, COLUMNS, UploadItemResource
from catalog.publishing.staging import check_batch_open
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused, require

IMPORT_PERMISSION = "catalog.add_uploaditem"
# How long a preview waits for its confirmation (setting IMPORT_PREVIEW_SECONDS overrides).
PREVIEW_SECONDS = 3600


# --- the temporary storage between preview and confirm --------------------------------------


class ImportStorage(BaseStorage):
    """django-import-export's temporary storage for a previewed dataset, in Redis.

    Kept compressed under a random name for IMPORT_PREVIEW_SECONDS, then Redis drops it by
    itself: an abandoned preview leaves nothing behind. `claim()` reads and deletes in one call.
    """

    PREFIX = "erp1688:import-preview:"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.name is not None and not re.fullmatch(r"[0-9a-f]{32}", str(self.name)):
            self.name = None  # a forged name reads as "expired", never as a key of our choosing

    @staticmethod
    def connection():
        return django_rq.get_connection("default")

    @classmethod
    def keys(cls) -> list[bytes]:
        return list(cls.connection().scan_iter(match=cls.PREFIX + "*", count=1000))

    def _key(self) -> str:
        return self.PREFIX + self.name

    def _redis(self, command: str, *args, **kwargs):
        try:
            return getattr(self.connection(), command)(*args, **kwargs)
        except RedisError:
            raise Refused(
                RefusalCode.IMPORT_UNAVAILABLE,
                gettext_lazy("The import service is unavailable right now: try again in a minute."),
            ) from None

    def save(self, data: bytes):
        if not self.name:
            self.name = uuid.uuid4().hex
        seconds = getattr(settings, "IMPORT_PREVIEW_SECONDS", PREVIEW_SECONDS)
        self._redis("set", self._key(), zlib.compress(data), ex=seconds)

    def read(self) -> bytes:
        stored = self._redis("get", self._key()) if self.name else None
        if stored is None:
            raise _expired()
        return zlib.decompress(stored)

    def claim(self) -> bytes:
        stored = self._redis("getdel", self._key()) if self.name else None
        if stored is None:
            raise _expired()
        return zlib.decompress(stored)

    def remove(self):
        if self.name:
            self._redis("delete", self._key())


def _expired() -> Refused:
    return Refused(
        RefusalCode.IMPORT_EXPIRED,
        gettext_lazy("This preview has expired or was already imported: upload the file again."),
    )


# --- preview and confirm: the services ------------------------------------------------------


@dataclass
class PreviewRow:
    number: int  # the row as a spreadsheet shows it: the header is row 1
    values: dict[str, str]  # column header → cell text as read (cargo number as it will be)
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def is_valid(self) -> bool:
        return not self.errors

    @property
    def cells(self) -> list[tuple[str, bool]]:
        """(text, has an error) per column, in COLUMNS order, for the preview table."""
        return [(self.values.get(header, ""), name in self.errors) for name, header, _a in COLUMNS]

    @property
    def messages(self) -> list[str]:
        return [message for messages in self.errors.values() for message in messages]


@dataclass
class ImportPreview:
    rows: list[PreviewRow]
    result: Result  # import-export's dry-run result (the admin's preview renders it)
    name: str = ""  # the kept dataset of the valid rows (catalog/publishing/import_partial.py)
    rejects_name: str = ""  # the rows with errors, as an XLSX in the file's layout

    @property
    def invalid_count(self) -> int:
        return sum(1 for row in self.rows if not row.is_valid)

    @property
    def valid_count(self) -> int:
        return len(self.rows) - self.invalid_count

    @property
    def is_valid(self) -> bool:
        return bool(self.rows) and self.invalid_count == 0


class ImportInvalid(Refused):
    """Some rows have errors: nothing was imported. `preview` shows every row."""

    def __init__(self, preview: ImportPreview):
        super().__init__(
            "import.invalid_rows",
            gettext_lazy("%(n)d rows have errors; nothing was imported."),
            params={"n": preview.invalid_count},
        )
        self.preview = preview


def _with_cargo_numbers(dataset: tablib.Dataset) -> tablib.Dataset:
    """Fill each empty cargo cell of a non-blank row with a fresh number, so the preview shows
    the numbers the items will have and the kept dataset carries them to the confirm step."""
    header = COLUMN_NAMES["cargo_number"]
    headers = list(dataset.headers or [])
    filled = tablib.Dataset(headers=headers if header in headers else [*headers, header])
    for row in dataset:
        values = dict(zip(headers, row, strict=True))
        if not values.get(header, "").strip() and any(str(v).strip() for v in values.values()):
            values[header] = new_cargo_number()
        filled.append([values.get(name, "") for name in filled.headers])
    return filled


def _dump(batch: UploadBatch, user, dataset: tablib.Dataset) -> bytes:
    import json

    payload = {"batch": batch.pk, "user": user.pk, "headers": dataset.headers, "rows": dataset[:]}
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def _load(data: bytes, *, batch: UploadBatch, user) -> tablib.Dataset:
    import json

    payload = json.loads(data)
    if payload.get("batch") != batch.pk or payload.get("user") != user.pk:
        raise _expired()
    dataset = tablib.Dataset(headers=payload["headers"])
    for row in payload["rows"]:
        dataset.append(row)
    return dataset


def _run(resource: UploadItemResource, dataset: tablib.Dataset, *, user, dry_run: bool):
    result = resource.import_data(
        dataset,
        dry_run=dry_run,
        raise_errors=False,
        use_transactions=True,
        rollback_on_validation_errors=True,
        user=user,
    )
    rows = [
        PreviewRow(number=number, values=dict(zip(dataset.headers, values, strict=True)),
                   errors=errors)
        for number, values, errors in resource.preview_rows(dataset)
    ]  # fmt: skip
    if result.has_errors():  # not a row's fault: a bug or the database; never silent
        error = (result.base_errors or [e for _n, errs in result.row_errors() for e in errs])[0]
        raise error.error
    # The admin's preview table shows each row's `diff` under `diff_headers`; the resource skips
    # the per-row diff (it doubled the time), so the row's cells are shown instead (escaped).
    result.diff_headers = list(dataset.headers)
    for row_result, values in zip(result.rows, dataset, strict=True):
        row_result.diff = [str(value) for value in values]
    return result, rows


def preview_import(*, user, batch: UploadBatch, upload) -> ImportPreview:
    """Dry run of an uploaded file into `batch`: every row with its errors, nothing written.
    The valid rows are kept for confirm_import under `preview.name`, the others given back as
    a file (`preview.rejects_name`)."""
    from catalog.publishing.import_partial import keep_rows

    require(user, IMPORT_PERMISSION)
    check_batch_open(batch)
    data = read_upload(upload)
    dataset = _with_cargo_numbers(SpreadsheetFormat().create_dataset(data))
    resource = UploadItemResource(batch=batch)
    result, rows = _run(resource, dataset, user=user, dry_run=True)
    preview = ImportPreview(rows=rows, result=result)
    keep_rows(preview, dataset, data, batch=batch, user=user)
    return preview


def confirm_import(*, user, batch: UploadBatch, name: str) -> int:
    """Import the dataset kept by preview_import: every row or none (ImportInvalid then, e.g. when
    another import took a cargo number since). Returns the number of items created."""
    require(user, IMPORT_PERMISSION)
    storage = ImportStorage(name=name)
    _load(storage.read(), batch=batch, user=user)  # another batch's or user's preview: refused
    dataset = _load(storage.claim(), batch=batch, user=user)  # gone, whatever happens next
    with transaction.atomic():
        # One import at a time per batch: positions and the cargo-number checks stay true.
        batch = UploadBatch.objects.select_for_update().get(pk=batch.pk)
        check_batch_open(batch)
        resource = UploadItemResource(batch=batch)
        result, rows = _run(resource, dataset, user=user, dry_run=False)
    if result.has_validation_errors():
        raise ImportInvalid(ImportPreview(rows=rows, result=result))
    return len(rows)
