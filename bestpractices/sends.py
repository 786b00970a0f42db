"""Sends as the engine reads them: one record per send (the file contract's JSON line), folded
into distinct feature cells so a million sends cost a million small integers, not a million dicts.
"""

import multiprocessing
import os
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import orjson

from bestpractices.features import OUTCOMES, InvalidSend, outcome_value, send_features

MISSING = 2  # outcome code of a send whose outcome was not measured


class SendFileError(ValueError):
    """A line of a sends file that cannot be read; names the line."""

    def __init__(self, line_no: int, reason: str):
        super().__init__(f"line {line_no}: {reason}")
        self.line_no, self.reason = line_no, reason

    def __reduce__(self):  # crosses from the parallel readers to the parent process
        return type(self), (self.line_no, self.reason)


@dataclass
class SendTable:
    """Sends folded into cells: `cells[cell_of_send[i]]` is send i's feature tuple."""

    cells: list[tuple] = field(default_factory=list)
    cell_of_send: array = field(default_factory=lambda: array("i"))
    outcomes: dict[str, bytearray] = field(default_factory=dict)  # 0, 1 or MISSING per send
    campaign_of_send: array = field(default_factory=lambda: array("i"))  # -1: none
    experiment_of_send: array = field(default_factory=lambda: array("i"))
    campaign_names: list[str] = field(default_factory=list)
    experiment_names: list[str] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, reason) when not strict
    lines: int = 0  # lines read, blank and skipped ones included

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


class _Counted:
    """Passes lines through, counting them (blank ones too)."""

    def __init__(self, lines):
        self.lines, self._source = 0, lines

    def __iter__(self):
        for line in self._source:
            self.lines += 1
            yield line


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
    counted = _Counted(lines)
    for line_no, record, features in records(counted, strict=strict, skipped=table.skipped):
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
    table.lines = counted.lines
    table.cells = list(cell_ids)
    table.campaign_names, table.experiment_names = list(campaigns), list(experiments)
    return table


READ_BLOCK = 8 << 20
PARALLEL_FROM_BYTES = 32 << 20


def _range_lines(path: str, start: int, stop: int) -> Iterator[bytes]:
    """The lines of bytes [start, stop) of a file, read in blocks (memory stays bounded)."""
    with open(path, "rb") as handle:
        handle.seek(start)
        remaining, tail = stop - start, b""
        while remaining > 0:
            block = handle.read(min(READ_BLOCK, remaining))
            if not block:
                break
            remaining -= len(block)
            lines = (tail + block).split(b"\n")
            tail = lines.pop()
            yield from lines
        if tail:
            yield tail


def _read_range(path: str, start: int, stop: int, strict: bool):
    try:
        return sends_read(_range_lines(path, start, stop), strict=strict)
    except SendFileError as exc:
        return exc


def _bounds(path: str, parts: int) -> list[tuple[int, int]]:
    size = os.path.getsize(path)
    cuts = [0]
    with open(path, "rb") as handle:
        for i in range(1, parts):
            handle.seek(max(cuts[-1], size * i // parts))
            handle.readline()
            cuts.append(min(size, handle.tell()))
    cuts.append(size)
    return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


def sends_read_path(path: str, *, strict: bool = True, workers: int | None = None) -> SendTable:
    """Read a sends file, in parallel worker processes when it is large (one per core, at most
    two); line numbers in errors and skipped lines are the file's own. Workers are spawned, not
    forked: numpy's BLAS threads make a forked child unsafe."""
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if os.path.getsize(path) >= PARALLEL_FROM_BYTES else 1
    if workers <= 1:
        with open(path, "rb") as handle:
            return sends_read(handle, strict=strict)
    ranges = _bounds(path, workers)
    with multiprocessing.get_context("spawn").Pool(len(ranges)) as pool:
        parts = pool.starmap(_read_range, [(path, a, b, strict) for a, b in ranges])
    offset = 0
    for part in parts:
        if isinstance(part, SendFileError):
            raise SendFileError(offset + part.line_no, part.reason)
        part.skipped = [(offset + line, reason) for line, reason in part.skipped]
        offset += part.lines
    return sends_merge(parts)


def _remap(codes: array, local_names: list[str], names: dict[str, int]) -> np.ndarray:
    mapping = np.array([names.setdefault(name, len(names)) for name in local_names] + [-1], dtype=np.int32)
    return mapping[np.frombuffer(codes, dtype=np.int32)]  # -1 (none) picks the trailing -1


def sends_merge(parts: list[SendTable]) -> SendTable:
    """One table of several, in order (cells, campaigns and experiments renumbered)."""
    merged = SendTable()
    cell_ids: dict[tuple, int] = {}
    campaigns: dict[str, int] = {}
    experiments: dict[str, int] = {}
    cells, campaign_codes, experiment_codes = [], [], []
    names = list(dict.fromkeys(name for part in parts for name in part.outcomes))
    columns = {name: [] for name in names}
    for part in parts:
        mapping = np.array([cell_ids.setdefault(cell, len(cell_ids)) for cell in part.cells], dtype=np.int32)
        cells.append(mapping[np.frombuffer(part.cell_of_send, dtype=np.int32)] if len(mapping) else mapping)
        campaign_codes.append(_remap(part.campaign_of_send, part.campaign_names, campaigns))
        experiment_codes.append(_remap(part.experiment_of_send, part.experiment_names, experiments))
        for name in names:
            columns[name].append(part.outcomes.get(name) or bytearray([MISSING]) * part.n_sends)
        merged.skipped.extend(part.skipped)
        merged.lines += part.lines
    merged.cells = list(cell_ids)
    merged.cell_of_send = array("i", np.concatenate(cells).astype(np.int32).tobytes()) if cells else array("i")
    merged.campaign_of_send = array("i", np.concatenate(campaign_codes).astype(np.int32).tobytes())
    merged.experiment_of_send = array("i", np.concatenate(experiment_codes).astype(np.int32).tobytes())
    merged.campaign_names, merged.experiment_names = list(campaigns), list(experiments)
    merged.outcomes = {name: bytearray().join(columns[name]) for name in names}
    return merged
