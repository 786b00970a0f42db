"""CSV import of contacts: upsert by identity, per-row errors with line numbers, batches that
are written whole or not at all.

PostgreSQL: the file is streamed with COPY into a temporary table, normalised in one pass (phones
in SQL for the common spellings, libphonenumber only for the odd ones), validated in SQL, matched
to stored contacts once, and written with a fixed number of set-based statements whatever the size:
plain INSERTs for new contacts and their children (in contact id order), UPDATE / ON CONFLICT only
for matched ones, and only where the file changes something (a matched contact the file leaves as
it is keeps its updated_at). Other databases: batches of cleaned rows go through
`contacts_upsert_cleaned` (bulk queries). On PostgreSQL a reported line is the record number + 1,
which is the file line unless quoted cells span several lines.

Where the time goes on PostgreSQL (bench/import_contacts.py, bench/RESULTS.md): almost all of it is
the writes themselves — index maintenance on the contact tables and the per-row deferred FK checks
at commit — which a bare INSERT … SELECT of the same rows pays too.
"""

import csv
import io
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from madansara.choices import Channel
from outreach.models.contacts import (
    ConsentEvent,
    ConsentStatus,
    Contact,
    ContactConsent,
    ContactIdentity,
    LifecycleStage,
    Tag,
    normalize_identity,
)
from outreach.services.contacts import UpsertResult, UpsertStatus, contact_input_clean, contacts_upsert_cleaned

SCALAR_FIELDS = ("external_id", "name", "timezone", "locale", "lifecycle_stage", "tags")
IDENTITY_FIELDS = tuple(Channel.values)
CONSENT_PREFIX = "consent_"
ATTRIBUTE_PREFIX = "attr_"
ALIASES = {"phone": Channel.SMS.value, "mobile": Channel.SMS.value, "full_name": "name", "stage": "lifecycle_stage"}
E164 = r"^\+[1-9][0-9]{6,14}$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
BATCH_SIZE = 1000
TEMP_TABLES = ("import_stage", "import_norm", "import_error", "import_rows", "import_bad", "import_tags",
               "import_fix_sms", "import_fix_whatsapp")  # fmt: skip


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0  # good rows not written because their batch had an error
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, message)

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_mapping(spec: str | None) -> dict[str, str]:
    """`email=E-mail,name=Full name` -> {"email": "E-mail", "name": "Full name"}."""
    mapping = {}
    for pair in filter(None, (p.strip() for p in (spec or "").split(","))):
        target, sep, column = pair.partition("=")
        if not sep or not target.strip() or not column.strip():
            raise ValueError(f"Bad mapping '{pair}': expected field=Column.")
        mapping[_field_name(target.strip())] = column.strip()
    return mapping


def _field_name(name: str) -> str:
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    return ALIASES.get(key, key)


def resolve_columns(header: list[str], mapping: dict[str, str]) -> dict[str, int]:
    """Field -> column index: explicit mapping first, then headers named like a field."""
    known = set(SCALAR_FIELDS) | set(IDENTITY_FIELDS)
    columns: dict[str, int] = {}
    for index, column in enumerate(header):
        name = _field_name(column)
        if name in known or name.startswith((CONSENT_PREFIX, ATTRIBUTE_PREFIX)):
            columns.setdefault(name, index)
    for target, column in mapping.items():
        if column not in header:
            raise ValueError(f"Column '{column}' (mapped to {target}) is not in the file's header.")
        if not (target in known or target.startswith((CONSENT_PREFIX, ATTRIBUTE_PREFIX))):
            raise ValueError(f"Unknown field '{target}'.")
        columns[target] = header.index(column)
    for name in columns:
        if name.startswith(CONSENT_PREFIX) and name[len(CONSENT_PREFIX) :] not in Channel.values:
            raise ValueError(f"Unknown consent channel in '{name}'.")
    if not any(name in columns for name in (*IDENTITY_FIELDS, "external_id")):
        raise ValueError("The file has no identity column (email, sms, whatsapp, …) and no external_id.")
    return columns


def contacts_import_csv(
    *,
    path: str | Path,
    mapping: dict[str, str] | None = None,
    batch_size: int = BATCH_SIZE,
    source: str = "import",
    progress: Callable[[str], None] | None = None,
    use_copy: bool | None = None,
) -> ImportReport:
    """Import a CSV file (UTF-8, header row); see the module docstring."""
    progress = progress or (lambda message: None)
    with open(path, newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), None)
    if not header:
        raise ValueError("The file is empty.")
    columns = resolve_columns(header, mapping or {})
    if use_copy is None:
        use_copy = connection.vendor == "postgresql"
    if use_copy:
        return _import_postgres(path, header, columns, batch_size, source, progress)
    return _import_batched(path, columns, batch_size, source, progress)


# --- portable path ----------------------------------------------------------------------


def _row_item(row: list[str], columns: dict[str, int]) -> dict:
    def value(name):
        index = columns[name]
        return row[index].strip() if index < len(row) else ""

    item: dict = {"identities": {}, "consents": {}, "attributes": {}}
    for name in columns:
        if name in IDENTITY_FIELDS:
            item["identities"][name] = value(name)
        elif name.startswith(CONSENT_PREFIX):
            item["consents"][name[len(CONSENT_PREFIX) :]] = value(name).lower()
        elif name.startswith(ATTRIBUTE_PREFIX):
            if value(name):
                item["attributes"][name[len(ATTRIBUTE_PREFIX) :]] = value(name)
        elif name != "tags" or value(name):
            item[name] = value(name)
    return item


def _batches(path, columns, batch_size) -> Iterator[list[tuple[int, dict]]]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        next(reader)
        batch = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            batch.append((reader.line_num, _row_item(row, columns)))
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch


def _import_batched(path, columns, batch_size, source, progress) -> ImportReport:
    report = ImportReport()
    first_line: dict[tuple[str, str], int] = {}  # identity or external_id -> first line using it
    for number, batch in enumerate(_batches(path, columns, batch_size), start=1):
        cleaned, errors = [], {}
        for line, item in batch:
            data, problems = contact_input_clean(item)
            for key in _keys(data):
                if first_line.setdefault(key, line) != line:
                    problems.append(f"{key[0]}: same value as line {first_line[key]}.")
            cleaned.append(data)
            if problems:
                errors[line] = problems
        if errors:
            results = [
                UpsertResult(i, UpsertStatus.ERROR, errors=errors[line]) if line in errors
                else UpsertResult(i, UpsertStatus.SKIPPED)
                for i, (line, _) in enumerate(batch)
            ]  # fmt: skip
        else:
            results = contacts_upsert_cleaned(rows=cleaned, source=source, all_or_nothing=True)
        for (line, _), result in zip(batch, results, strict=True):
            report.rows += 1
            if result.status == UpsertStatus.ERROR:
                report.errors.extend((line, message) for message in result.errors)
            elif result.status == UpsertStatus.SKIPPED:
                report.skipped += 1
            elif result.status == UpsertStatus.CREATED:
                report.created += 1
            else:
                report.updated += 1
        progress(
            f"batch {number}: {report.rows} rows read, {report.created} created, {report.updated} updated, "
            f"{len(report.errors)} errors"
        )
    return report


def _keys(data) -> list[tuple[str, str]]:
    if data is None:
        return []
    keys = list(data.identities.items())
    if "external_id" in data.fields:
        keys.append(("external_id", data.fields["external_id"]))
    return keys


# --- PostgreSQL: COPY + set-based SQL ------------------------------------------------------


def _import_postgres(path, header, columns, batch_size, source, progress) -> ImportReport:
    report = ImportReport()
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        # temp tables drop on commit; dropping them first also allows a second import in one transaction
        cursor.execute(f"DROP TABLE IF EXISTS {', '.join(TEMP_TABLES)}")
        # a bulk load that can simply be run again: no need to wait for the WAL flush at commit
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        _stage(cursor, path, header)
        progress("staged the file with COPY")
        cursor.execute(_normalise_sql(columns, batch_size))
        report.rows = cursor.rowcount
        _fix_phones(cursor, columns)
        cursor.execute("CREATE TEMP TABLE import_error (line bigint, message text) ON COMMIT DROP")
        _check_rows(cursor, columns)
        _check_duplicates(cursor, columns)
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [Contact._meta.db_table])
        cursor.execute(_resolve_sql(columns, sequence=cursor.fetchone()[0]))
        cursor.execute(
            "INSERT INTO import_error SELECT line, 'Identities belong to different contacts (#' || first_match"
            " || ', #' || last_match || ').' FROM import_rows WHERE first_match <> last_match"
        )
        cursor.execute(
            "CREATE TEMP TABLE import_bad ON COMMIT DROP AS SELECT DISTINCT n.batch FROM import_norm n "
            "JOIN import_error e USING (line)"
        )
        cursor.execute("DELETE FROM import_rows r USING import_bad b WHERE r.batch = b.batch")
        report.skipped = cursor.rowcount
        cursor.execute("SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE NOT is_new) FROM import_rows")
        report.created, report.updated = cursor.fetchone()
        progress(f"validated {report.rows} rows: {report.created} new, {report.updated} existing")
        _write_new(cursor, columns, source, now)
        if report.updated:
            _write_existing(cursor, columns, source, now)
        _write_tags(cursor, columns)
        cursor.execute("SELECT line, message FROM import_error ORDER BY line")
        report.errors = [(int(line), message) for line, message in cursor.fetchall()]
        progress(f"written: {report.created} created, {report.updated} updated")
        cursor.execute(f"DROP TABLE IF EXISTS {', '.join(TEMP_TABLES)}")
    return report


def _stage(cursor, path, header) -> None:
    """COPY the file as it is into a temporary table of text columns; rec numbers the records."""
    stage_columns = ", ".join(f"c{i} text" for i in range(len(header)))
    cursor.execute(
        f"CREATE TEMP TABLE import_stage (rec bigint GENERATED ALWAYS AS IDENTITY, {stage_columns}) ON COMMIT DROP"
    )
    names = ", ".join(f"c{i}" for i in range(len(header)))
    with (
        open(path, "rb") as handle,
        cursor.copy(f"COPY import_stage ({names}) FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')") as copy,
    ):
        while chunk := handle.read(1 << 20):
            copy.write(chunk)


def _text(columns, name) -> str:
    return f"nullif(btrim(c{columns[name]}), '')" if name in columns else "NULL::text"


def _identity_expr(columns, channel) -> str:
    raw = _text(columns, channel)
    if channel == Channel.EMAIL:
        return f"lower({raw})"
    if channel in (Channel.SMS, Channel.WHATSAPP):
        # the common spellings (spaces, dashes, dots, parentheses, 00 for +) in SQL; anything else,
        # e.g. a national number or '+33 (0)6 …', stays as written and goes to libphonenumber (_fix_phones)
        digits = rf"regexp_replace(regexp_replace({raw}, '^whatsapp:', '', 'i'), '[\s().\-/]', '', 'g')"
        return f"CASE WHEN {raw} LIKE '%(0)%' THEN {raw} ELSE regexp_replace({digits}, '^00', '+') END"
    if channel in (Channel.INSTAGRAM, Channel.X):
        return f"nullif(lower(ltrim({raw}, '@')), '')"
    return raw


def _normalise_sql(columns, batch_size) -> str:
    attributes = [name for name in columns if name.startswith(ATTRIBUTE_PREFIX)]
    attr_expr = (
        "jsonb_strip_nulls(jsonb_build_object("
        + ", ".join(f"'{name[len(ATTRIBUTE_PREFIX) :]}', {_text(columns, name)}" for name in attributes)
        + "))"
        if attributes
        else "'{}'::jsonb"
    )
    select = [
        "rec + 1 AS line",
        f"(rec - 1) / {int(batch_size)} AS batch",
        *(f"{_text(columns, name)} AS {name}" for name in SCALAR_FIELDS),
        *(f"{_identity_expr(columns, ch)} AS {ch}" for ch in IDENTITY_FIELDS),
        *(f"lower({_text(columns, CONSENT_PREFIX + ch)}) AS {CONSENT_PREFIX}{ch}" for ch in IDENTITY_FIELDS),
        f"{attr_expr} AS attributes",
    ]
    return f"CREATE TEMP TABLE import_norm ON COMMIT DROP AS SELECT {', '.join(select)} FROM import_stage"


def _fix_phones(cursor, columns) -> None:
    """Phones not already in E.164 are normalised by libphonenumber (national formats, regions)."""
    for channel in (Channel.SMS, Channel.WHATSAPP):
        if channel not in columns:
            continue
        cursor.execute(f"SELECT line, {channel} FROM import_norm WHERE {channel} !~ %s", [E164])
        fixed = []
        for line, value in cursor.fetchall():
            try:
                fixed.append((line, normalize_identity(channel, value)))
            except ValidationError:
                fixed.append((line, f"!{value}"))  # fails the E.164 check below, reported with its line
        if fixed:
            cursor.execute(f"CREATE TEMP TABLE import_fix_{channel} (line bigint, value text) ON COMMIT DROP")
            with cursor.copy(f"COPY import_fix_{channel} (line, value) FROM STDIN") as copy:
                for row in fixed:
                    copy.write_row(row)
            cursor.execute(
                f"UPDATE import_norm n SET {channel} = f.value FROM import_fix_{channel} f WHERE n.line = f.line"
            )


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _in_list(values) -> str:
    return ", ".join(_quote(v) for v in sorted(values))


def _checks(columns) -> list[tuple[str, str]]:
    """(condition, message) pairs in SQL over import_norm; only mapped columns are checked."""
    identity_present = [f"{ch} IS NOT NULL" for ch in IDENTITY_FIELDS if ch in columns]
    if "external_id" in columns:
        identity_present.append("external_id IS NOT NULL")
    checks = [(f"NOT ({' OR '.join(identity_present)})", "'A contact needs at least one identity or an external_id.'")]
    if "lifecycle_stage" in columns:
        stages = ", ".join(LifecycleStage.values)
        checks.append((f"lifecycle_stage NOT IN ({_in_list(LifecycleStage.values)})",
                       f"'lifecycle_stage: ''' || lifecycle_stage || ''' is not one of {stages}.'"))  # fmt: skip
    if "name" in columns:
        checks.append(("length(name) > 255", "'name: at most 255 characters.'"))
    if "timezone" in columns:
        checks.append((f"timezone NOT IN ({_in_list(zoneinfo.available_timezones())})",
                       "'timezone: ''' || timezone || ''' is not an IANA time zone.'"))  # fmt: skip
    for channel in IDENTITY_FIELDS:
        if channel not in columns:
            continue
        if channel == Channel.EMAIL:
            checks.append((f"email !~ {_quote(EMAIL)}", "'email: ''' || email || ''' is not a valid email address.'"))
        elif channel in (Channel.SMS, Channel.WHATSAPP):
            checks.append((f"{channel} !~ {_quote(E164)}",
                           f"'{channel}: ''' || ltrim({channel}, '!') || ''' is not a valid phone number.'"))  # fmt: skip
        checks.append((f"length({channel}) > 255 OR {channel} ~ {_quote(r'\s')}",
                       f"'{channel}: ''' || left({channel}, 50) || ''' is not a valid identity.'"))  # fmt: skip
    statuses = ", ".join(ConsentStatus.values)
    for channel in IDENTITY_FIELDS:
        if CONSENT_PREFIX + channel in columns:
            checks.append((f"{CONSENT_PREFIX}{channel} NOT IN ({_in_list(ConsentStatus.values)})",
                           f"'consent {channel}: ''' || {CONSENT_PREFIX}{channel} || ''' is not one of {statuses}.'"))  # fmt: skip
    # an empty cell (NULL) is not a failure
    return [(f"coalesce({condition}, false)", message) for condition, message in checks]


def _check_rows(cursor, columns) -> None:
    """Per-row checks in one scan; messages are built only for the rows that fail one."""
    checks = _checks(columns)
    failing = " OR ".join(condition for condition, _ in checks)
    values = ", ".join(f"({condition}, {message})" for condition, message in checks)
    cursor.execute(
        "INSERT INTO import_error SELECT n.line, v.message FROM import_norm n "
        f"CROSS JOIN LATERAL (VALUES {values}) v(failed, message) WHERE ({failing}) AND v.failed"
    )


def _check_duplicates(cursor, columns) -> None:
    """A value used by two rows of the file: the later rows are errors (hash aggregate, no sort)."""
    for name in ("external_id", *IDENTITY_FIELDS):
        if name not in columns:
            continue
        cursor.execute(
            "INSERT INTO import_error SELECT n.line, %s || ': same value as line ' || d.first || '.' "
            f"FROM (SELECT {name} AS value, min(line) AS first FROM import_norm WHERE {name} IS NOT NULL "
            f"GROUP BY {name} HAVING count(*) > 1) d JOIN import_norm n ON n.{name} = d.value AND n.line <> d.first",
            [name],
        )


def _resolve_sql(columns, sequence: str) -> str:
    """Rows without errors and the contact each matches (least/greatest skip NULLs: they differ on a clash)."""
    contact = Contact._meta.db_table
    identity = ContactIdentity._meta.db_table
    joins, ids, stored = [], [], []
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
    first, last = f"least({', '.join(ids)})", f"greatest({', '.join(ids)})"
    return (
        "CREATE TEMP TABLE import_rows ON COMMIT DROP AS "
        f"SELECT n.*, {''.join(f'{column}, ' for column in stored)}"
        f"{first} AS first_match, {last} AS last_match, {first} IS NULL AS is_new, "
        f"coalesce({first}, nextval({_quote(sequence)}::regclass)) AS contact_id "
        f"FROM import_norm n {' '.join(joins)} "
        "WHERE NOT EXISTS (SELECT 1 FROM import_error e WHERE e.line = n.line)"
    )


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
    """Matched contacts: update fields, replace identities, upsert consents (history for changes only)."""
    identity = ContactIdentity._meta.db_table
    fields = ("external_id", "name", "timezone", "locale", "lifecycle_stage")
    assigned = {name: f"coalesce(r.{name}, c.{name})" for name in fields} | {
        "attributes": "c.attributes || r.attributes"
    }
    # rows the file does not change are left alone (an UPDATE rewrites the row and all its index entries)
    cursor.execute(
        f"UPDATE {Contact._meta.db_table} c SET "
        + ", ".join(f"{name} = {expr}" for name, expr in assigned.items())
        + ", updated_at = %s FROM import_rows r WHERE c.id = r.contact_id AND NOT r.is_new "
        f"AND ({', '.join(f'c.{name}' for name in assigned)}) IS DISTINCT FROM ({', '.join(assigned.values())})",
        [now],
    )
    if values := _identity_values(columns, unstored=True):
        # an existing contact's identity on a channel is replaced by the imported one
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
            "WHERE cc.status <> EXCLUDED.status RETURNING contact_id, channel, status) "
            f"INSERT INTO {ConsentEvent._meta.db_table} (contact_id, channel, status, source, note, occurred_at) "
            "SELECT contact_id, channel, status, %s, '', %s FROM up",
            [source, now, source, now],
        )


def _write_tags(cursor, columns) -> None:
    if "tags" not in columns:
        return
    cursor.execute(
        "CREATE TEMP TABLE import_tags ON COMMIT DROP AS SELECT DISTINCT r.contact_id, left(btrim(t), 100) AS name "
        "FROM import_rows r CROSS JOIN LATERAL unnest(string_to_array(r.tags, ';')) t WHERE btrim(t) <> ''"
    )
    cursor.execute(
        f"INSERT INTO {Tag._meta.db_table} (name) SELECT DISTINCT name FROM import_tags ON CONFLICT DO NOTHING"
    )
    cursor.execute(
        f"INSERT INTO {Contact.tags.through._meta.db_table} (contact_id, tag_id) SELECT it.contact_id, t.id "
        f"FROM import_tags it JOIN {Tag._meta.db_table} t ON t.name = it.name ON CONFLICT DO NOTHING"
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


# --- export ---------------------------------------------------------------------------------


def contacts_export_csv(*, out: io.TextIOBase, queryset=None, chunk_size: int = 2000) -> int:
    """Write active contacts as CSV in the import format (round-trips); returns the row count."""
    from outreach.selectors import contacts_for_export

    writer = csv.writer(out)
    header = ["external_id", "name", "timezone", "locale", "lifecycle_stage", "tags", *IDENTITY_FIELDS]
    header += [CONSENT_PREFIX + ch for ch in IDENTITY_FIELDS]
    writer.writerow(header)
    count = 0
    for contact in contacts_for_export(queryset=queryset, chunk_size=chunk_size):
        identities = {i.channel: i.value for i in contact.identities.all()}
        consents = {c.channel: c.status for c in contact.consents.all()}
        writer.writerow(
            [
                contact.external_id or "",
                contact.name,
                contact.timezone,
                contact.locale,
                contact.lifecycle_stage,
                ";".join(t.name for t in contact.tags.all()),
                *(identities.get(ch, "") for ch in IDENTITY_FIELDS),
                *(consents.get(ch, "") for ch in IDENTITY_FIELDS),
            ]
        )
        count += 1
    return count
