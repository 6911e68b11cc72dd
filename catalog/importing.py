"""Import upload items from a CSV or XLSX file: read it safely, preview every row, save all or none.

Staff flow: read_upload_file → stage_import (preview, and keep the rows for the confirm step
in DATA_DIR/imports/<uuid>.json under a signed token) → confirm_import → apply_import.
"""

import csv
import datetime as dt
import io
import json
import time
import uuid
import zipfile
from dataclasses import dataclass, field

import tablib
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils.translation import gettext as _

from catalog.models import UploadBatch, UploadItem
from catalog.resources import (
    COLUMN_NAMES,
    COLUMNS,
    PRICE_FIELDS,
    REQUIRED_FIELDS,
    UploadItemResource,
    header_lookup,
    normalize_header,
    unescape_cell,
)
from catalog.staging import check_batch_open, next_position
from catalog.validation import refresh_batch_counts

MAX_ROWS = 5000
MAX_COLUMNS = 100  # XLSX cells right of this are not read
# An XLSX is a zip: refuse one that would unpack to far more than any real sheet (a zip bomb).
MAX_UNZIPPED_FACTOR = 20
XLSX_MAGIC = b"PK\x03\x04"
OLD_XLS_MAGIC = b"\xd0\xcf\x11\xe0"
STASH_SALT = "catalog.importing.stash"
STASH_MAX_AGE = 6 * 3600  # seconds a preview can wait for its confirmation


class ImportFileError(ValueError):
    """The file cannot be imported at all; the message says why, for staff."""


@dataclass
class PreviewRow:
    number: int  # the row as a spreadsheet shows it: the header is row 1
    values: dict[str, str]  # column header → cell text as read
    item: UploadItem
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

    @property
    def invalid_count(self) -> int:
        return sum(1 for row in self.rows if not row.is_valid)

    @property
    def valid_count(self) -> int:
        return len(self.rows) - self.invalid_count

    @property
    def is_valid(self) -> bool:
        return bool(self.rows) and self.invalid_count == 0


class ImportInvalid(ValueError):
    def __init__(self, preview: ImportPreview):
        super().__init__(
            _("%(n)d 行有错误，未导入任何商品 / %(n)d rows have errors; nothing was imported")
            % {"n": preview.invalid_count}
        )
        self.preview = preview


def read_upload_file(uploaded_file) -> tablib.Dataset:
    """Read an uploaded CSV or XLSX, reading at most IMPORT_MAX_BYTES (+1 to notice more)."""
    limit = settings.IMPORT_MAX_BYTES
    uploaded_file.seek(0)
    return parse_upload_bytes(uploaded_file.read(limit + 1))


def parse_upload_bytes(data: bytes) -> tablib.Dataset:
    """The file's rows as text cells under the canonical headers, or ImportFileError."""
    limit = settings.IMPORT_MAX_BYTES
    if len(data) > limit:
        raise ImportFileError(
            _("文件超过 %(mb)s MB / The file is larger than %(mb)s MB")
            % {"mb": f"{limit / 1024 / 1024:g}"}
        )
    if not data.strip():
        raise ImportFileError(_("文件是空的 / The file is empty"))
    if data.startswith(XLSX_MAGIC):
        headers, rows = _read_xlsx(data)
    elif data.startswith(OLD_XLS_MAGIC):
        raise ImportFileError(
            _(
                "不支持旧版 .xls，请另存为 .xlsx 或 CSV / Old .xls files are not supported: "
                "save as .xlsx or CSV"
            )
        )
    else:
        headers, rows = _read_csv(_decode(data))
    return _to_dataset(headers, rows)


def _decode(data: bytes) -> str:
    not_text = ImportFileError(
        _(
            "无法识别的文件：请上传 CSV（UTF-8 或 GBK）或 XLSX / Unrecognised file: upload a CSV "
            "(UTF-8 or GBK) or an XLSX"
        )
    )
    if b"\x00" in data:  # text never holds NUL bytes; binary files nearly always do
        raise not_text
    for encoding in ("utf-8-sig", "gb18030"):  # GB18030 is a superset of GBK and GB2312
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not any(ord(c) < 32 and c not in "\t\r\n" for c in text):
            return text
    raise not_text


def _read_csv(text: str) -> tuple[list, list[list]]:
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        table = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        raise ImportFileError(
            _("CSV 格式错误：%(error)s / Malformed CSV: %(error)s") % {"error": error}
        ) from None
    if not table:
        raise ImportFileError(_("文件是空的 / The file is empty"))
    return table[0], table[1:]


def _cell_text(value) -> str:
    """XLSX cells come typed; every cell is handled as text from here on."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _read_xlsx(data: bytes) -> tuple[list, list[list]]:
    import openpyxl

    cannot_open = ImportFileError(
        _(
            "无法打开这个 XLSX 文件，它可能已损坏 / "
            "This XLSX file cannot be opened; it may be damaged"
        )
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise cannot_open from None
    if unpacked > MAX_UNZIPPED_FACTOR * settings.IMPORT_MAX_BYTES:
        raise cannot_open
    try:
        # data_only=False: a formula cell yields its formula text, never a computed value.
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        table, formulas, blank_run = [], [], 0
        for row in book.worksheets[0].iter_rows(max_col=MAX_COLUMNS):
            cells = []
            for cell in row:
                if cell.data_type == "f":
                    formulas.append(cell.coordinate)
                cells.append(_cell_text(cell.value))
            if not any(cells):
                blank_run += 1  # kept only if a filled row follows: sheets often end in blanks
                continue
            table.extend([[]] * blank_run)
            blank_run = 0
            table.append(cells)
            if len(table) > MAX_ROWS + 1:
                break
        book.close()
    except Exception:  # openpyxl raises many kinds (KeyError, XML and zip errors) on bad files
        raise cannot_open from None
    if formulas:
        raise ImportFileError(
            _(
                "这些单元格是公式：%(cells)s。请复制后“选择性粘贴→数值”再导入 / These cells hold "
                "formulas: %(cells)s. Paste them as values and import again"
            )
            % {"cells": ", ".join(formulas[:10]) + ("…" if len(formulas) > 10 else "")}
        )
    if not table:
        raise ImportFileError(_("文件是空的 / The file is empty"))
    return table[0], table[1:]


def _to_dataset(headers: list, rows: list[list]) -> tablib.Dataset:
    lookup = header_lookup()
    fields, unknown = [], []
    for number, header in enumerate(headers, 1):
        name = lookup.get(normalize_header(header))
        if name is None and str(header or "").strip():
            unknown.append(str(header).strip())
        elif name is None and any(number <= len(row) and row[number - 1].strip() for row in rows):
            unknown.append(_("第 %(n)d 列（无表头）/ column %(n)d (no header)") % {"n": number})
        fields.append(name)
    accepted = "、".join(header for _name, header, _aliases in COLUMNS)
    if unknown:
        raise ImportFileError(
            _(
                "无法识别的列：%(columns)s。可用的列：%(accepted)s / Unknown columns: %(columns)s. "
                "Accepted columns: %(accepted)s"
            )
            % {"columns": ", ".join(unknown), "accepted": accepted}
        )
    present = [name for name in fields if name]
    duplicated = sorted({COLUMN_NAMES[name] for name in present if present.count(name) > 1})
    if duplicated:
        raise ImportFileError(
            _("这些列出现了多次：%(columns)s / These columns appear more than once: %(columns)s")
            % {"columns": ", ".join(duplicated)}
        )
    missing = [COLUMN_NAMES[name] for name in REQUIRED_FIELDS if name not in present]
    if not any(name in present for name in PRICE_FIELDS):
        missing.append(" / ".join(COLUMN_NAMES[name] for name in PRICE_FIELDS))
    if missing:
        raise ImportFileError(
            _("缺少这些列：%(columns)s / Missing columns: %(columns)s")
            % {"columns": ", ".join(missing)}
        )
    while rows and not any(str(cell).strip() for cell in rows[-1]):
        rows.pop()  # trailing blank lines; a blank line in the middle is reported as a row error
    if not rows:
        raise ImportFileError(_("文件只有表头，没有商品行 / The file has headers but no rows"))
    if len(rows) > MAX_ROWS:
        raise ImportFileError(
            _("一次最多导入 %(max)d 行 / At most %(max)d rows can be imported at once")
            % {"max": MAX_ROWS}
        )
    overflowing = [
        str(number)
        for number, row in enumerate(rows, 2)
        if any(c.strip() for c in row[len(fields) :])
    ]
    if overflowing:
        raise ImportFileError(
            _(
                "这些行的单元格比表头多（是否有未加引号的逗号？）：第 %(rows)s 行 / "
                "These rows have more cells than the header (an unquoted comma?): %(rows)s"
            )
            % {"rows": ", ".join(overflowing[:10])}
        )
    dataset = tablib.Dataset(headers=[COLUMN_NAMES[name] for name in present])
    for row in rows:
        cells = [unescape_cell(str(cell)) for cell in row] + [""] * (len(fields) - len(row))
        dataset.append([cell for name, cell in zip(fields, cells, strict=False) if name])
    return dataset


def preview_import(batch: UploadBatch, dataset: tablib.Dataset) -> ImportPreview:
    """Dry run: every row parsed into an unsaved item with its errors. Nothing is written."""
    resource = UploadItemResource(batch=batch)
    first = next_position(batch)
    rows = []
    for index, ((item, errors), values) in enumerate(
        zip(resource.check_rows(dataset), dataset.dict, strict=True)
    ):
        item.position = first + index
        if not any(str(value).strip() for value in values.values()):
            errors = {"row": [_("空行，请删除 / Empty row: delete it")]}
        # Show (and keep, see stage_import) the cargo number generated for an empty cell.
        values = {**values, COLUMN_NAMES["cargo_number"]: item.cargo_number}
        rows.append(PreviewRow(number=index + 2, values=values, item=item, errors=errors))
    return ImportPreview(rows=rows)


def apply_import(batch: UploadBatch, dataset: tablib.Dataset) -> int:
    """Save every row as an item, in one transaction, only if every row is valid; returns the
    number of items created. Raises ImportInvalid (carrying the preview) otherwise."""
    with transaction.atomic():
        # One import at a time per batch: positions and the cargo-number checks stay true.
        batch = UploadBatch.objects.select_for_update().get(pk=batch.pk)
        check_batch_open(batch)
        preview = preview_import(batch, dataset)
        if not preview.is_valid:
            raise ImportInvalid(preview)
        UploadItem.objects.bulk_create([row.item for row in preview.rows], batch_size=500)
        refresh_batch_counts(batch)
    return len(preview.rows)


def _stash_dir():
    path = settings.DATA_DIR / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def stage_import(batch: UploadBatch, dataset: tablib.Dataset) -> tuple[ImportPreview, str]:
    """Preview the rows; when all are valid also keep them for confirm_import and return the
    signed token naming them (else an empty token). Generated cargo numbers are kept, so the
    confirmed items carry the numbers the preview showed."""
    check_batch_open(batch)
    preview = preview_import(batch, dataset)
    if not preview.is_valid:
        return preview, ""
    folder = _stash_dir()
    for old in folder.iterdir():  # previews nobody confirmed
        if old.stat().st_mtime < time.time() - STASH_MAX_AGE:
            old.unlink(missing_ok=True)
    rows = [row.values for row in preview.rows]
    name = uuid.uuid4().hex
    (folder / f"{name}.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return preview, signing.dumps({"batch": batch.pk, "file": name}, salt=STASH_SALT)


def confirm_import(batch: UploadBatch, token: str) -> int:
    """Import the rows kept by stage_import. The kept file is claimed by renaming it, so a
    double-clicked confirm imports once; it is deleted whatever happens next."""
    expired = ImportFileError(
        _(
            "这次预览已过期或已导入，请重新上传文件 / This preview has expired or was already "
            "imported: upload the file again"
        )
    )
    try:
        stash = signing.loads(token, salt=STASH_SALT, max_age=STASH_MAX_AGE)
    except signing.BadSignature:
        raise expired from None
    if stash.get("batch") != batch.pk:
        raise expired
    path = _stash_dir() / f"{uuid.UUID(hex=stash['file']).hex}.json"
    claimed = path.with_suffix(".claimed")
    try:
        path.rename(claimed)
    except FileNotFoundError:
        raise expired from None
    try:
        rows = json.loads(claimed.read_text(encoding="utf-8"))
    finally:
        claimed.unlink(missing_ok=True)
    headers = list(rows[0])
    dataset = tablib.Dataset(headers=headers)
    for row in rows:
        dataset.append([row[header] for header in headers])
    return apply_import(batch, dataset)
