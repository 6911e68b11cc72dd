"""Reading an import file: the uploaded bytes, bounded, into rows under the canonical headers.

    uploaded file ─► BoundedUploadHandler       keeps at most IMPORT_MAX_BYTES as it arrives
                  ─► check_upload_size          refused from its size, before it is read
                  ─► SpreadsheetFormat           bytes → tablib.Dataset, or Refused(code)

The preview and confirm steps that use it are catalog/publishing/importing.py.

Hostile files are bounded in time and memory (figures in tests/publishing/test_import_export.py):
the size is checked before reading; an XLSX is a zip whose members are checked (count, uncompressed
sizes) before anything is unpacked, its shared strings are counted and its first sheet's XML is
walked as a stream — row numbers (blank rows count), column letters and element count — aborting at
the first row or column past the limit, before openpyxl reads the cells it has to within those
bounds.
"""

import csv
import datetime as dt
import io
import pyexpat
import re
import tempfile
import zipfile

import tablib
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.formats.base_formats import Format

from catalog.publishing.resources import (
    COLUMN_NAMES,
    COLUMNS,
    PRICE_FIELDS,
    REQUIRED_FIELDS,
    header_lookup,
    normalize_header,
    unescape_cell,
)
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused

MAX_ROWS = 5000  # data rows; blank rows count
MAX_COLUMNS = 100
# An XLSX of at most IMPORT_MAX_BYTES unpacks to more only when it is a zip bomb: 5,000 rows of
# random Chinese titles and descriptions make a 4.1 MB file that unpacks to 8.4 MB.
MAX_UNZIPPED_BYTES = 40 * 1024 * 1024
MAX_ZIP_MEMBERS = 1000
MAX_SHARED_STRINGS = 100_000  # a full sheet of 5,000 rows uses at most 65,000
# XML elements of the first sheet: a real one has about 3 per cell (c, v, t).
MAX_SHEET_ELEMENTS = 3 * (MAX_ROWS + 1) * 20 + 10_000
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
