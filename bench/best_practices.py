"""Best-practices engine benchmark: extract patterns from 1,000,000 sends (goal: <= 60 s, <= 2 GiB).

    .venv/bin/python bench/best_practices.py [--sends 1000000] [--keep DIR]

Writes a synthetic sends file (bestpractices.synthetic: planted, confounded effects; emails with
bodies of 30-90 words), then runs `manage.py best_practices extract` on it in a child process and
reports its wall time and peak RSS (getrusage of the child, so the generator's memory is not
counted), then `predict` on 100k held-out sends and `evaluate` (Brier vs base rate, reliability).
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bestpractices.synthetic import sends_generate


def write(path: Path, n: int, seed: int) -> None:
    with open(path, "wb") as out:
        for record in sends_generate(n, seed=seed):
            record.pop("_features")
            out.write(orjson.dumps(record) + b"\n")


def run(*args: str) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak RSS MiB of the largest process, output) of one manage.py
    command in a child process (its reader processes included: they are its children)."""
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "best_practices", *args], capture_output=True, text=True, check=True
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return time.perf_counter() - started, cpu, after.ru_maxrss / 1024, done.stderr.strip() + done.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sends", type=int, default=1_000_000)
    parser.add_argument("--held-out", type=int, default=100_000)
    parser.add_argument("--keep", help="directory for the files (default: a temporary one)")
    options = parser.parse_args()
    folder = Path(options.keep or tempfile.mkdtemp(prefix="bench-bp-"))
    folder.mkdir(parents=True, exist_ok=True)
    sends, held_out = folder / "sends.jsonl", folder / "held_out.jsonl"
    if not sends.exists():
        started = time.perf_counter()
        write(sends, options.sends, seed=1)
        write(held_out, options.held_out, seed=2)
        print(
            f"generated {options.sends:,} sends ({sends.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - started:.0f}s"
        )
    print(f"load average before: {os.getloadavg()}")
    seconds, cpu, rss, log = run("extract", "--input", str(sends), "--output", str(folder / "patterns.json"))
    print(f"extract: {seconds:.1f}s wall, {cpu:.1f}s CPU, peak RSS {rss:.0f} MiB (largest process)  [{log}]")
    print(f"load average after: {os.getloadavg()}")
    seconds, _, _, log = run(
        "predict",
        "--model",
        str(folder / "patterns.json"),
        "--input",
        str(held_out),
        "--output",
        str(folder / "pred.jsonl"),
    )
    print(f"predict {options.held_out:,}: {seconds:.1f}s  [{log}]")
    _, _, _, report = run("evaluate", "--model", str(folder / "patterns.json"), "--input", str(held_out))
    print(report)


if __name__ == "__main__":
    main()
