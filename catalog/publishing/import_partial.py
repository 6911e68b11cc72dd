"""An import keeps its good rows: the valid rows are kept for the confirm step, the rows with
errors are given back as an XLSX in the file's own layout (its headers, its column order) with a
reason column, ready to be fixed and imported again (the reason column is ignored then).

Also: a file that is plainly not a spreadsheet (a PDF, a picture) is named as what it is, instead
of being read as a CSV whose first line becomes "unknown columns".
"""

import base64
import io
import json

import openpyxl
import tablib
from django.utils.translation import gettext_lazy

from catalog.publishing.resources import escape_cell
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused

# Leading bytes of files staff upload by mistake → what to call them.
OTHER_FILE_TYPES = [
    (b"%PDF-", gettext_lazy("a PDF document")),
    (b"\x89PNG", gettext_lazy("a picture (PNG)")),
    (b"\xff\xd8\xff", gettext_lazy("a picture (JPEG)")),
    (b"GIF8", gettext_lazy("a picture (GIF)")),
    (b"{\\rtf", gettext_lazy("a Word (RTF) document")),
    (b"Rar!", gettext_lazy("a RAR archive")),
    (b"\x1f\x8b", gettext_lazy("a compressed (gzip) file")),
    (b"7z\xbc\xaf", gettext_lazy("a 7-Zip archive")),
]


def refuse_other_file_types(data: bytes) -> None:
    """Refused `import.wrong_file_type` for a file whose first bytes say it is no spreadsheet."""
    head = data[:16]
    kind = next((name for magic, name in OTHER_FILE_TYPES if head.startswith(magic)), None)
    if kind is None and head[8:12] == b"WEBP" and head.startswith(b"RIFF"):
        kind = gettext_lazy("a picture (WebP)")
    if kind is not None:
        raise Refused(
            RefusalCode.IMPORT_WRONG_FILE_TYPE,
            gettext_lazy(
                "This file is %(kind)s, not a spreadsheet: upload the items as an XLSX or CSV "
                "file (download the template to see the columns)."
            ),
            params={"kind": kind},
        )


def keep_rows(preview, dataset: tablib.Dataset, data: bytes, *, batch, user) -> None:
    """Keep the valid rows for confirm_import (`preview.name`) and the rows with errors as a
    file to download (`preview.rejects_name`)."""
    from catalog.publishing.importing import ImportStorage, _dump

    valid = tablib.Dataset(headers=dataset.headers)
    for row, values in zip(preview.rows, dataset, strict=True):
        if row.is_valid:
            valid.append(values)
    if len(valid):
        storage = ImportStorage()
        storage.save(_dump(batch, user, valid))
        preview.name = storage.name
    if preview.invalid_count:
        payload = {"batch": batch.pk, "user": user.pk, "xlsx": _rejects_xlsx(preview, data)}
        storage = ImportStorage()
        storage.save(json.dumps(payload).encode())
        preview.rejects_name = storage.name


def _rejects_xlsx(preview, data: bytes) -> str:
    """The rows with errors under the file's own header row, a reason column last (base64)."""
    from catalog.publishing.import_reading import REASON_HEADER, read_table

    headers, rows = read_table(data)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([escape_cell(str(h or "")) for h in headers] + [REASON_HEADER])
    for row in preview.rows:
        if row.is_valid:
            continue
        cells = list(rows[row.number - 2]) if 0 <= row.number - 2 < len(rows) else []
        cells += [""] * (len(headers) - len(cells))
        reason = "；".join(str(message) for message in row.messages)
        sheet.append([escape_cell(str(c or "")) for c in cells[: len(headers)]] + [reason])
    out = io.BytesIO()
    book.save(out)
    return base64.b64encode(out.getvalue()).decode()


def rejects_file(*, user, batch, name: str) -> bytes:
    """The XLSX of rows left out by a preview of this batch by this user; Refused (expired)."""
    from catalog.publishing.importing import ImportStorage, _expired

    payload = json.loads(ImportStorage(name=name).read())
    if payload.get("batch") != batch.pk or payload.get("user") != user.pk:
        raise _expired()
    return base64.b64decode(payload["xlsx"])
