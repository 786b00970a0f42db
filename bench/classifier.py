"""Local inbox classifier benchmark: artefact size, cold load, per-message latency.

    .venv/bin/python bench/classifier.py

Load is measured in fresh interpreters that have set up Django (as a worker has): the
classifier's imports + model file + reply-parser warm-up, and separately the language
detector's model (loaded on first use). Latency is `classify_local`
end to end (HTML/quote stripping, safety rules, both heads, language) per message over the
independent split and a sample of the training set, repeated; p50/p95/max in milliseconds.
Goals: size ≤ 20 MB, load ≤ 1 s, p95 ≤ 5 ms.
"""

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inbox.classifier import MODEL_PATH, classify_local, local_model
from inbox.text import detect_language

# A worker has the project imported already: time what the classifier adds on top of that.
PROJECT = (
    "import os, time, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'madansara.settings'); django.setup()\n"
)
LOAD_MODEL = (
    PROJECT
    + """t = time.perf_counter()
from inbox.classifier import local_model; local_model()
print(time.perf_counter() - t)
"""
)
LOAD_LANGUAGE = (
    PROJECT
    + """from inbox.text import detect_language; t = time.perf_counter()
detect_language("bonjou")
print(time.perf_counter() - t)
"""
)


REPEATS = 5


def cold(script: str, runs: int = 5) -> list[float]:
    return [
        float(
            subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        )
        for _ in range(runs)
    ]


def main() -> None:
    size = MODEL_PATH.stat().st_size
    model_loads = cold(LOAD_MODEL)
    language_loads = cold(LOAD_LANGUAGE)
    local_model(), detect_language("warm")
    rows = [json.loads(line) for line in (ROOT / "inbox/data/eval/independent.jsonl").open(encoding="utf-8")]
    train = [json.loads(line) for line in (ROOT / "inbox/data/train.jsonl").open(encoding="utf-8")]
    texts = [r["text"] for r in rows] + [r["text"] for r in train[::10]]
    timings = []
    for _ in range(REPEATS):
        for text in texts:
            started = time.perf_counter()
            classify_local(text)
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95)]
    print(f"model file: {size / 1e6:.2f} MB (goal ≤ 20 MB)")
    print(f"cold load, model: median {statistics.median(model_loads):.3f} s, max {max(model_loads):.3f} s (goal ≤ 1 s)")
    print(
        f"cold load, language detector: median {statistics.median(language_loads):.3f} s, max {max(language_loads):.3f} s"
    )
    print(
        f"classify_local over {len(texts)} messages × {REPEATS}: p50 {statistics.median(timings):.2f} ms, "
        f"p95 {p95:.2f} ms, max {timings[-1]:.2f} ms (goal p95 ≤ 5 ms)"
    )


if __name__ == "__main__":
    main()
