"""Sends as the engine reads them: one record per send (the file contract's JSON line), folded
into distinct feature cells so a million sends cost a million small integers, not a million dicts.
"""

from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import orjson

from bestpractices.features import OUTCOMES, InvalidSend, outcome_value, send_features

MISSING = 2  # outcome code of a send whose outcome was not measured


class SendFileError(ValueError):
    """A line of a sends file that cannot be read; names the line."""

    def __init__(self, line_no: int, reason: str):
        super().__init__(f"line {line_no}: {reason}")
        self.line_no, self.reason = line_no, reason


@dataclass
class SendTable:
    """Sends folded into cells: `cells[cell_of_send[i]]` is send i's feature tuple."""

    cells: list[tuple] = field(default_factory=list)
    cell_of_send: array = field(default_factory=lambda: array("i"))
    outcomes: dict[str, bytearray] = field(default_factory=dict)  # 0, 1 or MISSING per send
    campaign_of_send: array = field(default_factory=lambda: array("i"))  # -1: none
    experiment_of_send: array = field(default_factory=lambda: array("i"))
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, reason) when not strict

    @property
    def n_sends(self) -> int:
        return len(self.cell_of_send)


def _code(codes: dict, value) -> int:
    if value is None or value == "":
        return -1
    key = str(value)
    code = codes.get(key)
    if code is None:
        code = codes[key] = len(codes)
    return code


def parse_record(line: bytes | str, line_no: int) -> dict:
    """One JSON line as a send record, or SendFileError naming the line."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise SendFileError(line_no, f"not valid JSON ({exc})") from exc
    if not isinstance(record, dict):
        raise SendFileError(line_no, "a send must be a JSON object")
    return record


def records(lines: Iterable[bytes | str | dict], *, strict: bool = True, skipped: list | None = None) -> Iterator:
    """(line number, record, features) of each non-blank line; bad lines raise or are skipped."""
    for line_no, line in enumerate(lines, 1):
        if not isinstance(line, dict) and not line.strip():
            continue
        try:
            record = line if isinstance(line, dict) else parse_record(line, line_no)
            yield line_no, record, send_features(record)
        except (SendFileError, InvalidSend) as exc:
            error = exc if isinstance(exc, SendFileError) else SendFileError(line_no, str(exc))
            if strict:
                raise error from exc
            if skipped is not None:
                skipped.append((error.line_no, error.reason))


def sends_read(lines: Iterable[bytes | str | dict], *, strict: bool = True) -> SendTable:
    """Read send records (JSON lines or dicts) into a SendTable."""
    table = SendTable()
    cell_ids: dict[tuple, int] = {}
    campaigns: dict[str, int] = {}
    experiments: dict[str, int] = {}
    outcome_columns = table.outcomes
    for name in OUTCOMES:
        outcome_columns[name] = bytearray()
    append_cell = table.cell_of_send.append
    append_campaign = table.campaign_of_send.append
    append_experiment = table.experiment_of_send.append
    n = 0
    for line_no, record, features in records(lines, strict=strict, skipped=table.skipped):
        outcomes = record.get("outcomes") or {}
        if not isinstance(outcomes, dict):
            error = SendFileError(line_no, "outcomes must be an object")
            if strict:
                raise error
            table.skipped.append((line_no, error.reason))
            continue
        try:
            values = {name: outcome_value(value) for name, value in outcomes.items()}
        except InvalidSend as exc:
            if strict:
                raise SendFileError(line_no, str(exc)) from exc
            table.skipped.append((line_no, str(exc)))
            continue
        for name in values.keys() - outcome_columns.keys():
            outcome_columns[name] = bytearray([MISSING]) * n
        for name, column in outcome_columns.items():
            column.append(values.get(name, MISSING))
        cell = cell_ids.get(features)
        if cell is None:
            cell = cell_ids[features] = len(cell_ids)
        append_cell(cell)
        append_campaign(_code(campaigns, record.get("campaign", record.get("campaign_id"))))
        append_experiment(_code(experiments, record.get("experiment", record.get("experiment_id"))))
        n += 1
    table.cells = list(cell_ids)
    return table
