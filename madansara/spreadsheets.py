"""CSV written for spreadsheets: cells that a spreadsheet would run as a formula are neutralised.

OWASP's CSV injection advice: a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return
is prefixed with a single quote, so Excel, LibreOffice and Google Sheets show it as text. Plain
numbers (`-12.5`, `+50934123456`: E.164 phones) are left as they are: no spreadsheet runs anything
in them. Every CSV the product writes goes through `csv_writer` (a test checks there is no other
`csv.writer`). defusedcsv was considered: it leaves tabs and carriage returns alone and rewrites
`|` inside cells, which would break the contacts export's round trip through the import.
"""

import csv
import re
from collections.abc import Iterable

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def cell_neutralise(value: object) -> object:
    """The value a CSV cell may safely hold: a string a spreadsheet would run gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def cell_restore(value: str) -> str:
    """Undo `cell_neutralise` on a cell read back (a quote before a formula trigger is dropped)."""
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_TRIGGERS:
        return value[1:]
    return value


class _SafeWriter:
    def __init__(self, writer):
        self._writer = writer

    def writerow(self, row: Iterable[object]):
        return self._writer.writerow([cell_neutralise(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out, **options) -> _SafeWriter:
    """`csv.writer(out, **options)` whose cells are neutralised for spreadsheets."""
    return _SafeWriter(csv.writer(out, **options))
