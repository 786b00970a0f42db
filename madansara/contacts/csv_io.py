"""CSV import of contacts: upsert by external_id or identity, each bad row refused on its own (with
its line), the others written; and the export that the import reads back.

Reading the file: the encoding is found (UTF-8 with or without BOM, UTF-16 with BOM, otherwise
charset-normalizer for non-Latin scripts and cp1252 — Excel's — or Latin-1 for the rest), the
delimiter too (`,` `;` tab `|`: the one whose header names the most known columns). A cell that the
export neutralised for spreadsheets (`'=…`) is read back as it was. Blank rows are skipped.

Per row: a bad value, a value that an earlier row of the file already used, or a conflict with
stored contacts refuses that row only. A conflict is a row that matches two contacts, or that
matches a contact by one identity and carries another value for an identity (or external_id) the
contact already has: nothing of it is written (a phone match does not overwrite an e-mail). A row
matched by its external_id may change the contact's identities (the caller's own key). A matched
row that changes nothing is counted "unchanged" and not written.

Two paths give the same report. PostgreSQL: the file is streamed with COPY into a temporary table,
normalised, validated and matched in set-based SQL, and written with a fixed number of statements;
only odd values (non-ASCII e-mails, phones not written as +digits, numbers whose validity depends
on a region's leading digits) go through the Python validators, so the verdicts are the ones of
Django's e-mail validator and libphonenumber (its metadata patterns run in SQL for the rest:
`madansara.contacts.phones`). A file COPY cannot read (rows with more cells than the header, blank lines
between rows) goes the portable way. Elsewhere: batches of cleaned rows through
`contacts_upsert_cleaned` (bulk queries). SQL is composed from a fixed column map (fields and
channels are code constants; the file's columns are c0…cN) and every value, attribute names
included, goes in as a literal quoted by psycopg.
"""

import codecs
import csv
import io
import json
import re
import unicodedata
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from charset_normalizer import from_bytes
from django.db import DataError, connection, transaction
from django.utils import timezone
from psycopg import sql

from madansara.choices import Channel
from madansara.contacts.models import (
    ConsentEvent,
    ConsentStatus,
    Contact,
    ContactConsent,
    ContactIdentity,
    LifecycleStage,
    Tag,
)
from madansara.contacts.phones import e164_rule_rows
from madansara.contacts.selectors import contacts_for_export
from madansara.contacts.services import (
    FIELD_LIMITS,
    IDENTITY_MAX_LENGTH,
    UpsertStatus,
    contact_input_clean,
    contacts_upsert_cleaned,
    identities_stored,
    identity_clean,
)
from madansara.spreadsheets import cell_restore, csv_writer

SCALAR_FIELDS = ("external_id", "name", "timezone", "locale", "lifecycle_stage", "tags")
IDENTITY_FIELDS = tuple(Channel.values)
CONSENT_PREFIX = "consent_"
ATTRIBUTE_PREFIX = "attr_"
ATTRIBUTE_KEY = re.compile(r"\w[\w .\-]{0,63}")
ALIASES = {"phone": Channel.SMS.value, "mobile": Channel.SMS.value, "full_name": "name", "stage": "lifecycle_stage"}
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "a tab", "|": "'|'"}
WHITESPACE = "".join(ch for ch in map(chr, range(0x110000)) if ch.isspace())  # what str.strip() removes
E164_SHAPE = r"^\+[1-9][0-9]{6,14}$"
# e-mails this accepts, Django's validator accepts too: ASCII dot-atom @ ASCII host names, letter TLD,
# 65 characters at most (so no label is over 63); a flat pattern (PostgreSQL's regex engine is slow on
# nested groups) and LIKEs for the dot and dash rules. The rest go to the validator itself.
EMAIL_FAST = r"^[-A-Za-z0-9_.+]+@[-A-Za-z0-9.]+[.][A-Za-z][A-Za-z]+$"
EMAIL_FAST_NOT = ("%..%", "%.@%", "%@.%", "%@-%", "%-.%", "%.-%", ".%")
BATCH_SIZE = 1000
TEMP_TABLES = ("import_stage", "import_norm", "import_error", "import_rows", "import_tags", "import_fix",
               "import_phone_rule", "import_changed", "import_valid")  # fmt: skip


@dataclass
class ImportReport:
    rows: int = 0  # data rows read (blank rows are skipped)
    created: int = 0
    updated: int = 0
    unchanged: int = 0  # matched contacts the row leaves as they are (nothing written)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, message): bad values, not imported
    conflicts: list[tuple[int, str]] = field(default_factory=list)  # (line, message): clash with stored contacts
    encoding: str = ""
    delimiter: str = ","

    @property
    def rejected(self) -> int:
        """Rows not imported (a row with several problems counts once)."""
        return len({line for line, _ in self.errors}) + len({line for line, _ in self.conflicts})

    @property
    def ok(self) -> bool:
        return not self.errors and not self.conflicts

    def summary(self) -> str:
        error_rows, conflict_rows = len({line for line, _ in self.errors}), len({line for line, _ in self.conflicts})
        return (
            f"{self.rows} rows: {self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.rejected} rejected ({error_rows} with errors, {conflict_rows} conflicts)"
        )

    def _sort(self) -> None:
        self.errors.sort()
        self.conflicts.sort()


def parse_mapping(spec: str | None) -> dict[str, str]:
    """`email=E-mail,name=Full name` -> {"email": "E-mail", "name": "Full name"}."""
    mapping = {}
    for pair in filter(None, (p.strip() for p in (spec or "").split(","))):
        target, sep, column = pair.partition("=")
        if not sep or not target.strip() or not column.strip():
            raise ValueError(f"Bad mapping '{pair}': expected field=Column.")
        mapping[_field_name(target)] = column.strip()
    return mapping


def _field_name(name: str) -> str:
    name = name.strip()
    if name.lower().startswith(ATTRIBUTE_PREFIX):
        return ATTRIBUTE_PREFIX + name[len(ATTRIBUTE_PREFIX) :].strip()  # attribute names keep their case
    key = name.lower().replace(" ", "_").replace("-", "_")
    return ALIASES.get(key, key)


def _is_field(name: str) -> bool:
    return name in SCALAR_FIELDS or name in IDENTITY_FIELDS or name.startswith((CONSENT_PREFIX, ATTRIBUTE_PREFIX))


def resolve_columns(header: list[str], mapping: dict[str, str]) -> dict[str, int]:
    """Field -> column index: explicit mapping first, then headers named like a field."""
    columns: dict[str, int] = {}
    for index, column in enumerate(header):
        name = _field_name(column)
        if _is_field(name):
            columns.setdefault(name, index)
    for target, column in mapping.items():
        if column not in header:
            raise ValueError(f"Column '{column}' (mapped to {target}) is not in the file's header.")
        if not _is_field(target):
            raise ValueError(f"Unknown field '{target}'.")
        columns[target] = header.index(column)
    for name in columns:
        if name.startswith(CONSENT_PREFIX) and name[len(CONSENT_PREFIX) :] not in Channel.values:
            raise ValueError(
                f"Unknown consent channel in '{name}': expected consent_ and one of {', '.join(Channel.values)}."
            )
        if name.startswith(ATTRIBUTE_PREFIX) and not ATTRIBUTE_KEY.fullmatch(name[len(ATTRIBUTE_PREFIX) :]):
            raise ValueError(
                f"Column '{name}': an attribute name (after '{ATTRIBUTE_PREFIX}') is 1 to 64 letters, digits, "
                "spaces, '_', '-' or '.', starting with a letter or digit."
            )
    if not any(name in columns for name in (*IDENTITY_FIELDS, "external_id")):
        expected = ", ".join((*IDENTITY_FIELDS, "phone", "mobile", "external_id"))
        raise ValueError(
            f"Could not find an identity column: expected one of {expected}; found columns: "
            f'{", ".join(header) or "(none)"}. Rename a column or map one, e.g. --map "email=E-mail address".'
        )
    return columns


# --- reading the file -------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvFile:
    path: Path
    encoding: str
    delimiter: str
    header: list[str]

    def open(self):
        return open(self.path, newline="", encoding=self.encoding)

    def reader(self, handle):
        return csv.reader(handle, delimiter=self.delimiter)


def csv_file_read(path: str | Path) -> CsvFile:
    """The file's encoding, delimiter and header (ValueError if it has no header)."""
    path = Path(path)
    with open(path, "rb") as handle:
        if handle.read(4) in (b"PK\x03\x04", b"\xd0\xcf\x11\xe0"):  # xlsx (zip) or xls (OLE2)
            raise ValueError(
                "This is a spreadsheet workbook, not a CSV file: save it as CSV first "
                "(in Excel: File > Save As > CSV UTF-8 (Comma delimited))."
            )
    encoding = _encoding(path)
    with open(path, newline="", encoding=encoding) as handle:
        sample = handle.read(1 << 16)
    delimiter = max(DELIMITERS, key=lambda candidate: _delimiter_score(sample, candidate))
    header = next(csv.reader(io.StringIO(sample), delimiter=delimiter), None)
    if not header or not any(cell.strip() for cell in header):
        raise ValueError("The file is empty: its first line should name the columns (e.g. email,name).")
    return CsvFile(path, encoding, delimiter, [cell.strip() for cell in header])


def _encoding(path: Path) -> str:
    with open(path, "rb") as handle:
        start = handle.read(4)
        if start.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError as exc:
            sample = chunk[max(0, exc.start - (1 << 15)) : exc.start + (1 << 15)]
    # charset-normalizer tells scripts apart well, but not Western code pages on a few words (it reads
    # an Excel 'è' as cp1250 'č'): it is followed when it finds a non-Latin script, else cp1252
    guess = from_bytes(sample).best()
    if guess is not None and not guess.encoding.startswith("utf") and _non_latin(str(guess)):
        return guess.encoding
    try:
        with open(path, encoding="cp1252") as handle:
            while handle.read(1 << 20):
                pass
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"  # the five bytes cp1252 leaves undefined


def _non_latin(text: str) -> bool:
    return any(ch.isalpha() and not unicodedata.name(ch, "").startswith("LATIN") for ch in text if ord(ch) > 127)


def _delimiter_score(sample: str, delimiter: str) -> tuple[int, int, bool]:
    header = next(csv.reader(io.StringIO(sample), delimiter=delimiter), [])
    known = sum(_is_field(_field_name(cell)) for cell in header)
    return known, len(header), delimiter == ","


def _records(csv_file: CsvFile) -> Iterator[tuple[int, list[str]]]:
    """Every data record with the file line it starts on (blank lines give empty records)."""
    with csv_file.open() as handle:
        reader = csv_file.reader(handle)
        next(reader, None)
        end = reader.line_num
        for row in reader:
            start, end = end + 1, reader.line_num
            yield start, row


def _cell(value: str) -> str:
    return cell_restore(value).strip()


def _blank(row: list[str]) -> bool:
    return not any(cell.strip() for cell in row)


# --- import ------------------------------------------------------------------------------------


def contacts_import_csv(
    *,
    path: str | Path,
    mapping: dict[str, str] | None = None,
    batch_size: int = BATCH_SIZE,
    source: str = "import",
    progress: Callable[[str], None] | None = None,
    use_copy: bool | None = None,
) -> ImportReport:
    """Import a CSV file with a header row; see the module docstring. ValueError for a file it cannot use."""
    progress = progress or (lambda message: None)
    csv_file = csv_file_read(path)
    columns = resolve_columns(csv_file.header, mapping or {})
    progress(f"reading {csv_file.encoding}, columns separated by {DELIMITER_NAMES[csv_file.delimiter]}")
    if use_copy is None:
        use_copy = connection.vendor == "postgresql"
    if use_copy:
        report = _import_postgres(csv_file, columns, source, progress)
        if report is not None:
            return report
    return _import_batched(csv_file, columns, batch_size, source, progress)


# --- portable path ------------------------------------------------------------------------------


def _row_item(row: list[str], columns: dict[str, int]) -> dict:
    item: dict = {"identities": {}, "consents": {}, "attributes": {}}
    for name, index in columns.items():
        value = _cell(row[index]) if index < len(row) else ""
        if not value:
            continue  # an empty cell leaves the stored value as it is
        if name in IDENTITY_FIELDS:
            item["identities"][name] = value
        elif name.startswith(CONSENT_PREFIX):
            item["consents"][name[len(CONSENT_PREFIX) :]] = value.lower()
        elif name.startswith(ATTRIBUTE_PREFIX):
            item["attributes"][name[len(ATTRIBUTE_PREFIX) :]] = value
        else:
            item[name] = value
    return item


def _shape_problem(row: list[str], csv_file: CsvFile) -> str | None:
    width = len(csv_file.header)
    if len(row) > width and not _blank(row[width:]):
        return (
            f"{len(row)} cells, but the header has {width}: a value containing "
            f"{DELIMITER_NAMES[csv_file.delimiter]} must be in double quotes."
        )
    return None


def _import_batched(csv_file, columns, batch_size, source, progress) -> ImportReport:
    report = ImportReport(encoding=csv_file.encoding, delimiter=csv_file.delimiter)
    first_line: dict[tuple[str, str], int] = {}  # identity or external_id -> first line using it
    records = ((line, row) for line, row in _records(csv_file) if not _blank(row))
    number = 0
    while batch := [record for _, record in zip(range(batch_size), records, strict=False)]:
        number += 1
        good = []
        items = [_row_item(row, columns) for _, row in batch]
        stored = identities_stored(pairs={pair for item in items for pair in item["identities"].items()})
        for (line, row), item in zip(batch, items, strict=True):
            report.rows += 1
            problem = _shape_problem(row, csv_file)
            data, problems = (None, [problem]) if problem else contact_input_clean(item, stored=stored)
            for key in _keys(data):
                if first_line.setdefault(key, line) != line:
                    problems.append(f"{key[0]}: same value as line {first_line[key]}.")
            if problems:
                report.errors.extend((line, message) for message in problems)
            else:
                good.append((line, data))
        results = (
            contacts_upsert_cleaned(rows=[data for _, data in good], source=source, identity_conflicts=True)
            if good
            else []
        )
        for (line, _), result in zip(good, results, strict=True):
            if result.status == UpsertStatus.ERROR:
                (report.conflicts if result.conflict else report.errors).extend((line, m) for m in result.errors)
            elif result.status == UpsertStatus.CREATED:
                report.created += 1
            elif result.changed:
                report.updated += 1
            else:
                report.unchanged += 1
        progress(f"batch {number}: {report.summary()}")
    report._sort()
    return report


def _keys(data) -> list[tuple[str, str]]:
    if data is None:
        return []
    keys = list(data.identities.items())
    if "external_id" in data.fields:
        keys.append(("external_id", data.fields["external_id"]))
    return keys


# --- PostgreSQL: COPY + set-based SQL ------------------------------------------------------------


class _CopyRefused(Exception):
    pass


def _import_postgres(csv_file, columns, source, progress) -> ImportReport | None:
    """None when COPY cannot read the file (the caller then takes the portable path)."""
    report = ImportReport(encoding=csv_file.encoding, delimiter=csv_file.delimiter)
    now = timezone.now()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # temp tables drop on commit; dropping them first also allows a second import in one transaction
            cursor.execute(f"DROP TABLE IF EXISTS {', '.join(TEMP_TABLES)}")
            # a bulk load that can simply be run again: no need to wait for the WAL flush at commit
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SET LOCAL work_mem = '256MB'")
            try:
                newlines = _stage(cursor, csv_file)
            except (DataError, psycopg.DataError) as exc:
                raise _CopyRefused(str(exc).splitlines()[0]) from exc
            progress("staged the file with COPY")
            cursor.execute(_normalise_sql(cursor, columns, len(csv_file.header)))
            report.rows = cursor.rowcount
            cursor.execute(
                "CREATE TEMP TABLE import_error (rec bigint, kind text, message text, ref bigint) ON COMMIT DROP"
            )
            _check_identities(cursor, columns)
            _check_rows(cursor, columns)
            _check_duplicates(cursor, columns)
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [Contact._meta.db_table])
            cursor.execute(_resolve_sql(cursor, columns, sequence=cursor.fetchone()[0]))
            _check_conflicts(cursor, columns)
            cursor.execute("SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE NOT is_new) FROM import_rows")
            report.created, matched = cursor.fetchone()
            progress(f"validated {report.rows} rows: {report.created} new, {matched} matched")
            cursor.execute("CREATE TEMP TABLE import_changed (rec bigint) ON COMMIT DROP")
            _write_new(cursor, columns, source, now)
            if matched:
                _write_existing(cursor, columns, source, now)
            _write_tags(cursor, columns)
            cursor.execute("SELECT count(DISTINCT rec) FROM import_changed")
            report.updated = cursor.fetchone()[0]
            report.unchanged = matched - report.updated
            _collect_errors(cursor, csv_file, report, newlines)
            progress(f"written: {report.summary()}")
            cursor.execute(f"DROP TABLE IF EXISTS {', '.join(TEMP_TABLES)}")
    except _CopyRefused as exc:
        progress(f"COPY cannot read this file ({exc}); reading it row by row instead")
        return None
    return report


def _literal(cursor, value) -> str:
    """A value as an SQL literal, quoted by psycopg."""
    return sql.Literal(value).as_string(cursor.connection)


def _stage(cursor, csv_file: CsvFile) -> int:
    """COPY the file into a temporary table of text columns; rec numbers the records. Returns the
    number of lines streamed."""
    names = [f"c{i}" for i in range(len(csv_file.header))]
    cursor.execute(
        f"CREATE TEMP TABLE import_stage (rec bigint GENERATED ALWAYS AS IDENTITY, "
        f"{', '.join(f'{name} text' for name in names)}) ON COMMIT DROP"
    )
    statement = sql.SQL(
        "COPY import_stage ({}) FROM STDIN WITH (FORMAT csv, HEADER true, DELIMITER {}, ENCODING 'UTF8')"
    ).format(sql.SQL(", ").join(map(sql.Identifier, names)), sql.Literal(csv_file.delimiter))
    newlines = 0
    with cursor.copy(statement) as copy:
        for chunk in _utf8_chunks(csv_file):
            newlines += chunk.count(b"\n")
            copy.write(chunk)
    return newlines


def _utf8_chunks(csv_file: CsvFile) -> Iterator[bytes]:
    """The file as UTF-8 without BOM, trailing blank lines dropped (COPY refuses a blank line)."""
    with open(csv_file.path, "rb") as handle:
        if csv_file.encoding in ("utf-8", "utf-8-sig"):
            chunks = iter(lambda: handle.read(1 << 20), b"")
        else:
            text = io.TextIOWrapper(handle, encoding=csv_file.encoding, newline="")
            chunks = (part.encode() for part in iter(lambda: text.read(1 << 20), ""))
        pending = next(chunks, b"").removeprefix(codecs.BOM_UTF8)
        first_end = pending.find(b"\n")
        newline = b"\r\n" if first_end > 0 and pending[first_end - 1 : first_end] == b"\r" else b"\n"
        for chunk in chunks:
            yield pending
            pending = chunk
        if tail := pending.rstrip(b"\r\n"):
            yield tail + newline  # the file's own line ending: COPY refuses a mix


def _text(index: int, ws: str) -> str:
    """A stage column as the portable path reads the cell: neutralising quote dropped, stripped as
    str.strip() does (its whole set only on rows holding more than spaces: it costs), '' as NULL."""
    cell = f"c{index}"
    restored = (
        f"CASE WHEN left({cell}, 1) = '''' AND substr({cell}, 2, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r') "
        f"THEN substr({cell}, 2) ELSE {cell} END"
    )
    return f"nullif(CASE WHEN odd THEN btrim({restored}, {ws}) ELSE btrim({restored}) END, '')"


def _identity_sql(cursor, channel: str, t: str) -> tuple[str, str]:
    """(a per-row value computed once, named pre_<channel>; the normalised value when the cell has the
    common shape, else NULL). The cell itself is kept as <channel>_raw for the Python validators."""
    pre = f"pre_{channel}"
    if channel == Channel.EMAIL:
        fast = " AND ".join(
            [f"length({t}) <= 65", f"{t} ~ {_literal(cursor, EMAIL_FAST)}"]
            + [f"{t} NOT LIKE {_literal(cursor, pattern)}" for pattern in EMAIL_FAST_NOT]
        )
        return f"{fast} AS {pre}", f"CASE WHEN {pre} THEN lower({t}) END"
    if channel in (Channel.SMS, Channel.WHATSAPP):
        # '+' and digits once spaces, dashes, dots, parentheses and slashes are dropped; its validity is
        # checked against libphonenumber's patterns (_check_identities). '+33 (0)6…' is libphonenumber's.
        digits = rf"CASE WHEN left({t}, 1) = '+' AND {t} NOT LIKE '%(0)%' THEN regexp_replace({t}, '[\s().\-/]', '', 'g') END"
        return f"{digits} AS {pre}", f"CASE WHEN {pre} ~ '{E164_SHAPE}' THEN {pre} END"
    if channel in (Channel.INSTAGRAM, Channel.X):
        fast = f"{t} ~ '^@*[A-Za-z0-9._]+$' AND length(ltrim({t}, '@')) <= {IDENTITY_MAX_LENGTH}"
        return f"{fast} AS {pre}", f"CASE WHEN {pre} THEN lower(ltrim({t}, '@')) END"
    fast = f"{t} ~ '^[!-~]+$' AND length({t}) <= {IDENTITY_MAX_LENGTH}"
    return f"{fast} AS {pre}", f"CASE WHEN {pre} THEN {t} END"


def _normalise_sql(cursor, columns, width: int) -> str:
    ws = _literal(cursor, WHITESPACE)
    cells = ", ".join(f"{_text(index, ws)} AS t{index}" for index in sorted(set(columns.values())))

    def t(name):
        return f"t{columns[name]}" if name in columns else "NULL::text"

    attributes = [name for name in columns if name.startswith(ATTRIBUTE_PREFIX)]
    attr_expr = (
        "jsonb_strip_nulls(jsonb_build_object("
        + ", ".join(f"{_literal(cursor, name[len(ATTRIBUTE_PREFIX) :])}, {t(name)}" for name in attributes)
        + "))"
        if attributes
        else "'{}'::jsonb"
    )
    select, pre = ["rec", *(f"{t(name)} AS {name}" for name in SCALAR_FIELDS)], []
    for channel in IDENTITY_FIELDS:
        if channel in columns:
            once, value = _identity_sql(cursor, channel, t(channel))
            pre.append(once)
            select += [f"{value} AS {channel}", f"{t(channel)} AS {channel}_raw"]
        else:
            select += [f"NULL::text AS {channel}", f"NULL::text AS {channel}_raw"]
    select += [f"lower({t(CONSENT_PREFIX + ch)}) AS {CONSENT_PREFIX}{ch}" for ch in IDENTITY_FIELDS]
    select.append(f"{attr_expr} AS attributes")
    odd = _literal(cursor, "[" + WHITESPACE.replace(" ", "") + "]")
    whole = " || ".join(f"coalesce(c{index}, '')" for index in range(width))  # concat() costs more
    some_cell = " OR ".join(f"btrim(c{index}) <> ''" for index in range(width))
    # each OFFSET 0 level keeps its values computed once per row; rows of blank cells are skipped
    return (
        f"CREATE TEMP TABLE import_norm ON COMMIT DROP AS SELECT {', '.join(select)} "
        f"FROM (SELECT *{''.join(f', {p}' for p in pre)} FROM (SELECT rec, {cells} "
        f"FROM (SELECT *, {whole} ~ {odd} AS odd FROM import_stage OFFSET 0) st "
        f"WHERE CASE WHEN odd THEN btrim({whole}, {ws}) <> '' ELSE {some_cell} END OFFSET 0) s OFFSET 0) v"
    )


def _check_identities(cursor, columns) -> None:
    """Identity cells SQL could not vouch for go through the Python validators: fixed or refused."""
    fixes, errors = [], []
    for channel in IDENTITY_FIELDS:
        if channel not in columns:
            continue
        if channel in (Channel.SMS, Channel.WHATSAPP):
            phone_rules_load(cursor)
            join, valid = phone_valid_sql(f"n.{channel}")
            cursor.execute(
                f"SELECT n.rec, n.{channel}_raw FROM import_norm n {join} "
                f"WHERE n.{channel}_raw IS NOT NULL AND NOT {valid}"
            )
        else:
            cursor.execute(
                f"SELECT rec, {channel}_raw FROM import_norm WHERE {channel} IS NULL AND {channel}_raw IS NOT NULL"
            )
        for rec, raw in cursor.fetchall():
            value, error = identity_clean(channel, raw)
            if error:
                errors.append((rec, "invalid", error, None))
            else:
                fixes.append((rec, channel, value))
    if fixes:
        cursor.execute("CREATE TEMP TABLE import_fix (rec bigint, channel text, value text) ON COMMIT DROP")
        with cursor.copy("COPY import_fix (rec, channel, value) FROM STDIN") as copy:
            for row in fixes:
                copy.write_row(row)
        for channel in sorted({channel for _, channel, _ in fixes}):
            cursor.execute(
                f"UPDATE import_norm n SET {channel} = f.value FROM import_fix f "
                "WHERE n.rec = f.rec AND f.channel = %s",
                [channel],
            )
    _errors_add(cursor, errors)


def phone_rules_load(cursor) -> None:
    """libphonenumber's patterns (madansara.contacts.phones) into the temporary table phone_valid_sql reads."""
    cursor.execute("SELECT to_regclass('pg_temp.import_phone_rule') IS NOT NULL")
    if cursor.fetchone()[0]:
        return
    cursor.execute(
        "CREATE TEMP TABLE import_phone_rule (lead text, digits int, code_length int, prefix text, general text, "
        "types text) ON COMMIT DROP"
    )
    with cursor.copy("COPY import_phone_rule FROM STDIN") as copy:
        for row in e164_rule_rows():
            copy.write_row(row)


def phone_valid_sql(value: str) -> tuple[str, str]:
    """(joins, condition): the condition is true when libphonenumber surely takes `value` (an SQL
    expression, '+' and digits) as a valid number written as it would write it; false for the rest."""
    joins = (
        f"LEFT JOIN import_phone_rule r ON r.lead = substr({value}, 2, 3) AND r.digits = length({value}) - 1 "
        f"CROSS JOIN LATERAL (SELECT substr({value}, 2 + r.code_length) AS nsn) x"
    )
    return joins, "coalesce(NOT coalesce(x.nsn ~ r.prefix, false) AND x.nsn ~ r.general AND x.nsn ~ r.types, false)"


def _errors_add(cursor, errors: list[tuple]) -> None:
    if errors:
        with cursor.copy("COPY import_error (rec, kind, message, ref) FROM STDIN") as copy:
            for row in errors:
                copy.write_row(row)


def _checks(cursor, columns) -> list[tuple[str, str]]:
    """(condition, message) pairs in SQL over import_norm, with the portable path's messages."""
    q = lambda value: _literal(cursor, value)  # noqa: E731
    present = [f"{ch} IS NOT NULL OR {ch}_raw IS NOT NULL" for ch in IDENTITY_FIELDS if ch in columns]
    if "external_id" in columns:
        present.append("external_id IS NOT NULL")
    checks = [(f"NOT ({' OR '.join(present)})", q("A contact needs at least one identity or an external_id."))]
    if "lifecycle_stage" in columns:
        stages = ", ".join(map(q, LifecycleStage.values))
        checks.append((f"lifecycle_stage NOT IN ({stages})",
                       f"'lifecycle_stage: ''' || lifecycle_stage || ''' is not one of ' || "
                       f"{q(', '.join(LifecycleStage.values))} || '.'"))  # fmt: skip
    if "timezone" in columns:
        zones = ", ".join(map(q, sorted(zoneinfo.available_timezones())))
        checks.append((f"timezone NOT IN ({zones})",
                       "'timezone: ''' || timezone || ''' is not an IANA time zone (e.g. Europe/Paris).'"))  # fmt: skip
    for name, limit in FIELD_LIMITS.items():
        if name in columns:
            checks.append((f"length({name}) > {limit}", q(f"{name}: at most {limit} characters.")))
    for channel in IDENTITY_FIELDS:
        if CONSENT_PREFIX + channel in columns:
            checks.append((f"{CONSENT_PREFIX}{channel} NOT IN ({', '.join(map(q, ConsentStatus.values))})",
                           f"{q(f'consent {channel}: ')} || '''' || {CONSENT_PREFIX}{channel} || ''' is not one of ' "
                           f"|| {q(', '.join(ConsentStatus.values))} || '.'"))  # fmt: skip
    # an empty cell (NULL) is not a failure
    return [(f"coalesce({condition}, false)", message) for condition, message in checks]


def _check_rows(cursor, columns) -> None:
    """Per-row checks in one scan; messages are built only for the rows that fail one."""
    checks = _checks(cursor, columns)
    failing = " OR ".join(condition for condition, _ in checks)
    values = ", ".join(f"({condition}, {message})" for condition, message in checks)
    cursor.execute(
        "INSERT INTO import_error SELECT n.rec, 'invalid', v.message, NULL FROM import_norm n "
        f"CROSS JOIN LATERAL (VALUES {values}) v(failed, message) WHERE ({failing}) AND v.failed"
    )


def _check_duplicates(cursor, columns) -> None:
    """A value used by two valid rows of the file: the later rows are errors (hash aggregate, no sort)."""
    cursor.execute("SELECT EXISTS (SELECT 1 FROM import_error)")
    valid = "import_norm"
    if cursor.fetchone()[0]:
        valid = "import_valid"
        cursor.execute(
            "CREATE TEMP TABLE import_valid ON COMMIT DROP AS SELECT * FROM import_norm n "
            "WHERE NOT EXISTS (SELECT 1 FROM import_error e WHERE e.rec = n.rec)"
        )
    for name in ("external_id", *IDENTITY_FIELDS):
        if name not in columns:
            continue
        cursor.execute(
            "INSERT INTO import_error SELECT n.rec, 'duplicate', %s, d.first "
            f"FROM (SELECT {name} AS value, min(rec) AS first FROM {valid} WHERE {name} IS NOT NULL "
            f"GROUP BY {name} HAVING count(*) > 1) d JOIN {valid} n ON n.{name} = d.value AND n.rec <> d.first",
            [f"{name}: same value as line {{}}."],
        )
    cursor.execute("DROP TABLE IF EXISTS import_valid")


def _resolve_sql(cursor, columns, sequence: str) -> str:
    """Rows without errors and the contact each matches (least/greatest skip NULLs: they differ on a clash)."""
    contact = Contact._meta.db_table
    identity = ContactIdentity._meta.db_table
    joins, ids, stored, by = [], [], [], []
    if "external_id" in columns:
        joins.append(f"LEFT JOIN {contact} m_ext ON m_ext.external_id = n.external_id")
        ids.append("m_ext.id")
    for channel in IDENTITY_FIELDS:
        if channel in columns:
            joins.append(
                f"LEFT JOIN {identity} m_{channel} ON m_{channel}.channel = '{channel}' "
                f"AND m_{channel}.value = n.{channel}"
            )
            ids.append(f"m_{channel}.contact_id")
            stored.append(f"m_{channel}.id IS NOT NULL AS stored_{channel}")
            by.append(f"CASE WHEN m_{channel}.id IS NOT NULL THEN '{channel}' END")
    first, last = f"least({', '.join(ids)})", f"greatest({', '.join(ids)})"
    by_external = "m_ext.id IS NOT NULL" if "external_id" in columns else "false"
    fields = ", ".join(f"n.{name}" for name in SCALAR_FIELDS)
    values = ", ".join(f"n.{ch}" for ch in IDENTITY_FIELDS)
    consents = ", ".join(f"n.{CONSENT_PREFIX}{ch}" for ch in IDENTITY_FIELDS)
    return (
        "CREATE TEMP TABLE import_rows ON COMMIT DROP AS "
        f"SELECT n.rec, {fields}, {values}, {consents}, n.attributes, {''.join(f'{column}, ' for column in stored)}"
        f"ARRAY[{', '.join(ids)}] AS matches, concat_ws(', ', {', '.join(by) or 'NULL'}) AS matched_by, "
        f"{by_external} AS by_external, {first} AS first_match, {last} AS last_match, {first} IS NULL AS is_new, "
        f"coalesce({first}, nextval({_literal(cursor, sequence)}::regclass)) AS contact_id "
        f"FROM import_norm n {' '.join(joins)} "
        "WHERE NOT EXISTS (SELECT 1 FROM import_error e WHERE e.rec = n.rec)"
    )


def _check_conflicts(cursor, columns) -> None:
    """Rows matching two contacts, or contradicting the identities of the one they match by an identity."""
    cursor.execute(
        "INSERT INTO import_error SELECT rec, 'conflict', 'Identities belong to different contacts (' || "
        "(SELECT string_agg('#' || id, ', ' ORDER BY id) FROM (SELECT DISTINCT unnest(matches) AS id) d "
        "WHERE id IS NOT NULL) || ').', NULL FROM import_rows WHERE first_match <> last_match"
    )
    message = (
        "'{name}: this row matches contact #' || r.contact_id || ' by ' || r.matched_by || ', whose {name} is ''' "
        "|| {old} || ''', not ''' || r.{name} || '''; the row was not imported.'"
    )
    single = "NOT r.is_new AND r.first_match = r.last_match AND NOT r.by_external"
    if "external_id" in columns:
        cursor.execute(
            f"INSERT INTO import_error SELECT r.rec, 'conflict', {message.format(name='external_id', old='c.external_id')}"
            f", NULL FROM import_rows r JOIN {Contact._meta.db_table} c ON c.id = r.contact_id "
            f"WHERE {single} AND r.external_id IS NOT NULL AND c.external_id IS NOT NULL"
        )
    for channel in IDENTITY_FIELDS:
        if channel in columns:
            # a stored value of the row matched this contact; only a value not stored yet can clash
            cursor.execute(
                f"INSERT INTO import_error SELECT r.rec, 'conflict', {message.format(name=channel, old='i.value')}, "
                f"NULL FROM import_rows r JOIN {ContactIdentity._meta.db_table} i ON i.contact_id = r.contact_id "
                f"AND i.channel = '{channel}' WHERE {single} AND r.{channel} IS NOT NULL AND NOT r.stored_{channel}"
            )
    cursor.execute("SELECT EXISTS (SELECT 1 FROM import_error WHERE kind = 'conflict')")
    if cursor.fetchone()[0]:
        cursor.execute("DELETE FROM import_rows r USING import_error e WHERE e.kind = 'conflict' AND e.rec = r.rec")


def _write_new(cursor, columns, source, now) -> None:
    """New contacts and their children: plain INSERTs in contact id order (no conflict to resolve)."""
    cursor.execute(
        f"INSERT INTO {Contact._meta.db_table} (id, external_id, name, timezone, locale, lifecycle_stage, "
        "attributes, engagement_score, created_at, updated_at) "
        "SELECT contact_id, external_id, coalesce(name, ''), coalesce(timezone, 'UTC'), coalesce(locale, 'en'), "
        f"coalesce(lifecycle_stage, '{LifecycleStage.LEAD}'), attributes, 0, %s, %s FROM import_rows WHERE is_new",
        [now, now],
    )
    if values := _identity_values(columns):
        # the file's values are unique and matched no stored identity: nothing can conflict but a
        # concurrent writer, and then the import fails as a whole rather than losing an identity
        cursor.execute(
            f"INSERT INTO {ContactIdentity._meta.db_table} "
            "(contact_id, channel, value, is_valid, invalid_reason, created_at) "
            "SELECT r.contact_id, v.channel, v.value, true, '', %s FROM import_rows r "
            f"CROSS JOIN LATERAL (VALUES {values}) v(channel, value) WHERE r.is_new AND v.value IS NOT NULL",
            [now],
        )
    if values := _consent_values(columns):
        select = (
            f"FROM import_rows r CROSS JOIN LATERAL (VALUES {values}) v(channel, status) "
            "WHERE r.is_new AND v.status IS NOT NULL"
        )
        cursor.execute(
            f"INSERT INTO {ContactConsent._meta.db_table} (contact_id, channel, status, source, updated_at) "
            f"SELECT r.contact_id, v.channel, v.status, %s, %s {select}",
            [source, now],
        )
        # every consent of a new contact is a change: it is recorded in the history too
        cursor.execute(
            f"INSERT INTO {ConsentEvent._meta.db_table} (contact_id, channel, status, source, note, occurred_at) "
            f"SELECT r.contact_id, v.channel, v.status, %s, '', %s {select}",
            [source, now],
        )


def _write_existing(cursor, columns, source, now) -> None:
    """Matched contacts: update fields, replace identities, upsert consents (history for changes only);
    the rows that change something are noted in import_changed."""
    identity = ContactIdentity._meta.db_table
    fields = ("external_id", "name", "timezone", "locale", "lifecycle_stage")
    assigned = {name: f"coalesce(r.{name}, c.{name})" for name in fields} | {
        "attributes": "c.attributes || r.attributes"
    }
    # rows the file does not change are left alone (an UPDATE rewrites the row and all its index entries)
    cursor.execute(
        f"WITH up AS (UPDATE {Contact._meta.db_table} c SET "
        + ", ".join(f"{name} = {expr}" for name, expr in assigned.items())
        + ", updated_at = %s FROM import_rows r WHERE c.id = r.contact_id AND NOT r.is_new "
        f"AND ({', '.join(f'c.{name}' for name in assigned)}) IS DISTINCT FROM ({', '.join(assigned.values())}) "
        "RETURNING r.rec) INSERT INTO import_changed SELECT rec FROM up",
        [now],
    )
    if values := _identity_values(columns, unstored=True):
        added = " OR ".join(f"(r.{ch} IS NOT NULL AND NOT r.stored_{ch})" for ch in IDENTITY_FIELDS if ch in columns)
        cursor.execute(f"INSERT INTO import_changed SELECT rec FROM import_rows r WHERE NOT r.is_new AND ({added})")
        # an existing contact's identity on a channel is replaced by the imported one (matched by external_id)
        cursor.execute(
            f"SELECT i.id FROM {identity} i JOIN import_rows r ON i.contact_id = r.contact_id AND NOT r.is_new "
            f"CROSS JOIN LATERAL (VALUES {values}) v(channel, value) "
            "WHERE v.value IS NOT NULL AND i.channel = v.channel AND i.value <> v.value"
        )
        replaced = [row[0] for row in cursor.fetchall()]
        if replaced:
            ContactIdentity.objects.filter(pk__in=replaced).delete()
        cursor.execute(
            f"INSERT INTO {identity} (contact_id, channel, value, is_valid, invalid_reason, created_at) "
            f"SELECT r.contact_id, v.channel, v.value, true, '', %s FROM import_rows r "
            f"CROSS JOIN LATERAL (VALUES {values}) v(channel, value) WHERE NOT r.is_new AND v.value IS NOT NULL "
            "ON CONFLICT (channel, value) DO NOTHING",
            [now],
        )
    if values := _consent_values(columns):
        cursor.execute(
            f"WITH v AS (SELECT r.contact_id, x.channel, x.status FROM import_rows r "
            f"CROSS JOIN LATERAL (VALUES {values}) x(channel, status) WHERE NOT r.is_new AND x.status IS NOT NULL), "
            f"up AS (INSERT INTO {ContactConsent._meta.db_table} AS cc (contact_id, channel, status, source, updated_at) "
            "SELECT contact_id, channel, status, %s, %s FROM v ON CONFLICT (contact_id, channel) DO UPDATE "
            "SET status = EXCLUDED.status, source = EXCLUDED.source, updated_at = EXCLUDED.updated_at "
            "WHERE cc.status <> EXCLUDED.status RETURNING contact_id, channel, status), "
            f"ev AS (INSERT INTO {ConsentEvent._meta.db_table} (contact_id, channel, status, source, note, occurred_at) "
            "SELECT contact_id, channel, status, %s, '', %s FROM up) "
            "INSERT INTO import_changed SELECT r.rec FROM import_rows r JOIN (SELECT DISTINCT contact_id FROM up) u "
            "ON u.contact_id = r.contact_id WHERE NOT r.is_new",
            [source, now, source, now],
        )


def _write_tags(cursor, columns) -> None:
    if "tags" not in columns:
        return
    ws = _literal(cursor, WHITESPACE)
    cursor.execute(
        "CREATE TEMP TABLE import_tags ON COMMIT DROP AS SELECT DISTINCT r.rec, r.is_new, r.contact_id, "
        f"left(btrim(t, {ws}), 100) AS name FROM import_rows r "
        f"CROSS JOIN LATERAL unnest(string_to_array(r.tags, ';')) t WHERE btrim(t, {ws}) <> ''"
    )
    cursor.execute(
        f"INSERT INTO {Tag._meta.db_table} (name) SELECT DISTINCT name FROM import_tags ON CONFLICT DO NOTHING"
    )
    cursor.execute(
        f"WITH linked AS (INSERT INTO {Contact.tags.through._meta.db_table} (contact_id, tag_id) "
        f"SELECT it.contact_id, t.id FROM import_tags it JOIN {Tag._meta.db_table} t ON t.name = it.name "
        "ON CONFLICT DO NOTHING RETURNING contact_id) "
        "INSERT INTO import_changed SELECT DISTINCT it.rec FROM import_tags it "
        "JOIN (SELECT DISTINCT contact_id FROM linked) l ON l.contact_id = it.contact_id WHERE NOT it.is_new"
    )


def _identity_values(columns, *, unstored: bool = False) -> str:
    """A VALUES list turning a row's identity columns into (channel, value) rows; with `unstored`
    the values already stored (for the matched contact) are NULL, so they cost no index probe."""
    mapped = [ch for ch in IDENTITY_FIELDS if ch in columns]
    if unstored:
        return ", ".join(f"('{ch}', CASE WHEN NOT r.stored_{ch} THEN r.{ch} END)" for ch in mapped)
    return ", ".join(f"('{ch}', r.{ch})" for ch in mapped)


def _consent_values(columns) -> str:
    return ", ".join(f"('{ch}', r.{CONSENT_PREFIX}{ch})" for ch in IDENTITY_FIELDS if CONSENT_PREFIX + ch in columns)


def _collect_errors(cursor, csv_file: CsvFile, report: ImportReport, newlines: int) -> None:
    """import_error as (line, message); a record's line is rec + 1 unless the file has quoted cells
    over several lines, then the lines are counted as the portable path does."""
    cursor.execute("SELECT rec, kind, message, ref FROM import_error")
    found = cursor.fetchall()
    if not found:
        return
    cursor.execute("SELECT count(*) FROM import_stage")
    if newlines == cursor.fetchone()[0] + 1:
        line_of = {rec: rec + 1 for rec, *_ in found} | {ref: ref + 1 for *_, ref in found if ref}
    else:
        wanted = {rec for rec, *_ in found} | {ref for *_, ref in found if ref}
        line_of = {rec: line for rec, (line, _) in enumerate(_records(csv_file), start=1) if rec in wanted}
    for rec, kind, message, ref in found:
        if ref is not None:
            message = message.format(line_of[ref])
        (report.conflicts if kind == "conflict" else report.errors).append((line_of[rec], message))
    report._sort()


# --- export ---------------------------------------------------------------------------------


@dataclass
class ExportReport:
    rows: int = 0
    attributes_left_out: list[str] = field(default_factory=list)  # attribute names the import would refuse


def contacts_export_csv(*, out: io.TextIOBase, queryset=None, chunk_size: int = 2000) -> ExportReport:
    """Write active contacts as CSV in the import format (every identity, consent, tag and attribute;
    cells neutralised for spreadsheets), so that the file imports back to the same contacts."""
    report = ExportReport()
    keys: set[str] = set()
    for attributes in (
        (queryset if queryset is not None else Contact.objects.active())
        .values_list("attributes", flat=True)
        .iterator(chunk_size=chunk_size)
    ):
        keys.update(attributes or {})
    report.attributes_left_out = sorted(key for key in keys if not ATTRIBUTE_KEY.fullmatch(str(key)))
    keys = sorted(keys - set(report.attributes_left_out))
    writer = csv_writer(out)
    header = ["external_id", "name", "timezone", "locale", "lifecycle_stage", "tags", *IDENTITY_FIELDS]
    header += [CONSENT_PREFIX + ch for ch in IDENTITY_FIELDS]
    header += [ATTRIBUTE_PREFIX + key for key in keys]
    writer.writerow(header)
    for contact in contacts_for_export(queryset=queryset, chunk_size=chunk_size):
        identities = {i.channel: i.value for i in contact.identities.all()}
        consents = {c.channel: c.status for c in contact.consents.all()}
        attributes = contact.attributes or {}
        writer.writerow(
            [
                contact.external_id or "",
                contact.name,
                contact.timezone,
                contact.locale,
                contact.lifecycle_stage,
                ";".join(sorted(t.name for t in contact.tags.all())),
                *(identities.get(ch, "") for ch in IDENTITY_FIELDS),
                *(consents.get(ch, "") for ch in IDENTITY_FIELDS),
                *(_attribute_cell(attributes.get(key)) for key in keys),
            ]
        )
        report.rows += 1
    return report


def _attribute_cell(value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
