"""The file contract: sends JSONL in, patterns JSON / predictions JSONL / calibration report out.
No database is touched: `manage.py best_practices` works from files alone.
"""

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import orjson

from bestpractices.engine import Predictor, patterns_extract
from bestpractices.features import InvalidSend, outcome_value
from bestpractices.sends import MISSING, SendTable, records, sends_read, sends_read_path

RELIABILITY_BINS = 10


@contextmanager
def _lines(path: str) -> Iterator:
    if path == "-":
        yield sys.stdin.buffer
        return
    with open(path, "rb") as handle:
        yield handle


@contextmanager
def _atomic_output(path: str):
    """Write to a temporary file beside `path` and move it into place only when complete."""
    target = Path(path)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise


def sends_read_file(path: str, *, strict: bool = True) -> SendTable:
    if path != "-":
        return sends_read_path(path, strict=strict)
    with _lines(path) as lines:
        return sends_read(lines, strict=strict)


def patterns_extract_file(*, input_path: str, output_path: str, strict: bool = True, alpha: float = 0.05) -> dict:
    """Extract patterns from a sends file into a patterns file; returns the patterns document."""
    patterns = patterns_extract(sends_read_file(input_path, strict=strict), alpha=alpha)
    with _atomic_output(output_path) as out:
        out.write(orjson.dumps(patterns, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
    return patterns


def patterns_load(path: str) -> dict:
    with open(path, "rb") as handle:
        try:
            return orjson.loads(handle.read())
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"{path} is not a patterns file: {exc}") from exc


def predictions_write(*, model_path: str, input_path: str, output_path: str, strict: bool = True) -> int:
    """One `{"send_id", "p": {outcome: probability}}` line per send; returns how many."""
    predictor = Predictor(patterns_load(model_path))
    count = 0
    with _lines(input_path) as lines, _atomic_output(output_path) as out:
        for _line_no, record, features in records(lines, strict=strict):
            out.write(orjson.dumps({"send_id": record.get("send_id"), "p": predictor.predict(features)}))
            out.write(b"\n")
            count += 1
    return count


def calibration_report(*, model_path: str, input_path: str, strict: bool = True) -> dict:
    """Brier score of the predictions against the base rate, and a reliability table, per outcome,
    on sends with known outcomes (typically held out from the extraction)."""
    patterns = patterns_load(model_path)
    predictor = Predictor(patterns)
    predicted: dict[str, list[float]] = {}
    observed: dict[str, list[int]] = {}
    with _lines(input_path) as lines:
        for line_no, record, features in records(lines, strict=strict):
            probabilities = predictor.predict(features)
            for outcome, value in (record.get("outcomes") or {}).items():
                try:
                    code = outcome_value(value)
                except InvalidSend as exc:
                    raise ValueError(f"line {line_no}: {exc}") from exc
                if code == MISSING or outcome not in probabilities:
                    continue
                predicted.setdefault(outcome, []).append(probabilities[outcome])
                observed.setdefault(outcome, []).append(code)
    report = {}
    for outcome, p_list in predicted.items():
        p, y = np.array(p_list), np.array(observed[outcome], dtype=float)
        base_rate = patterns["outcomes"].get(outcome, {}).get("rate") or float(y.mean())
        edges = np.unique(np.quantile(p, np.linspace(0, 1, RELIABILITY_BINS + 1)))
        which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, max(0, len(edges) - 2))
        table = []
        for b in range(max(1, len(edges) - 1)):
            in_bin = which == b
            if in_bin.any():
                table.append(
                    {
                        "p_low": float(edges[b]),
                        "p_high": float(edges[min(b + 1, len(edges) - 1)]),
                        "n": int(in_bin.sum()),
                        "predicted": float(p[in_bin].mean()),
                        "observed": float(y[in_bin].mean()),
                    }
                )
        report[outcome] = {
            "n": len(y),
            "brier": float(np.mean((p - y) ** 2)),
            "brier_base_rate": float(np.mean((base_rate - y) ** 2)),
            "base_rate": float(base_rate),
            "expected_calibration_error": float(
                sum(row["n"] * abs(row["predicted"] - row["observed"]) for row in table) / len(y)
            ),
            "reliability": table,
        }
    return report
