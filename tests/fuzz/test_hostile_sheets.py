"""Sheets that claim a size no import can have are refused by their declared dimension before a
cell is read; full-width formula signs (＝ ＋ － ＠, typed with a Chinese input method) are
neutralised in exports like their ASCII twins, and import back unchanged."""

import io
import time

import openpyxl
import pytest
import tablib

from catalog.publishing.exporting import export_batch
from catalog.publishing.import_reading import MAX_COLUMNS, MAX_ROWS, parse_upload_bytes
from catalog.publishing.resources import escape_cell, unescape_cell
from erp1688.refusal_codes import RefusalCode
from erp1688.refusals import Refused
from tests.factories import UploadBatchFactory, UploadItemFactory
from tests.publishing.test_import_export import _read, bomb, repeated


def _measured(data: bytes):
    started = time.perf_counter()
    outcome = _read(data)
    return outcome, time.perf_counter() - started


@pytest.mark.parametrize(
    ("dimension", "code"),
    [
        (b"A1:XFD1", "import.too_many_columns"),  # the real maximum: 16,384 columns
        (b"A1:ZZZ1", "import.too_many_columns"),  # beyond it: 18,278
        (b"A1:CW2", "import.too_many_columns"),  # one past the limit (101)
        (b"$A$1:$XFD$2", "import.too_many_columns"),
        (b"A1:M5002", "import.too_many_rows"),
        (b"A1:XFD1048576", "import.too_many_rows"),
    ],
)
@pytest.mark.exclusive  # timed: no other test may share the cores
def test_a_sheet_declaring_too_many_rows_or_columns_is_refused_by_its_claim(
    dimension, code, scoreboard
):
    scoreboard.hostile()
    outcome, seconds = _measured(bomb([], dimension=dimension))
    assert isinstance(outcome, Refused) and outcome.code == code
    assert seconds < 0.5


@pytest.mark.exclusive  # timed: no other test may share the cores
def test_a_million_columns_behind_a_wide_claim_cost_no_parsing(scoreboard):
    """The probe's sheet: a million cells in one row behind `A1:XFD1` (a 109 KB file cost 21.5 s
    of CPU). Refused by the claim, before the first cell."""
    scoreboard.hostile()
    cells = repeated(b'<c t="inlineStr"><is><t>x</t></is></c>', 1_000_000)
    data = bomb([b'<row r="3">', *cells, b"</row>"], dimension=b"A1:XFD1")
    outcome, seconds = _measured(data)
    print(f"\n{len(data) / 1024:.0f} KB, a million columns: refused in {seconds * 1000:.1f} ms")
    assert isinstance(outcome, Refused) and outcome.code == RefusalCode.IMPORT_TOO_MANY_COLUMNS
    assert seconds < 0.5


def test_claims_within_the_limits_are_read_as_what_the_sheet_holds():
    last_column = openpyxl.utils.get_column_letter(MAX_COLUMNS).encode()
    for claim in (b"A1", b"A1:M2", b"A1:" + last_column + str(MAX_ROWS + 1).encode()):
        outcome, _seconds = _measured(bomb([], dimension=claim))
        assert isinstance(outcome, tablib.Dataset) and len(outcome) == 1, claim


FULL_WIDTH = ['＝HYPERLINK("http://evil.example")', "＋1", "－1+2", "＠SUM(A1)"]


@pytest.mark.parametrize("text", FULL_WIDTH)
def test_full_width_formula_signs_are_neutralised_like_ascii_ones(text, scoreboard):
    scoreboard.hostile()
    assert escape_cell(text) == "'" + text
    assert unescape_cell(escape_cell(text)) == text
    assert escape_cell("标题＝不是公式") == "标题＝不是公式"  # only at the start


@pytest.mark.django_db
def test_an_export_escapes_full_width_signs_and_imports_back_unchanged():
    batch = UploadBatchFactory()
    UploadItemFactory(batch=batch, title=FULL_WIDTH[0], unit="＠件")
    text = export_batch(batch, "csv").decode("utf-8-sig")
    assert "'＝HYPERLINK(" in text and ",'＠件," in text
    xlsx = export_batch(batch, "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    assert sheet["A2"].value.startswith("'＝HYPERLINK")
    for data in (xlsx, text.encode("utf-8")):
        dataset = parse_upload_bytes(data)
        assert dataset.dict[0][dataset.headers[0]] == FULL_WIDTH[0]
