"""Importing upload items: one pipeline (django-import-export's) behind staff pages and admin.

    uploaded file ─► BoundedUploadHandler       keeps at most IMPORT_MAX_BYTES as it arrives
                  ─► check_upload_size          refused from its size, before it is read
                  ─► SpreadsheetFormat           bytes → tablib.Dataset, or Refused(code)
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

Hostile files are bounded in time and memory (figures in tests/test_import_export.py): the size is
checked before reading; an XLSX is a zip whose members are checked (count, uncompressed sizes)
before anything is unpacked, its shared strings are counted and its first sheet's XML is walked
as a stream — row numbers (blank rows count), column letters and element count — aborting at the
first row or column past the limit, before openpyxl reads the cells it has to within those bounds.
"""

import csv
import datetime as dt
import io
import pyexpat
import re
import tempfile
import uuid
import zipfile
import zlib
from dataclasses import dataclass, field

import django_rq
import tablib
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.formats.base_formats import Format
from import_export.results import Result
from import_export.tmp_storages import BaseStorage
from redis.exceptions import RedisError

from catalog.models import UploadBatch, new_cargo_number
from catalog.publishing.resources import (
    COLUMN_NAMES,
    COLUMNS,
    PRICE_FIELDS,
    REQUIRED_FIELDS,
    UploadItemResource,
    header_lookup,
    normalize_header,
    unescape_cell,
)
from catalog.publishing.staging import check_batch_open
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused, require

IMPORT_PERMISSION = "catalog.add_uploaditem"
MAX_ROWS = 5000  # data rows; blank rows count
MAX_COLUMNS = 100
# An XLSX of at most IMPORT_MAX_BYTES unpacks to more only when it is a zip bomb: 5,000 rows of
# random Chinese titles and descriptions make a 4.1 MB file that unpacks to 8.4 MB.
MAX_UNZIPPED_BYTES = 40 * 1024 * 1024
MAX_ZIP_MEMBERS = 1000
MAX_SHARED_STRINGS = 100_000  # a full sheet of 5,000 rows uses at most 65,000
# XML elements of the first sheet: a real one has about 3 per cell (c, v, t).
MAX_SHEET_ELEMENTS = 3 * (MAX_ROWS + 1) * 20 + 10_000
# How long a preview waits for its confirmation (setting IMPORT_PREVIEW_SECONDS overrides).
PREVIEW_SECONDS = 3600
XLSX_MAGIC = b"PK\x03\x04"
OLD_XLS_MAGIC = b"\xd0\xcf\x11\xe0"
# The column the file of rows left out adds (catalog/publishing/import_partial.py); ignored on
# re-import.
REASON_HEADER = "错误原因 Reason"
REASON_HEADERS = {normalize_header(name) for name in (REASON_HEADER, "错误原因", "Reason")}
CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")


# --- reading a file: the one Format ---------------------------------------------------------


def _too_large() -> Refused:
    return Refused(
        RefusalCode.IMPORT_TOO_LARGE,
        gettext_lazy("The file is larger than %(mb)s MB."),
        params={"mb": f"{settings.IMPORT_MAX_BYTES / 1024 / 1024:g}"},
    )


def _not_a_spreadsheet() -> Refused:
    return Refused(
        RefusalCode.IMPORT_NOT_A_SPREADSHEET,
        gettext_lazy("This XLSX file cannot be opened; it may be damaged."),
    )


def _empty() -> Refused:
    return Refused(RefusalCode.IMPORT_EMPTY, gettext_lazy("The file is empty."))


def _too_many_rows() -> Refused:
    return Refused(
        RefusalCode.IMPORT_TOO_MANY_ROWS,
        gettext_lazy(
            "At most %(max)d rows can be imported at once (blank rows count: delete them)."
        ),
        params={"max": MAX_ROWS},
    )


def _too_many_columns() -> Refused:
    return Refused(
        RefusalCode.IMPORT_TOO_MANY_COLUMNS,
        gettext_lazy("The sheet uses more than %(max)d columns: delete the columns on the right."),
        params={"max": MAX_COLUMNS},
    )


def _upload_limit() -> int:
    return max(getattr(settings, "UPLOAD_MAX_BYTES", 0), settings.IMPORT_MAX_BYTES)


class OversizedUpload(UploadedFile):
    """What BoundedUploadHandler hands the form for a file past UPLOAD_MAX_BYTES: its name and
    the bytes counted, no content. Forms refuse it from its size (check_upload_size here)."""

    def __init__(self, name: str, size: int):
        super().__init__(io.BytesIO(), name=name, size=size)


class BoundedUploadHandler(FileUploadHandler):
    """The upload handler (FILE_UPLOAD_HANDLERS): keeps at most UPLOAD_MAX_BYTES of a file (the
    largest any form accepts) — in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE, beyond that in an
    anonymous temporary file (no name in any folder; gone when closed) — and drops the rest as
    it arrives. A 50 MB file is neither kept nor written anywhere: the form gets an
    OversizedUpload and refuses it from its size (import.too_large for an import). Django's own
    handlers write the whole file to a named temporary file first."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0
        # Closed with the request (HttpRequest.close closes every uploaded file).
        self.kept = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE
        )
        raise StopFutureHandlers  # this handler keeps the file; no other one is needed

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received <= _upload_limit():
            self.kept.write(raw_data)
        elif not self.kept.closed:
            self.kept.close()  # past the limit: nothing kept from here on
        return None

    def file_complete(self, file_size):
        if self.received > _upload_limit():
            return OversizedUpload(self.file_name, self.received)
        self.kept.seek(0)
        return UploadedFile(
            self.kept,
            name=self.file_name,
            content_type=self.content_type,
            size=self.received,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )


def check_upload_size(upload) -> None:
    """Refuse an uploaded file over IMPORT_MAX_BYTES from its size alone, before reading it."""
    size = getattr(upload, "size", None)
    if size is None or size > settings.IMPORT_MAX_BYTES:
        raise _too_large()


def read_upload(upload) -> bytes:
    """The uploaded file's bytes (at most IMPORT_MAX_BYTES, else Refused), read once."""
    check_upload_size(upload)
    upload.seek(0)
    data = upload.read(settings.IMPORT_MAX_BYTES + 1)
    if len(data) > settings.IMPORT_MAX_BYTES:
        raise _too_large()
    return data


class SpreadsheetFormat(Format):
    """CSV (UTF-8, UTF-8 with BOM, UTF-16 with BOM, GBK/GB18030) or XLSX, told apart by content.

    The one place where an import file is read: encodings, size, row and column limits, zip-bomb
    checks, formula refusal, header names. create_dataset returns the rows as text cells under
    the canonical headers, or raises Refused with a stable code.
    """

    def __init__(self, encoding=None):
        self.encoding = encoding

    def get_title(self):
        return "csv / xlsx"

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def can_import(self):
        return True

    def can_export(self):
        return False

    def create_dataset(self, in_stream, **kwargs) -> tablib.Dataset:
        return _to_dataset(*read_table(in_stream))


def read_table(in_stream) -> tuple[list, list[list]]:
    """The file's header row and rows as text cells, in the file's own layout."""
    from catalog.publishing.import_partial import refuse_other_file_types

    data = in_stream if isinstance(in_stream, bytes) else bytes(in_stream or b"")
    if len(data) > settings.IMPORT_MAX_BYTES:
        raise _too_large()
    if not data.strip():
        raise _empty()
    refuse_other_file_types(data)
    if data.startswith(XLSX_MAGIC):
        headers, rows = _read_xlsx(data)
    elif data.startswith(OLD_XLS_MAGIC):
        raise Refused(
            RefusalCode.IMPORT_NOT_A_SPREADSHEET,
            gettext_lazy(
                "Old .xls files and password-protected files are not supported: save as "
                ".xlsx or CSV without a password."
            ),
        )
    else:
        headers, rows = _read_csv(_decode(data))
    return headers, rows


def _decode(data: bytes) -> str:
    bad_encoding = Refused(
        RefusalCode.IMPORT_BAD_ENCODING,
        gettext_lazy(
            "Unrecognised file: upload a CSV (UTF-8, UTF-16 or GBK) or an XLSX. A CSV saved as "
            "“Unicode text” needs its byte order mark."
        ),
    )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with its byte order mark
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise bad_encoding from None
        candidates = [text]
    elif b"\x00" in data:  # text never holds NUL bytes; binary files (and BOM-less UTF-16) do
        raise bad_encoding
    else:
        candidates = []
        for encoding in ("utf-8-sig", "gb18030"):  # GB18030 is a superset of GBK and GB2312
            try:
                candidates.append(data.decode(encoding))
                break
            except UnicodeDecodeError:
                continue
    for text in candidates:
        if not any(ord(c) < 32 and c not in "\t\r\n" for c in text):
            return text
    raise bad_encoding


def _read_csv(text: str) -> tuple[list, list[list]]:
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    table = []
    try:
        for cells in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            if len(cells) > MAX_COLUMNS:
                raise _too_many_columns()
            table.append(cells)
            if len(table) > MAX_ROWS + 1:  # the header row plus MAX_ROWS, blank lines included
                raise _too_many_rows()
    except csv.Error as error:
        raise Refused(
            RefusalCode.IMPORT_BAD_CSV,
            gettext_lazy("Malformed CSV: %(error)s"),
            params={"error": str(error)[:200]},
        ) from None
    if not table:
        raise _empty()
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


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def _check_zip(archive: zipfile.ZipFile) -> None:
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise _not_a_spreadsheet()
    if sum(member.file_size for member in members) > MAX_UNZIPPED_BYTES:
        raise Refused(
            RefusalCode.IMPORT_TOO_LARGE,
            gettext_lazy(
                "This XLSX file unpacks to more than %(mb)d MB: it is not an ordinary sheet."
            ),
            params={"mb": MAX_UNZIPPED_BYTES // 1024 // 1024},
        )


def _scan(archive: zipfile.ZipFile, path: str, on_element) -> None:
    """Stream the XML member `path` through expat, calling `on_element(local name, attributes)`
    for each element start; it raises to stop early. No element tree is built (the count of a
    bomb costs no memory), and a DTD — where entity tricks live; no sheet has one — is refused."""
    parser = pyexpat.ParserCreate(namespace_separator=" ")

    def refuse_dtd(*_args):
        raise _not_a_spreadsheet()

    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    parser.StartElementHandler = lambda name, attributes: on_element(
        name.rpartition(" ")[2], attributes
    )
    with archive.open(path) as source:
        while chunk := source.read(256 * 1024):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)


def _not_ordinary() -> Refused:
    return Refused(
        RefusalCode.IMPORT_TOO_LARGE,
        gettext_lazy("This XLSX file holds far more than a sheet of %(max)d rows can."),
        params={"max": MAX_ROWS},
    )


def _count_shared_strings(archive: zipfile.ZipFile, path: str) -> None:
    count = 0

    def on_element(name, _attributes):
        nonlocal count
        if name == "si":
            count += 1
            if count > MAX_SHARED_STRINGS:
                raise _not_ordinary()

    _scan(archive, path, on_element)


def _check_claimed_dimension(reference: str) -> None:
    """Refuse a sheet that declares more rows or columns than can be imported (`A1:XFD1`
    claims 16,384 columns); an unreadable claim is ignored."""
    last = reference.rpartition(":")[2].replace("$", "").upper()
    match = re.match(r"^([A-Z]{1,3})(\d{1,7})$", last)
    if not match:
        return
    if int(match[2]) > MAX_ROWS + 1:
        raise _too_many_rows()
    if _column_number(match[1]) > MAX_COLUMNS:
        raise _too_many_columns()


def _measure_sheet(archive: zipfile.ZipFile, path: str) -> tuple[int, int]:
    """Walk the sheet's XML as a stream and return (last row number, last column number).

    Row numbers come from `<row r>` (a row without one follows the previous), so blank rows and
    gaps count. Column numbers come from `<c r>` (a cell without one follows the previous).
    Stops at the first row or column past the limits, before the rest is parsed. The
    `<dimension ref>` (it comes before the cells) is a claim: one beyond the limits is refused
    at once, one within them is not trusted to be true.
    """
    state = {"elements": 0, "row": 0, "column": 0, "last_row": 0, "last_column": 0}

    def on_element(name, attributes):
        state["elements"] += 1
        if state["elements"] > MAX_SHEET_ELEMENTS:
            raise _not_ordinary()
        if name == "dimension":
            _check_claimed_dimension(attributes.get("ref", ""))
        elif name == "row":
            reference = attributes.get("r", "")
            state["row"] = int(reference) if reference.isdigit() else state["row"] + 1
            state["column"] = 0
            if state["row"] > MAX_ROWS + 1:
                raise _too_many_rows()
            state["last_row"] = max(state["last_row"], state["row"])
        elif name == "c":
            match = CELL_REF.match(attributes.get("r", ""))
            state["column"] = _column_number(match[1]) if match else state["column"] + 1
            if state["column"] > MAX_COLUMNS:
                raise _too_many_columns()
            state["last_column"] = max(state["last_column"], state["column"])

    _scan(archive, path, on_element)
    return state["last_row"], state["last_column"]


def _read_xlsx(data: bytes) -> tuple[list, list[list]]:
    from openpyxl.reader.excel import SHARED_STRINGS, ExcelReader

    try:
        reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, ValueError, OSError, KeyError, EOFError):
        raise _not_a_spreadsheet() from None
    try:
        _check_zip(reader.archive)
        reader.read_manifest()
        strings = reader.package.find(SHARED_STRINGS)
        if strings is not None:
            _count_shared_strings(reader.archive, strings.PartName.lstrip("/"))
        reader.read()  # workbook, styles and the (counted) shared strings; no cell yet
        sheet = reader.wb.worksheets[0]
        last_row, last_column = _measure_sheet(reader.archive, sheet._worksheet_path)
        table, formulas = [], []
        if last_row:
            # Explicit bounds: openpyxl would otherwise pad up to the sheet's claimed dimension.
            for row in sheet.iter_rows(min_row=1, max_row=last_row, max_col=max(last_column, 1)):
                cells = []
                for cell in row:
                    if cell.data_type == "f":
                        formulas.append(cell.coordinate)
                    cells.append(_cell_text(cell.value))
                table.append(cells)
    except Refused:
        raise
    except Exception:  # openpyxl and zipfile raise many kinds (KeyError, XML, zip errors)
        raise _not_a_spreadsheet() from None
    finally:
        reader.archive.close()
    if formulas:
        raise Refused(
            RefusalCode.IMPORT_FORMULAS,
            gettext_lazy(
                "These cells hold formulas: %(cells)s. Paste them as values and import again."
            ),
            params={"cells": ", ".join(formulas[:10]) + ("…" if len(formulas) > 10 else "")},
        )
    if not table:
        raise _empty()
    return table[0], table[1:]


def _bad_headers(message, **params) -> Refused:
    return Refused(RefusalCode.IMPORT_BAD_HEADERS, message, params=params)


def _to_dataset(headers: list, rows: list[list]) -> tablib.Dataset:
    lookup = header_lookup()
    fields, unknown = [], []
    for number, header in enumerate(headers, 1):
        name = lookup.get(normalize_header(header))
        if normalize_header(header) in REASON_HEADERS:  # our file of rows left out, fixed
            fields.append(None)
            continue
        if name is None and str(header or "").strip():
            unknown.append(str(header).strip()[:100])
        elif name is None and any(number <= len(row) and row[number - 1].strip() for row in rows):
            unknown.append(_("column %(n)d (no header)") % {"n": number})
        fields.append(name)
    accepted = "、".join(header for _name, header, _aliases in COLUMNS)
    if unknown:
        raise _bad_headers(
            gettext_lazy("Unknown columns: %(columns)s. Accepted columns: %(accepted)s"),
            columns=", ".join(unknown[:20]),
            accepted=accepted,
        )
    present = [name for name in fields if name]
    duplicated = sorted({COLUMN_NAMES[name] for name in present if present.count(name) > 1})
    if duplicated:
        raise _bad_headers(
            gettext_lazy("These columns appear more than once: %(columns)s"),
            columns=", ".join(duplicated),
        )
    missing = [COLUMN_NAMES[name] for name in REQUIRED_FIELDS if name not in present]
    if not any(name in present for name in PRICE_FIELDS):
        missing.append(" / ".join(COLUMN_NAMES[name] for name in PRICE_FIELDS))
    if missing:
        raise _bad_headers(gettext_lazy("Missing columns: %(columns)s"), columns=", ".join(missing))
    if len(rows) > MAX_ROWS:  # blank rows count: they were read, too
        raise _too_many_rows()
    while rows and not any(str(cell).strip() for cell in rows[-1]):
        rows.pop()  # trailing blank lines; a blank line in the middle is reported as a row error
    if not rows:
        raise Refused(RefusalCode.IMPORT_EMPTY, gettext_lazy("The file has headers but no rows."))
    overflowing = [
        str(number)
        for number, row in enumerate(rows, 2)
        if any(str(c).strip() for c in row[len(fields) :])
    ]
    if overflowing:
        raise Refused(
            RefusalCode.IMPORT_BAD_ROWS,
            gettext_lazy(
                "These rows have more cells than the header (an unquoted comma?): %(rows)s"
            ),
            params={"rows": ", ".join(overflowing[:10])},
        )
    dataset = tablib.Dataset(headers=[COLUMN_NAMES[name] for name in present])
    for row in rows:
        cells = [unescape_cell(str(cell)) for cell in row] + [""] * (len(fields) - len(row))
        dataset.append([cell for name, cell in zip(fields, cells, strict=False) if name])
    return dataset


def parse_upload_bytes(data: bytes) -> tablib.Dataset:
    """The file's rows as text cells under the canonical headers, or Refused."""
    return SpreadsheetFormat().create_dataset(data)


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
